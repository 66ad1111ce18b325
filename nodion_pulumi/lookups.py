"""Read-only lookups of registries, for use inside Pulumi programs.

Each lookup is a plain function (call it with plain values) with an ``_output`` twin that
takes Inputs and returns an Output, the pair Pulumi's generated SDKs offer. They read the
same configuration as the resources: ``nodion:*`` stack config, then ``NODION_*``
variables. Lookups only read, so they run during preview too.
"""

from __future__ import annotations

import pulumi

from nodion_pulumi._client import NodionClient
from nodion_pulumi._clients import client_for
from nodion_pulumi._config import CONFIG_KEYS, resolve_settings
from nodion_pulumi._errors import NoSuchRegionError
from nodion_pulumi._models import Registry

__all__ = [
    "NoSuchRegionError",
    "get_container_registries",
    "get_container_registries_output",
    "get_container_registry",
    "get_container_registry_output",
    "get_nodion_registry",
    "get_nodion_registry_output",
]


def _client() -> NodionClient:
    """The process's client for the program's settings: lookups share its connections with
    each other and with any provider of the same process."""
    config = {key: pulumi.runtime.get_config(key) for key in CONFIG_KEYS}
    return client_for(resolve_settings(config))


def get_container_registries() -> list[Registry]:
    """Every registry of the project: the Nodion ones (one per region) and external ones."""
    return _client().list_registries()


def get_container_registries_output() -> pulumi.Output[list[Registry]]:
    return pulumi.Output.from_input(None).apply(lambda _: get_container_registries())


def get_container_registry(id: str) -> Registry:
    """One registry by its Nodion id."""
    return _client().get_registry(id)


def get_container_registry_output(id: pulumi.Input[str]) -> pulumi.Output[Registry]:
    return pulumi.Output.from_input(id).apply(get_container_registry)


def get_nodion_registry(region: str) -> Registry:
    """The Nodion registry of a region, by region slug (``"fra"``), region id or hostname.

    Names are display text that differs between Nodion's documents, so they are never
    matched.
    """
    if not isinstance(region, str) or not region.strip():
        raise NoSuchRegionError(
            "region must be a region slug such as 'fra', a region id or a registry hostname"
        )
    nodion = [r for r in get_container_registries() if r.is_nodion]
    for registry in nodion:
        if registry.known_as(region):
            return registry
    available = ", ".join(
        f"{r.region_slug or '?'} ({r.hostname}, region id {r.region_id})" for r in nodion
    )
    raise NoSuchRegionError(
        f"no Nodion registry for region {region!r}. Available regions: "
        f"{available or 'none (the project has no Nodion registries)'}. Pass one of these "
        "slugs, region ids or hostnames to get_nodion_registry"
    )


def get_nodion_registry_output(region: pulumi.Input[str]) -> pulumi.Output[Registry]:
    return pulumi.Output.from_input(region).apply(get_nodion_registry)
