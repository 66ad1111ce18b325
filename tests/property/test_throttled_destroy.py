"""A destroy that Nodion throttles must wait, not give up halfway.

Found under 35% injected faults: one DELETE met four 429s in a row with ``Retry-After: 1``
and gave up after its fourth attempt, with 50 of the 60 seconds of its deadline left. A 429
means "come back later"; a destroy that stops halfway costs far more than the wait.
"""

from __future__ import annotations

from typing import Any

from nodion_devkit.nodion_truth import registries_by_id
from nodion_pulumi.container_registry import ContainerRegistryProvider
from nodion_pulumi.emulator import Emulator
from nodion_pulumi.registry_credentials import RegistryCredentialsProvider

THROTTLED_ANSWERS = 4


def _throttle_deletes(emulator: Emulator, path: str) -> None:
    emulator.admin.add_fault(
        "status",
        method="DELETE",
        path=path,
        status=429,
        retry_after=1,
        times=THROTTLED_ANSWERS,
    )


def test_a_registry_delete_outlasts_four_throttled_answers(
    registries: ContainerRegistryProvider, emulator: Emulator
) -> None:
    checked = registries.check({}, {"name": "mirror", "registry_type": "docker_hub"})
    assert checked.failures == []
    created = registries.create(checked.inputs)
    _throttle_deletes(emulator, f"/container_registries/{created.id}$")

    registries.delete(str(created.id), dict(created.outs or {}))

    assert str(created.id) not in registries_by_id(emulator)
    throttled = [e for e in emulator.admin.writes() if e["status"] == 429]
    assert len(throttled) == THROTTLED_ANSWERS


def test_a_credentials_revoke_outlasts_four_throttled_answers(
    credentials: RegistryCredentialsProvider, emulator: Emulator, fra: str
) -> None:
    checked = credentials.check({}, {"registry_id": fra})
    assert checked.failures == []
    created = credentials.create(checked.inputs)
    _throttle_deletes(emulator, "/credentials$")

    outs: dict[str, Any] = dict(created.outs or {})
    credentials.delete(fra, outs)

    assert registries_by_id(emulator)[fra]["secret_digest"] is None
