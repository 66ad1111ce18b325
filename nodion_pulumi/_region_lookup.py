"""Which Nodion registry a region names: shared by the Python lookup and the plugin's
``getNodionRegistry``, so both accept the same names and fail with the same message."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from nodion_pulumi._errors import NoSuchRegionError
from nodion_pulumi._models import Registry

__all__ = ["nodion_registry_for"]


def nodion_registry_for(region: object, registries: Callable[[], Iterable[Registry]]) -> Registry:
    """The Nodion registry of ``region`` (a region slug such as ``"fra"``, a region id or a
    registry hostname) among what ``registries`` lists, which is asked only for a region
    that could name one: a blank region costs no request.

    Names are display text that differs between Nodion's documents, so they are never
    matched. None matching is a :class:`NoSuchRegionError` listing the regions there are.
    """
    if not isinstance(region, str) or not region.strip():
        raise NoSuchRegionError(
            "region must be a region slug such as 'fra', a region id or a registry hostname"
        )
    nodion = [r for r in registries() if r.is_nodion]
    for registry in nodion:
        if registry.known_as(region):
            return registry
    available = ", ".join(
        f"{r.region_slug or '?'} ({r.hostname}, region id {r.region_id})" for r in nodion
    )
    raise NoSuchRegionError(
        f"no Nodion registry for region {region!r}. Available regions: "
        f"{available or 'none (the project has no Nodion registries)'}. Pass one of these "
        "slugs, region ids or hostnames as the region"
    )
