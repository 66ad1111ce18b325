"""Exports lookup results as a user would first try: as they are, plain and as Outputs."""

import pulumi

import nodion_pulumi as nodion

pulumi.export("fra", nodion.get_nodion_registry("fra"))
pulumi.export("nbg", nodion.get_nodion_registry_output(pulumi.Output.from_input("nbg")))
pulumi.export("all", nodion.get_container_registries())
pulumi.export("fra_hostname", nodion.get_nodion_registry("fra").hostname)
