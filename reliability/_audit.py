"""Does Nodion (the emulator) hold exactly what the Pulumi state says?

The invariants that matter to a user: no registry exists twice or without a state entry
(an orphan costs money and confuses the dashboard), and no credentials exist that nobody
holds the password of (a credential that was minted and dropped).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from nodion_devkit.nodion_stack import NodionStack

REGISTRY = "nodion:ContainerRegistry"
CREDENTIALS = "nodion:RegistryCredentials"


@dataclass(frozen=True)
class Audit:
    duplicates: int  # external registries sharing name, type and hostname, beyond the first
    orphans: int  # external registries that no state entry points at
    missing: int  # state entries whose registry no longer exists
    lost_credentials: int  # Nodion registries with credentials not held in the state
    phantom_credentials: int  # credentials in the state that Nodion no longer has

    @property
    def mismatches(self) -> int:
        return (
            self.duplicates
            + self.orphans
            + self.missing
            + self.lost_credentials
            + self.phantom_credentials
        )


def audit(stack: NodionStack) -> Audit:
    registries = stack.emulator.admin.registries()
    external = {r["id"]: r for r in registries if r["registry_type"] != "nodion"}
    with_credentials = {
        r["id"] for r in registries if r["registry_type"] == "nodion" and r["has_credentials"]
    }
    state_registries = {r["id"] for r in stack.resources(REGISTRY)}
    state_credentials = {r["id"] for r in stack.resources(CREDENTIALS)}
    shapes = Counter((r["name"], r["registry_type"], r["hostname"]) for r in external.values())
    return Audit(
        duplicates=sum(count - 1 for count in shapes.values()),
        orphans=len(set(external) - state_registries),
        missing=len(state_registries - set(external)),
        lost_credentials=len(with_credentials - state_credentials),
        phantom_credentials=len(state_credentials - with_credentials),
    )
