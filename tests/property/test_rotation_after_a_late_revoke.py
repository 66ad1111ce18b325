"""A revoke answered late must not take the credentials minted next (rotation, recovery).

Found by the stateful machine: with ``DELETE .../credentials`` answered after 2.5 s against a
1 s client timeout, the delete timed out and was sent again, the rotation minted a new set,
and then the first DELETE landed and revoked it (log: POST 201, DELETE 200, POST 201,
DELETE 200 late). The stack held a password Nodion no longer had.
"""

from __future__ import annotations

from typing import Any

from nodion_devkit.nodion_truth import holds_password, wait_for_faulted_answers
from nodion_pulumi.emulator import Emulator
from nodion_pulumi.registry_credentials import RegistryCredentialsProvider

CLIENT_TIMEOUT = 1.0
LATE_BY = 2.5


def _credential_writes(emulator: Emulator) -> list[tuple[str, Any, Any]]:
    return [
        (entry["method"], entry["status"], entry["fault"])
        for entry in emulator.admin.writes()
        if entry["path"].endswith("/credentials")
    ]


def test_a_rotation_ends_holding_a_password_nodion_has_when_the_revoke_answers_late(
    configure: Any, emulator: Emulator, fra: str
) -> None:
    credentials: RegistryCredentialsProvider = configure(
        RegistryCredentialsProvider(), timeout=CLIENT_TIMEOUT
    )
    first_inputs = {"registry_id": fra, "triggers": {"rotation": 1}}
    checked = credentials.check({}, first_inputs)
    assert checked.failures == []
    first = credentials.create(checked.inputs)
    assert first.outs is not None

    # The engine's replacement: check and diff the new inputs, delete the old set, create.
    emulator.admin.add_fault(
        "latency", method="DELETE", path="/credentials$", seconds=LATE_BY, times=1
    )
    second_inputs = {"registry_id": fra, "triggers": {"rotation": 2}}
    rechecked = credentials.check(checked.inputs, second_inputs)
    assert rechecked.failures == []
    assert credentials.diff(fra, dict(first.outs), rechecked.inputs).delete_before_replace
    credentials.delete(fra, dict(first.outs))
    second = credentials.create(rechecked.inputs)
    assert second.outs is not None

    wait_for_faulted_answers(emulator.admin)
    # Judged apart from the assert, so that a failure never prints the password.
    nodion_has_it = holds_password(emulator, fra, second.outs["password"])
    assert nodion_has_it, (
        "the stack holds a password Nodion no longer has; credential writes: "
        f"{_credential_writes(emulator)}"
    )


def test_a_recovered_mint_ends_holding_a_password_nodion_has_when_the_revoke_answers_late(
    configure: Any, emulator: Emulator, fra: str
) -> None:
    """The recovery of a lost mint takes the same path: it revokes the set nobody can read,
    then mints again; its revoke must not land after that mint."""
    credentials: RegistryCredentialsProvider = configure(
        RegistryCredentialsProvider(), timeout=CLIENT_TIMEOUT
    )
    checked = credentials.check({}, {"registry_id": fra})
    assert checked.failures == []
    emulator.admin.add_fault("drop_after", method="POST", path="/credentials$", times=1)
    emulator.admin.add_fault(
        "latency", method="DELETE", path="/credentials$", seconds=LATE_BY, times=1
    )

    created = credentials.create(checked.inputs)
    assert created.outs is not None

    wait_for_faulted_answers(emulator.admin)
    nodion_has_it = holds_password(emulator, fra, created.outs["password"])
    assert nodion_has_it, (
        "the stack holds a password Nodion no longer has; credential writes: "
        f"{_credential_writes(emulator)}"
    )
