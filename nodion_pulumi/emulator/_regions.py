"""Region seed data and the deterministic ids derived from it.

Ids are uuid5 values so that a restarted emulator, a fresh data file and a test that only knows
the region slug all agree on which registry is "the Frankfurt one" without a lookup.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

from nodion_pulumi._facts import nodion_registry_hostname

NAMESPACE = uuid.UUID("5b0e6c1e-2f4a-4d8b-9a31-7c64d2e08f15")
"""Fixed namespace for every id the emulator derives; changing it would orphan existing data."""

DEFAULT_PROJECT_ID = "3f2a9c1d-7b4e-4e26-9d58-0a6b1c2d3e4f"


@dataclass(frozen=True)
class Region:
    """A Nodion region; the slug is what users and hostnames refer to."""

    slug: str
    city: str
    country: str

    @property
    def id(self) -> str:
        return region_id(self.slug)

    @property
    def registry_name(self) -> str:
        return f"Nodion Registry ({self.city}, {self.country})"

    @property
    def registry_hostname(self) -> str:
        return nodion_registry_hostname(self.slug)


def region_id(slug: str) -> str:
    return str(uuid.uuid5(NAMESPACE, f"region:{slug}"))


def nodion_registry_id(project_id: str, slug: str) -> str:
    """Registry ids include the project so two projects sharing a data file never collide."""
    return str(uuid.uuid5(NAMESPACE, f"registry:{project_id}:{slug}"))


_ALL = (
    Region("fra", "Frankfurt", "DE"),
    Region("nbg", "Nuremberg", "DE"),
    Region("ams", "Amsterdam", "NL"),
    Region("hel", "Helsinki", "FI"),
    Region("fsn", "Falkenstein", "DE"),
    Region("vie", "Vienna", "AT"),
    Region("zrh", "Zurich", "CH"),
    Region("par", "Paris", "FR"),
    Region("lon", "London", "GB"),
    Region("waw", "Warsaw", "PL"),
    Region("mad", "Madrid", "ES"),
    Region("sto", "Stockholm", "SE"),
    Region("mil", "Milan", "IT"),
    Region("cph", "Copenhagen", "DK"),
    Region("dub", "Dublin", "IE"),
    Region("osl", "Oslo", "NO"),
)

REGIONS: Mapping[str, Region] = MappingProxyType({r.slug: r for r in _ALL})
"""Every region the emulator knows, in the order their registries are listed."""

DEFAULT_REGIONS: tuple[str, ...] = ("fra", "nbg", "ams", "hel")

REGION_ORDER: Mapping[str, int] = MappingProxyType({r.slug: i for i, r in enumerate(_ALL)})


def normalize_regions(regions: str | Iterable[str]) -> tuple[str, ...]:
    """Accept a list of slugs or a comma-separated string; refuse unknown slugs up front.

    Failing here (rather than seeding nothing) keeps a typo like "frankfurt" from producing an
    emulator that silently lacks the registry a test expects.
    """
    raw = regions.split(",") if isinstance(regions, str) else list(regions)
    items = [str(part).strip() for part in raw]
    slugs: list[str] = []
    for item in items:
        if item and item not in slugs:
            slugs.append(item)
    unknown = [s for s in slugs if s not in REGIONS]
    if unknown:
        raise ValueError(
            f"unknown region(s): {', '.join(unknown)}; valid regions: {', '.join(REGIONS)}"
        )
    return tuple(slugs)
