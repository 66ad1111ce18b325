import pulumi

import nodion_pulumi as nodion

config = pulumi.Config()
ghcr = nodion.ContainerRegistry(
    "ghcr",
    name="GitHub packages",
    registry_type="ghcr",
    username="ci-bot",
    password=config.require_secret("ghcrToken"),
)
mirror = nodion.ContainerRegistry(
    "mirror",
    name="Mirror",
    registry_type="custom",
    hostname="Registry.Evil.example:5000",
    username="ci-bot",
    password=config.require_secret("mirrorPassword"),
)
pulumi.export("ghcr", ghcr.id)
pulumi.export("mirror", mirror.id)
