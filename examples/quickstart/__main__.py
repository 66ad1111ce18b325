"""Quickstart: push/pull credentials for one region's Nodion registry, and two external
registries (Docker Hub and GHCR) whose tokens come from secret stack configuration.

The region comes from the ``region`` config value, default ``fra`` (Frankfurt). Each example
defaults to a region of its own (examples/kubernetes ``nbg``) because a Nodion registry has
exactly one set of credentials, owned by one stack: two stacks on one region collide. Beside
a project of your own that already holds ``fra``'s credentials, choose another region:

    pulumi config set region ams
    pulumi config set --secret dockerHubToken <token>
    pulumi config set --secret ghcrToken <token>
    pulumi up
"""

import pulumi

import nodion_pulumi as nodion

DEFAULT_REGION = "fra"

config = pulumi.Config()
region = config.get("region") or DEFAULT_REGION

# Nodion creates one registry per region; look it up instead of creating it.
registry = nodion.get_nodion_registry(region)

credentials = nodion.RegistryCredentials(
    f"{region}-push",
    registry_id=registry.id,
    opts=pulumi.ResourceOptions(protect=config.get_bool("protectCredentials") or False),
)

docker_hub = nodion.ContainerRegistry(
    "docker-hub",
    name="Docker Hub",
    registry_type="docker_hub",
    username=config.get("dockerHubUser") or "nodion-quickstart",
    password=config.require_secret("dockerHubToken"),
)

ghcr = nodion.ContainerRegistry(
    "ghcr",
    nodion.ContainerRegistryArgs(
        name="GitHub Container Registry",
        registry_type="ghcr",
        username=config.get("ghcrUser") or "nodion-quickstart",
        password=config.require_secret("ghcrToken"),
    ),
)

pulumi.export("region", region)
pulumi.export("registryId", credentials.id)
pulumi.export("registryHostname", credentials.hostname)
pulumi.export("registryUsername", credentials.username)
pulumi.export("registryPassword", credentials.password)
pulumi.export("dockerConfigJson", credentials.docker_config_json)
pulumi.export(
    "dockerLogin",
    pulumi.Output.concat(
        "docker login ", credentials.hostname, " -u '", credentials.username, "' --password-stdin"
    ),
)
pulumi.export("dockerHubRegistryId", docker_hub.id)
pulumi.export("ghcrRegistryId", ghcr.id)
pulumi.export("ghcrHostname", ghcr.hostname)
