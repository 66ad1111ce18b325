"""Pulumi resources for Nodion's Container Registries API.

    import nodion_pulumi as nodion

    fra = nodion.get_nodion_registry("fra")
    creds = nodion.RegistryCredentials("fra-push", registry_id=fra.id)
    hub = nodion.ContainerRegistry("hub", name="Docker Hub", registry_type="docker_hub",
                                   username="me", password=config.require_secret("hubToken"))

The client (``NodionClient``), models and errors are exported too, for scripts and tests.
"""

import importlib
from typing import TYPE_CHECKING, Any

from nodion_pulumi._version import __version__

if TYPE_CHECKING:
    from nodion_pulumi._client import NodionClient
    from nodion_pulumi._config import DEFAULT_API_URL, Settings, resolve_settings
    from nodion_pulumi._errors import (
        APIError,
        AuthenticationError,
        BadRequestError,
        ConfigurationError,
        CredentialsAlreadyExistError,
        CredentialsLostError,
        InvalidRegistryIdError,
        NoCredentialsError,
        NodionConnectionError,
        NodionError,
        NodionTimeoutError,
        NoSuchRegionError,
        NotFoundError,
        NotNodionRegistryError,
        PermissionDeniedError,
        RateLimitError,
        ServerError,
        UnexpectedResponseError,
    )
    from nodion_pulumi._facts import ExternalRegistryType, RegistryType
    from nodion_pulumi._models import Credentials
    from nodion_pulumi._retry import NO_RETRY, RetryPolicy
    from nodion_pulumi.container_registry import ContainerRegistry, ContainerRegistryArgs
    from nodion_pulumi.lookups import (
        Registry,
        get_container_registries,
        get_container_registries_output,
        get_container_registry,
        get_container_registry_output,
        get_nodion_registry,
        get_nodion_registry_output,
    )
    from nodion_pulumi.registry_credentials import RegistryCredentials, RegistryCredentialsArgs

# Where each public name lives. Names are imported on first use: the engine's provider
# process imports this package to unpickle a provider, and should not load httpx and
# pydantic before the first API call (a preview or an `up` without changes makes none).
# `from nodion_pulumi import X` and `nodion_pulumi.X` work exactly as eager imports would.
_EXPORTS: dict[str, str] = {
    "NodionClient": "nodion_pulumi._client",
    "DEFAULT_API_URL": "nodion_pulumi._config",
    "Settings": "nodion_pulumi._config",
    "resolve_settings": "nodion_pulumi._config",
    "APIError": "nodion_pulumi._errors",
    "AuthenticationError": "nodion_pulumi._errors",
    "BadRequestError": "nodion_pulumi._errors",
    "ConfigurationError": "nodion_pulumi._errors",
    "CredentialsAlreadyExistError": "nodion_pulumi._errors",
    "CredentialsLostError": "nodion_pulumi._errors",
    "InvalidRegistryIdError": "nodion_pulumi._errors",
    "NoCredentialsError": "nodion_pulumi._errors",
    "NoSuchRegionError": "nodion_pulumi._errors",
    "NodionConnectionError": "nodion_pulumi._errors",
    "NodionError": "nodion_pulumi._errors",
    "NodionTimeoutError": "nodion_pulumi._errors",
    "NotFoundError": "nodion_pulumi._errors",
    "NotNodionRegistryError": "nodion_pulumi._errors",
    "PermissionDeniedError": "nodion_pulumi._errors",
    "RateLimitError": "nodion_pulumi._errors",
    "ServerError": "nodion_pulumi._errors",
    "UnexpectedResponseError": "nodion_pulumi._errors",
    "ExternalRegistryType": "nodion_pulumi._facts",
    "RegistryType": "nodion_pulumi._facts",
    "Credentials": "nodion_pulumi._models",
    "Registry": "nodion_pulumi.lookups",
    "NO_RETRY": "nodion_pulumi._retry",
    "RetryPolicy": "nodion_pulumi._retry",
    "ContainerRegistry": "nodion_pulumi.container_registry",
    "ContainerRegistryArgs": "nodion_pulumi.container_registry",
    "get_container_registries": "nodion_pulumi.lookups",
    "get_container_registries_output": "nodion_pulumi.lookups",
    "get_container_registry": "nodion_pulumi.lookups",
    "get_container_registry_output": "nodion_pulumi.lookups",
    "get_nodion_registry": "nodion_pulumi.lookups",
    "get_nodion_registry_output": "nodion_pulumi.lookups",
    "RegistryCredentials": "nodion_pulumi.registry_credentials",
    "RegistryCredentialsArgs": "nodion_pulumi.registry_credentials",
}

__all__ = [
    "DEFAULT_API_URL",
    "NO_RETRY",
    "APIError",
    "AuthenticationError",
    "BadRequestError",
    "ConfigurationError",
    "ContainerRegistry",
    "ContainerRegistryArgs",
    "Credentials",
    "CredentialsAlreadyExistError",
    "CredentialsLostError",
    "ExternalRegistryType",
    "InvalidRegistryIdError",
    "NoCredentialsError",
    "NoSuchRegionError",
    "NodionClient",
    "NodionConnectionError",
    "NodionError",
    "NodionTimeoutError",
    "NotFoundError",
    "NotNodionRegistryError",
    "PermissionDeniedError",
    "RateLimitError",
    "Registry",
    "RegistryCredentials",
    "RegistryCredentialsArgs",
    "RegistryType",
    "RetryPolicy",
    "ServerError",
    "Settings",
    "UnexpectedResponseError",
    "__version__",
    "get_container_registries",
    "get_container_registries_output",
    "get_container_registry",
    "get_container_registry_output",
    "get_nodion_registry",
    "get_nodion_registry_output",
    "resolve_settings",
]


# Modules that an eager import used to make attributes of the package.
_SUBMODULES = frozenset({"container_registry", "lookups", "registry_credentials"})


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is not None:
        value = getattr(importlib.import_module(module), name)
    elif name in _SUBMODULES:
        value = importlib.import_module(f"{__name__}.{name}")
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
