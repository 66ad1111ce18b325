"""The benchmark's stack: external registries plus credentials of Nodion registries.

Configuration (set by ``python -m benchmarks``):
- ``provider``: ``nodion`` (the package's resources) or ``noop`` (the floor, same shape);
- ``externals``: how many external registries to declare (Docker Hub, GHCR and custom in turn);
- ``registryIds``: JSON list of Nodion registry ids, one ``RegistryCredentials`` each (given
  here rather than looked up, so that the program itself makes no HTTP request);
- ``password`` (secret): the login password of every external registry.
"""

import json
from typing import Literal

import pulumi

config = pulumi.Config()
provider = config.require("provider")
externals = config.require_int("externals")
registry_ids = json.loads(config.require("registryIds"))
password = config.require_secret("password")

if provider == "nodion":
    from nodion_pulumi import ContainerRegistry as Registry
    from nodion_pulumi import RegistryCredentials as Credentials
elif provider == "noop":
    from benchmarks.noop_provider import NoopCredentials as Credentials  # type: ignore[assignment]
    from benchmarks.noop_provider import NoopRegistry as Registry  # type: ignore[assignment]
else:
    raise ValueError(f"provider must be 'nodion' or 'noop', got {provider!r}")

KINDS: tuple[tuple[Literal["docker_hub", "ghcr", "custom"], str | None], ...] = (
    ("docker_hub", None),
    ("ghcr", None),
    ("custom", "registry.example.com:5000"),
)

for index in range(externals):
    registry_type, hostname = KINDS[index % len(KINDS)]
    Registry(
        f"registry-{index:03d}",
        name=f"Bench registry {index}",
        registry_type=registry_type,
        hostname=hostname,
        username=f"bench-user-{index}",
        password=password,
    )

for index, registry_id in enumerate(registry_ids):
    Credentials(f"credentials-{index:02d}", registry_id=registry_id)
