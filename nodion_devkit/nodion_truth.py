"""What the emulator holds, for tests and tools that judge a provider against Nodion's truth.

A provider's answer says what it believes; these helpers say what Nodion (the emulator)
actually keeps: which registries exist, and whether a password the stack captured still
opens its registry. They also wait for answers the emulator is still holding back (a
latency fault), because a request that lands late can change the truth after the provider
has returned, and a judgement made before it lands would be wrong.
"""

from __future__ import annotations

import time
from typing import Any

from nodion_pulumi.emulator import Emulator, EmulatorAdmin
from nodion_pulumi.emulator._store import secret_matches

__all__ = [
    "DelayedAnswersError",
    "holds_password",
    "registries_by_id",
    "wait_for_faulted_answers",
]

_POLL_SECONDS = 0.05


class DelayedAnswersError(AssertionError):
    """Requests a fault fired on were still unanswered when the wait ran out."""


def registries_by_id(emulator: Emulator) -> dict[str, dict[str, Any]]:
    """Every registry of the project as the emulator's store holds it, by id (secrets as
    salted digests, never as text)."""
    return {entry["id"]: entry for entry in emulator.export_state()["registries"]}


def holds_password(emulator: Emulator, registry_id: str, password: str) -> bool:
    """Whether Nodion still has ``password`` as the credentials of ``registry_id``: the
    registry exists, has credentials, and they are this password, not a newer set."""
    entry = registries_by_id(emulator).get(registry_id)
    if entry is None or entry.get("secret_digest") is None:
        return False
    return secret_matches(entry["secret_digest"], password)


def wait_for_faulted_answers(admin: EmulatorAdmin, timeout: float = 10.0) -> None:
    """Return once every request a fault fired on has been answered (or dropped).

    The emulator logs a request when it is done with it, with the fault that fired on it;
    each firing counts on its fault. So when no two faults can fire on one request (a test
    keeps at most one fault active at a time), the firings and the logged faulted requests
    agree exactly when nothing is held back any more. Polls: the log is the only view the
    emulator gives of requests in flight.
    """
    deadline = time.monotonic() + timeout
    while True:
        fired = sum(int(fault["fired"]) for fault in admin.faults())
        answered = sum(1 for entry in admin.requests() if entry.get("fault") is not None)
        if answered >= fired:
            return
        if time.monotonic() >= deadline:
            raise DelayedAnswersError(
                f"{fired - answered} request(s) a fault fired on were still unanswered "
                f"after {timeout:g}s"
            )
        time.sleep(_POLL_SECONDS)
