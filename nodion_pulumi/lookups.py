"""Read-only lookups of registries, for use inside Pulumi programs.

Each lookup is a plain function (call it with plain values) with an ``_output`` twin that
takes Inputs and returns an Output, the pair Pulumi's generated SDKs offer. They read the
same configuration as the resources: ``nodion:*`` stack config, then ``NODION_*``
variables. Lookups only read, so they run during preview too.

They return :class:`Registry`, a Pulumi output type like the results of generated SDKs'
``get_x()`` functions, not the client's model: ``pulumi.export("fra", get_nodion_registry("fra"))``
must show an object, and the SDK exports only plain values (the client's ``datetime``
timestamps and its pydantic model are neither).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

import pulumi

from nodion_pulumi import _models
from nodion_pulumi._advice import advise
from nodion_pulumi._client import NodionClient
from nodion_pulumi._config import CONFIG_KEYS
from nodion_pulumi._errors import NodionError, NoSuchRegionError
from nodion_pulumi._facts import NODION_REGISTRY_TYPE, region_slug_of
from nodion_pulumi._region_lookup import nodion_registry_for
from nodion_pulumi._runtime import current

__all__ = [
    "NoSuchRegionError",
    "Registry",
    "get_container_registries",
    "get_container_registries_output",
    "get_container_registry",
    "get_container_registry_output",
    "get_nodion_registry",
    "get_nodion_registry_output",
]

P = ParamSpec("P")
T = TypeVar("T")


@pulumi.output_type
class Registry:
    """A container registry as a lookup returns it: the fields of Nodion's registry object,
    read-only, timestamps as ISO 8601 strings with milliseconds and offset (as Nodion sends
    them). Exportable as it is: ``pulumi.export`` shows it as an object."""

    def __init__(self, registry: _models.Registry) -> None:
        """The lookup result for a registry the client read: each of its fields, the
        timestamps written as Nodion writes them."""
        for key, value in registry.as_output().items():
            pulumi.set(self, key, value)

    def __setattr__(self, name: str, value: Any) -> None:
        # What a lookup read is Nodion's answer; a program that changes it would export
        # or pass on a registry that does not exist.
        raise AttributeError(f"Registry is read-only: cannot set {name!r}")

    def __hash__(self) -> int:
        # Equal results (the SDK compares output types by their fields) hash alike.
        return hash(tuple(vars(self).items()))

    def __repr__(self) -> str:
        fields = ", ".join(f"{key}={value!r}" for key, value in vars(self).items())
        return f"Registry({fields})"

    @property
    @pulumi.getter
    def id(self) -> str:
        """Nodion's id of the registry, e.g. for ``RegistryCredentials(registry_id=...)``."""
        return str(pulumi.get(self, "id"))

    @property
    @pulumi.getter
    def status(self) -> str:
        """The registry's status as Nodion reports it, e.g. ``available``."""
        return str(pulumi.get(self, "status"))

    @property
    @pulumi.getter
    def registry_type(self) -> str:
        """``nodion`` for Nodion's own registries, else ``docker_hub``, ``ghcr`` or
        ``custom`` (kept as given when Nodion adds a type)."""
        return str(pulumi.get(self, "registry_type"))

    @property
    @pulumi.getter
    def name(self) -> str:
        """Display name; it differs between Nodion's documents, so never match by it."""
        return str(pulumi.get(self, "name"))

    @property
    @pulumi.getter
    def hostname(self) -> str:
        """Host (and optional port) Docker clients log in to and prefix image names with."""
        return str(pulumi.get(self, "hostname"))

    @property
    @pulumi.getter
    def has_credentials(self) -> bool:
        """Whether Nodion holds a login for this registry."""
        return bool(pulumi.get(self, "has_credentials"))

    @property
    @pulumi.getter
    def region_id(self) -> str | None:
        """Id of the registry's region, or None (external registries usually have none)."""
        value = pulumi.get(self, "region_id")
        return None if value is None else str(value)

    @property
    @pulumi.getter
    def created_at(self) -> str:
        """When Nodion created the registry: ISO 8601 with milliseconds and offset."""
        return str(pulumi.get(self, "created_at"))

    @property
    @pulumi.getter
    def updated_at(self) -> str:
        """When Nodion last changed the registry: ISO 8601 with milliseconds and offset."""
        return str(pulumi.get(self, "updated_at"))

    @property
    def is_nodion(self) -> bool:
        """Whether Nodion manages this registry (one per region; credentials via the API)."""
        return self.registry_type == NODION_REGISTRY_TYPE

    @property
    def region_slug(self) -> str | None:
        """The region slug in a ``registry.<slug>.nodion.net`` hostname, else None."""
        return region_slug_of(self.hostname)


def _client() -> NodionClient:
    """The process's client for the program's settings: lookups share its connections with
    each other and with any provider of the same process."""
    config = {key: pulumi.runtime.get_config(key) for key in CONFIG_KEYS}
    return current().client(config)


def _advised(lookup: Callable[P, T]) -> Callable[P, T]:
    """``lookup`` with Pulumi advice on any error it raises: a lookup is where an error
    leaves this package towards a Pulumi program."""

    @functools.wraps(lookup)
    def advised(*args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return lookup(*args, **kwargs)
        except NodionError as error:
            advise(error)
            raise

    return advised


@_advised
def get_container_registries() -> list[Registry]:
    """Every registry of the project: the Nodion ones (one per region) and external ones."""
    return [Registry(registry) for registry in _client().list_registries()]


def get_container_registries_output() -> pulumi.Output[list[Registry]]:
    return pulumi.Output.from_input(None).apply(lambda _: get_container_registries())


@_advised
def get_container_registry(id: str) -> Registry:
    """One registry by its Nodion id."""
    return Registry(_client().get_registry(id))


def get_container_registry_output(id: pulumi.Input[str]) -> pulumi.Output[Registry]:
    return pulumi.Output.from_input(id).apply(get_container_registry)


@_advised
def get_nodion_registry(region: str) -> Registry:
    """The Nodion registry of a region, by region slug (``"fra"``), region id or hostname.

    Names are display text that differs between Nodion's documents, so they are never
    matched.
    """
    return Registry(nodion_registry_for(region, lambda: _client().list_registries()))


def get_nodion_registry_output(region: pulumi.Input[str]) -> pulumi.Output[Registry]:
    return pulumi.Output.from_input(region).apply(get_nodion_registry)
