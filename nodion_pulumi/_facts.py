"""Facts about Nodion's registries and hosts that several parts of the package rely on.

The client, the input checks, the models, the command line and the emulator must agree on
what a registry id looks like, which registry types exist, which hostname a type defaults
to, how a Nodion registry's hostname names its region, and which hosts are this machine.
A second copy of any of these drifts: the emulator would then accept what the provider
refuses, or a check at preview would pass a value the client later rejects. So each is
stated here once and imported everywhere else.

Standard library only: the engine's provider process, the emulator and the command line
import this without loading httpx or pydantic.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from types import MappingProxyType
from typing import Final, Literal, TypeGuard, get_args

__all__ = [
    "CONTAINER_REGISTRY_TYPE",
    "DEFAULT_HOSTNAMES",
    "EXTERNAL_REGISTRY_TYPES",
    "NODION_REGISTRY_TYPE",
    "PLUGIN_PACKAGE",
    "REFRESH_WITH_PROGRAM",
    "REGISTRY_CREDENTIALS_TYPE",
    "REGISTRY_ID_RULE",
    "REGISTRY_TYPES",
    "RESOURCE_MODULE",
    "ExternalRegistryType",
    "RegistryType",
    "is_loopback_host",
    "is_registry_id",
    "nodion_registry_hostname",
    "region_slug_of",
    "resource_class_name",
]

ExternalRegistryType = Literal["docker_hub", "ghcr", "custom"]
"""The registry types a project can create, update and delete through the API."""

RegistryType = Literal["nodion", ExternalRegistryType]
"""Every registry type the API reports; ``nodion`` registries are Nodion's own, one per region."""

NODION_REGISTRY_TYPE: Final = "nodion"
REGISTRY_TYPES: tuple[RegistryType, ...] = get_args(RegistryType)
EXTERNAL_REGISTRY_TYPES: tuple[ExternalRegistryType, ...] = get_args(ExternalRegistryType)

# The Pulumi type tokens of the two dynamic resources. They are written into every state
# file and matched by the policy pack, the checkpoints and the tools that read stacks, so
# the resource classes derive their registration from these and everything else imports
# them. A change here is a change of the state contract.
RESOURCE_MODULE: Final = "nodion"
CONTAINER_REGISTRY_TYPE: Final = f"pulumi-python:dynamic/{RESOURCE_MODULE}:ContainerRegistry"
REGISTRY_CREDENTIALS_TYPE: Final = f"pulumi-python:dynamic/{RESOURCE_MODULE}:RegistryCredentials"

# The provider plugin's package name (DESIGN 9): the prefix of its resources' and functions'
# tokens, and of its configuration keys (the same ``nodion:*`` keys as above).
PLUGIN_PACKAGE: Final = "nodion"

# Not documented by Nodion; what Docker clients assume for these registries.
DEFAULT_HOSTNAMES: Mapping[str, str] = MappingProxyType(
    {"docker_hub": "docker.io", "ghcr": "ghcr.io"}
)

# Unreserved URL characters only: an id goes into a request path, and nothing in it may
# change that path or add a query.
_REGISTRY_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._~-]{0,127}")
REGISTRY_ID_RULE = "letters, digits, '-', '_', '.' or '~', at most 128 characters"
"""The rule of :func:`is_registry_id` in words, for messages that say what would be valid."""

# A plain `pulumi refresh` runs providers with the configuration recorded at the last `up`
# (Pulumi's rule for every provider); this one reads the stack's configuration as it is now.
REFRESH_WITH_PROGRAM: Final = "pulumi refresh --run-program"

_NODION_HOSTNAME = re.compile(r"registry\.([a-z0-9](?:[a-z0-9-]*[a-z0-9])?)\.nodion\.net")


def is_registry_id(value: object) -> TypeGuard[str]:
    """Whether ``value`` can be a registry id, and so be placed in a request path as is."""
    return isinstance(value, str) and _REGISTRY_ID.fullmatch(value) is not None


def resource_class_name(type_token: str) -> str:
    """The ``name`` a ``pulumi.dynamic.Resource`` subclass declares to register as
    ``type_token``: the SDK builds the token from the class's ``module`` and ``name``."""
    return type_token.rpartition(":")[2]


def nodion_registry_hostname(region_slug: str) -> str:
    """Where a region's Nodion registry is reached; Docker clients and image names use it,
    so the emulator serves its registries under the same names."""
    return f"registry.{region_slug}.nodion.net"


def region_slug_of(hostname: str) -> str | None:
    """The region slug a Nodion registry's hostname names, or None for any other host.

    Registry names are display text that differs between Nodion's documents; the hostname
    is the stable way to tell which region a Nodion registry serves.
    """
    match = _NODION_HOSTNAME.fullmatch(hostname.strip().lower().rstrip("."))
    return match.group(1) if match else None


def is_loopback_host(host: str) -> bool:
    """Whether ``host`` names this machine: exactly ``127.0.0.0/8``, ``localhost`` and
    ``::1`` (bracketed or not), the one place plain HTTP cannot be intercepted and the only
    place an emulator without real security may listen by default.

    Nothing wider: a name under ``.localhost`` or with a trailing dot may be asked of DNS,
    and an IPv4-mapped IPv6 address is a spelling other tools read differently. Every
    loopback rule of the package (the API URL, the registry check, the emulator's bind
    address) calls this one definition.
    """
    if host.lower() == "localhost":
        return True
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
        if ":" not in host:
            return False  # brackets hold IPv6 only
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address):
        return address == ipaddress.IPv6Address("::1")
    return address in _IPV4_LOOPBACK


_IPV4_LOOPBACK = ipaddress.IPv4Network("127.0.0.0/8")
