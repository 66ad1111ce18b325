"""Pulumi resources for Nodion's Container Registries API.

    import nodion_pulumi as nodion

    fra = nodion.get_nodion_registry("fra")
    creds = nodion.RegistryCredentials("fra-push", registry_id=fra.id)
    hub = nodion.ContainerRegistry("hub", name="Docker Hub", registry_type="docker_hub",
                                   username="me", password=config.require_secret("hubToken"))

The client (``NodionClient``), models and errors are exported too, for scripts and tests.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from nodion_pulumi._version import __version__ as __version__

# The public names, each imported from the module that defines it. This block is the one
# list of them: type checkers read it, and at run time `_public_names` reads the same
# statements from this file, so a name added here is public everywhere and a name missing
# here is public nowhere. Each name is imported on first use: the engine's provider process
# imports this package to unpickle a provider, and should not load httpx and pydantic
# before the first API call (a preview or an `up` without changes makes none).
# `from nodion_pulumi import X` and `nodion_pulumi.X` work exactly as eager imports would.
if TYPE_CHECKING:
    from nodion_pulumi._client import NodionClient as NodionClient
    from nodion_pulumi._config import DEFAULT_API_URL as DEFAULT_API_URL
    from nodion_pulumi._config import Settings as Settings
    from nodion_pulumi._config import resolve_settings as resolve_settings
    from nodion_pulumi._errors import APIError as APIError
    from nodion_pulumi._errors import AuthenticationError as AuthenticationError
    from nodion_pulumi._errors import BadRequestError as BadRequestError
    from nodion_pulumi._errors import ConfigurationError as ConfigurationError
    from nodion_pulumi._errors import CredentialsAlreadyExistError as CredentialsAlreadyExistError
    from nodion_pulumi._errors import CredentialsLostError as CredentialsLostError
    from nodion_pulumi._errors import InvalidRegistryIdError as InvalidRegistryIdError
    from nodion_pulumi._errors import MethodNotAllowedError as MethodNotAllowedError
    from nodion_pulumi._errors import NoCredentialsError as NoCredentialsError
    from nodion_pulumi._errors import NodionConnectionError as NodionConnectionError
    from nodion_pulumi._errors import NodionError as NodionError
    from nodion_pulumi._errors import NodionTimeoutError as NodionTimeoutError
    from nodion_pulumi._errors import NoSuchRegionError as NoSuchRegionError
    from nodion_pulumi._errors import NotFoundError as NotFoundError
    from nodion_pulumi._errors import NotNodionRegistryError as NotNodionRegistryError
    from nodion_pulumi._errors import PermissionDeniedError as PermissionDeniedError
    from nodion_pulumi._errors import RateLimitError as RateLimitError
    from nodion_pulumi._errors import RegistryCreateLostError as RegistryCreateLostError
    from nodion_pulumi._errors import ServerError as ServerError
    from nodion_pulumi._errors import UnexpectedResponseError as UnexpectedResponseError
    from nodion_pulumi._facts import ExternalRegistryType as ExternalRegistryType
    from nodion_pulumi._facts import RegistryType as RegistryType
    from nodion_pulumi._models import Credentials as Credentials
    from nodion_pulumi._retry import NO_RETRY as NO_RETRY
    from nodion_pulumi._retry import RetryPolicy as RetryPolicy
    from nodion_pulumi.container_registry import ContainerRegistry as ContainerRegistry
    from nodion_pulumi.container_registry import ContainerRegistryArgs as ContainerRegistryArgs
    from nodion_pulumi.lookups import Registry as Registry
    from nodion_pulumi.lookups import get_container_registries as get_container_registries
    from nodion_pulumi.lookups import (
        get_container_registries_output as get_container_registries_output,
    )
    from nodion_pulumi.lookups import get_container_registry as get_container_registry
    from nodion_pulumi.lookups import (
        get_container_registry_output as get_container_registry_output,
    )
    from nodion_pulumi.lookups import get_nodion_registry as get_nodion_registry
    from nodion_pulumi.lookups import get_nodion_registry_output as get_nodion_registry_output
    from nodion_pulumi.registry_credentials import RegistryCredentials as RegistryCredentials
    from nodion_pulumi.registry_credentials import (
        RegistryCredentialsArgs as RegistryCredentialsArgs,
    )

# Modules that an eager import used to make attributes of the package.
_SUBMODULES = frozenset({"container_registry", "lookups", "registry_credentials"})

_public: dict[str, str] | None = None


def _public_names() -> dict[str, str]:
    """Each public name and the module that defines it, read from the imports above.

    Parsed on the first use of a public name, not at import: the provider process that
    only unpickles a provider never pays for it.
    """
    global _public
    if _public is None:
        import ast

        source = __loader__.get_source(__name__)  # type: ignore[name-defined]
        [block] = [
            node
            for node in ast.parse(source).body
            if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING"
        ]
        _public = {
            alias.asname or alias.name: str(statement.module)
            for statement in block.body
            if isinstance(statement, ast.ImportFrom)
            for alias in statement.names
        }
    return _public


def _import_on_first_use(name: str) -> Any:
    if name == "__all__":
        value: Any = sorted({"__version__", *_public_names()})
    elif name in _SUBMODULES:
        value = importlib.import_module(f"{__name__}.{name}")
    elif not name.startswith("__") and name in _public_names():
        value = getattr(importlib.import_module(_public_names()[name]), name)
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_public_names()})


# Only at run time: a type checker that saw a module `__getattr__` would take any misspelt
# name for a valid one.
if not TYPE_CHECKING:
    __getattr__ = _import_on_first_use
