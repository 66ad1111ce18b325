"""Cross-stack: another stack (say, another team's project) reads the push credentials the
quickstart captured, through a StackReference, and registers them as a `custom` registry so
that its own deployments can pull from that Nodion registry.

    pulumi config set credentialsStack organization/nodion-quickstart/dev
    pulumi up

The password arrives as a secret and stays one: in this stack's state, in its outputs and
in the registry's inputs. It captures no credentials of its own, so it has no ``region``
setting: the registry is the one of the quickstart stack it reads (``region`` output).
"""

import pulumi

import nodion_pulumi as nodion

config = pulumi.Config()
source = pulumi.StackReference(config.require("credentialsStack"))

registry = nodion.ContainerRegistry(
    "nodion-registry",
    name=pulumi.Output.concat("Nodion registry ", source.require_output("region")),
    registry_type="custom",
    hostname=source.require_output("registryHostname"),
    username=source.require_output("registryUsername"),
    password=source.require_output("registryPassword"),
)

pulumi.export("registryId", registry.id)
pulumi.export("hostname", registry.hostname)
pulumi.export("hasCredentials", registry.has_credentials)
