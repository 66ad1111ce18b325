"""The fault matrix: each operation under each fault, through the real engine.

For every cell the emulator injects one fault into the operation's request, the operation
runs, and when it failed it is run again without the fault (what a user's next `up` does).
The cell records whether the first run succeeded (by retrying or recovering), whether the
second one repaired the stack, and the invariants afterwards and after a final destroy. A
cell passes only when the first run succeeded: one fault per request is what the retry
policy and the recovery of lost answers exist to absorb.

Beside the matrix, storm cells put an operation of a larger stack under a fault rate on
every request: a destroy under 35% of 429/500/503 (each "come back later" or "try again")
must converge in one run, since a destroy that stops halfway costs far more than waiting.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pulumi import automation as auto

from nodion_devkit.nodion_stack import NodionStack
from reliability._audit import Audit, audit
from reliability._scenario import attempt, scenario

CREATE = r"^/v1/container_registries$"
ONE = r"^/v1/container_registries/[^/]+$"
CREDENTIALS = r"/credentials$"
TIMEOUT_SECONDS = 1.0

HUB = {"resource": "hub", "name": "Hub", "type": "docker_hub"}
FRA = {"resource": "fra", "region": "fra"}

FAULTS: dict[str, dict[str, Any]] = {  # one fault, once, on the operation's request
    "latency beyond the timeout": {"kind": "latency", "seconds": TIMEOUT_SECONDS + 0.4},
    "429 + Retry-After": {"kind": "status", "status": 429, "retry_after": 0.2},
    "500": {"kind": "status", "status": 500},
    "502": {"kind": "status", "status": 502},
    "503": {"kind": "status", "status": 503},
    "504": {"kind": "status", "status": 504},
    "reset before processing": {"kind": "reset_before"},
    "dropped after commit": {"kind": "drop_after"},
}


STORM_RATE = 0.35
STORM_STATUSES = (429, 500, 503)
# Three faults tried in turn, each firing with this probability, fire together on STORM_RATE
# of the requests.
_EACH = 1.0 - (1.0 - STORM_RATE) ** (1.0 / len(STORM_STATUSES))
STORM_NAME = f"{STORM_RATE:.0%} of requests: " + "/".join(map(str, STORM_STATUSES))
STORM_SEED = 20261202


def storm_faults(seed: int = STORM_SEED) -> list[dict[str, Any]]:
    """The storm as emulator faults: on every API request, a 429 (Retry-After: 1, as the
    throttling that found the give-up-after-four-attempts defect), a 500 or a 503."""
    return [
        {
            "kind": "status",
            "status": status,
            "retry_after": 1 if status == 429 else None,
            "path": r"^/v1/",
            "times": None,
            "rate": _EACH,
            "seed": seed + number,
        }
        for number, status in enumerate(STORM_STATUSES)
    ]


@dataclass(frozen=True)
class Operation:
    name: str
    baseline: dict[str, Any] | None  # deployed before the fault, if any
    method: str
    path: str
    run: Callable[[NodionStack], Any]


def _up_with(spec: dict[str, Any]) -> Callable[[NodionStack], Any]:
    def run(stack: NodionStack) -> Any:
        stack.set_spec(spec)
        return stack.up()

    return run


OPERATIONS = [
    Operation("create", None, "POST", CREATE, _up_with({"registries": [HUB]})),
    Operation(
        "update",
        {"registries": [HUB]},
        "PATCH",
        ONE,
        _up_with({"registries": [{**HUB, "name": "Hub renamed"}]}),
    ),
    Operation("delete", {"registries": [HUB]}, "DELETE", ONE, lambda s: s.destroy()),
    Operation("credentials", None, "POST", CREDENTIALS, _up_with({"credentials": [FRA]})),
    Operation(
        "refresh",
        {"registries": [HUB], "credentials": [FRA]},
        "GET",
        r"^/v1/",
        lambda s: s.refresh(),
    ),
]


# The destroy of the storm: several registries and two regions' credentials, so that one
# run sends enough DELETEs for the storm to meet some of them several times in a row.
STORM_STACK = {
    "registries": [
        {"resource": f"r{i}", "name": f"Registry {i}", "type": "docker_hub"} for i in range(8)
    ],
    "credentials": [FRA, {"resource": "nbg", "region": "nbg"}],
}
STORMS = [Operation("destroy", STORM_STACK, "*", r"^/v1/", lambda s: s.destroy())]


@dataclass(frozen=True)
class Cell:
    operation: str
    fault: str
    first_run: str  # "succeeded" or the gist of the error
    repaired: bool  # the stack is deployed as declared after at most one more run
    after: Audit
    after_destroy: Audit

    @property
    def ok(self) -> bool:
        """Every fault here is one the client retries or recovers from (a single fault per
        request), so the user must not see it: the first run succeeds, and Nodion, the
        registries and the state agree."""
        return (
            self.first_run == "succeeded"
            and self.repaired
            and self.after.mismatches == 0
            and self.after_destroy.mismatches == 0
        )


def run_cell(
    bin_dir: Path,
    root: Path,
    operation: Operation,
    fault_name: str,
    faults: list[dict[str, Any]] | None = None,
) -> Cell:
    """One cell: ``operation`` under the fault ``fault_name`` of :data:`FAULTS`, or under
    ``faults`` (emulator fault specs, as given) when those are passed."""
    with scenario(bin_dir, root) as stack:
        stack.stack.set_config("nodion:timeout", auto.ConfigValue(str(TIMEOUT_SECONDS)))
        if operation.baseline is not None:
            stack.set_spec(operation.baseline)
            stack.up()
        specs = faults or [
            {"method": operation.method, "path": operation.path, **FAULTS[fault_name]}
        ]
        for spec in specs:
            stack.emulator.admin.add_fault(**spec)
        error = attempt(lambda: operation.run(stack))
        stack.emulator.admin.clear_faults()
        repaired = error is None or attempt(lambda: operation.run(stack)) is None
        after = audit(stack)
        attempt(stack.destroy)
        after_destroy = audit(stack)
        stack.assert_no_secret_leaked()
        return Cell(
            operation.name,
            fault_name,
            "succeeded" if error is None else error,
            repaired,
            after,
            after_destroy,
        )


def run_storms(bin_dir: Path, root: Path, progress: Callable[[str], None]) -> list[Cell]:
    cells = []
    for operation in STORMS:
        cell = run_cell(
            bin_dir, root / f"storm-{operation.name}", operation, STORM_NAME, storm_faults()
        )
        progress(f"{operation.name:12} {STORM_NAME:28} {'ok' if cell.ok else 'FAIL'}")
        cells.append(cell)
    return cells


def run_matrix(bin_dir: Path, root: Path, progress: Callable[[str], None]) -> list[Cell]:
    cells = []
    for operation in OPERATIONS:
        for number, fault_name in enumerate(FAULTS):
            cell = run_cell(bin_dir, root / f"{operation.name}-{number}", operation, fault_name)
            progress(f"{operation.name:12} {fault_name:28} {'ok' if cell.ok else 'FAIL'}")
            cells.append(cell)
    return [*cells, *run_storms(bin_dir, root, progress)]
