import pulumi

import nodion_pulumi as nodion

hub = nodion.ContainerRegistry("hub", name="Docker Hub", registry_type="docker_hub")
fra = nodion.get_nodion_registry("fra")
push = nodion.RegistryCredentials("fra-push", registry_id=fra.id)
pulumi.export("hub", hub.id)
