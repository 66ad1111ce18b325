import pulumi

import nodion_pulumi as nodion

fra = nodion.get_nodion_registry("fra")
protect = pulumi.ResourceOptions(protect=True)
push = nodion.RegistryCredentials("fra-push", registry_id=fra.id, opts=protect)
pull = nodion.RegistryCredentials("fra-pull", registry_id=fra.id, opts=protect)
pulumi.export("registry", fra.hostname)
