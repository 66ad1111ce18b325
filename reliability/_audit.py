"""Does Nodion (the emulator) hold exactly what the Pulumi state says?

The invariants that matter to a user: no registry exists twice or without a state entry
(an orphan costs money and confuses the dashboard), no credentials exist that nobody
holds the password of (a credential that was minted and dropped), and no credentials in the
state are ones the registry refuses (a password that went stale unnoticed).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Collection, Mapping
from dataclasses import dataclass

from nodion_devkit.environment import patched_environment
from nodion_devkit.nodion_stack import NodionStack
from nodion_pulumi._facts import CONTAINER_REGISTRY_TYPE, REGISTRY_CREDENTIALS_TYPE
from nodion_pulumi._verify import Verdict, verify_credentials

# The resources' type tokens as the engine records them (the state's "type" field).
REGISTRY = CONTAINER_REGISTRY_TYPE
CREDENTIALS = REGISTRY_CREDENTIALS_TYPE


@dataclass(frozen=True)
class Audit:
    duplicates: int  # external registries sharing name, type and hostname, beyond the first
    orphans: int  # external registries that no state entry points at
    missing: int  # state entries whose registry no longer exists
    lost_credentials: int  # Nodion registries with credentials not held in the state
    phantom_credentials: int  # credentials in the state that Nodion no longer has
    rejected_credentials: int = 0  # credentials in the state that the registry refuses

    @property
    def mismatches(self) -> int:
        return (
            self.duplicates
            + self.orphans
            + self.missing
            + self.lost_credentials
            + self.phantom_credentials
            + self.rejected_credentials
        )


def audit(stack: NodionStack, held_elsewhere: Collection[str] = ()) -> Audit:
    """``held_elsewhere``: Nodion registries whose credentials someone regenerated outside
    the stack (the dashboard): theirs, not lost by the stack."""
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
        lost_credentials=len(with_credentials - state_credentials - set(held_elsewhere)),
        phantom_credentials=len(state_credentials - with_credentials),
        rejected_credentials=_rejected_credentials(stack),
    )


def _rejected_credentials(stack: NodionStack) -> int:
    """Credentials in the state that the emulated registry refuses, asked the way the
    provider asks: through the emulator's registry proxy."""
    deployment = stack.stack.export_stack().deployment or {}
    outputs = [
        r.get("outputs") or {}
        for r in deployment.get("resources") or []
        if r.get("type") == CREDENTIALS
    ]
    if not outputs:
        return 0
    with patched_environment(stack.emulator.registry_environment()):
        verdicts = [
            verify_credentials(o["hostname"], o["username"], _plain(o["password"])).verdict
            for o in outputs
        ]
    return verdicts.count(Verdict.REJECTED)


def _plain(value: object) -> str:
    """A secret as ``stack export --show-secrets`` writes it: its JSON in ``plaintext``."""
    if isinstance(value, Mapping) and "plaintext" in value:
        return str(json.loads(value["plaintext"]))
    return str(value)
