"""Pulumi resources for Nodion's Container Registries API.

    import nodion_pulumi as nodion

    fra = nodion.get_nodion_registry("fra")
    creds = nodion.RegistryCredentials("fra-push", registry_id=fra.id)
    hub = nodion.ContainerRegistry("hub", name="Docker Hub", registry_type="docker_hub",
                                   username="me", password=config.require_secret("hubToken"))

The client (``NodionClient``), models and errors are exported too, for scripts and tests.
"""

from nodion_pulumi._client import NodionClient
from nodion_pulumi._config import DEFAULT_API_URL, Settings, resolve_settings
from nodion_pulumi._errors import (
    APIError,
    AuthenticationError,
    BadRequestError,
    ConfigurationError,
    InvalidRegistryIdError,
    NodionConnectionError,
    NodionError,
    NodionTimeoutError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    ServerError,
    UnexpectedResponseError,
)
from nodion_pulumi._models import Credentials, Registry, RegistryType
from nodion_pulumi._retry import NO_RETRY, RetryPolicy
from nodion_pulumi._version import __version__
from nodion_pulumi.container_registry import ContainerRegistry, ContainerRegistryArgs
from nodion_pulumi.lookups import (
    NoSuchRegionError,
    get_container_registries,
    get_container_registries_output,
    get_container_registry,
    get_container_registry_output,
    get_nodion_registry,
    get_nodion_registry_output,
)
from nodion_pulumi.registry_credentials import (
    CredentialsAlreadyExistError,
    RegistryCredentials,
    RegistryCredentialsArgs,
)

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
    "InvalidRegistryIdError",
    "NoSuchRegionError",
    "NodionClient",
    "NodionConnectionError",
    "NodionError",
    "NodionTimeoutError",
    "NotFoundError",
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
