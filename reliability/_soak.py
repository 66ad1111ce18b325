"""The soak: up/refresh/destroy cycles of a many-resource stack while faults keep coming.

Every Nodion request meets a fault with a fixed probability (seeded, so a run replays). An
operation that fails is run again without faults, as a user's next command would be. After
every operation the emulator must hold exactly what the state says, and the registries must
accept every password the state holds. Bounded by a cycle count and a wall-clock budget.

Each cycle someone also regenerates one region's credentials in the dashboard between the
`up` and the `refresh`: the refresh must find out from the registry and drop them. That person
then revokes their set, as the refresh's warning and the next `up`'s error advise, so that
the stack can capture new ones.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from reliability._audit import audit
from reliability._scenario import attempt, scenario

REGIONS = ("fra", "nbg", "ams", "hel")
FAULT_KINDS: list[dict[str, Any]] = [
    {"kind": "status", "status": 500},
    {"kind": "status", "status": 503},
    {"kind": "status", "status": 502},
    {"kind": "status", "status": 429, "retry_after": 0.1},
    {"kind": "reset_before"},
    {"kind": "drop_after"},
]


@dataclass
class SoakFigures:
    seed: int
    rate: float
    registries: int
    credentials: int
    cycles: int = 0
    operations: int = 0
    requests: int = 0
    faults_injected: int = 0
    regenerations: int = 0
    failed_operations: int = 0
    mismatches: int = 0
    seconds: float = 0.0
    failures: list[str] = field(default_factory=list)


def _spec(registries: int, cycle: int) -> dict[str, Any]:
    kinds = ("docker_hub", "ghcr", "custom")
    return {
        "registries": [
            {
                "resource": f"r{i}",
                "name": f"Registry {i}" + (" (renamed)" if cycle % 2 and i % 3 == 0 else ""),
                "type": kinds[i % 3],
                **({"hostname": f"registry{i}.example.com"} if kinds[i % 3] == "custom" else {}),
            }
            for i in range(registries)
        ],
        "credentials": [{"resource": f"creds-{region}", "region": region} for region in REGIONS],
    }


def run_soak(
    bin_dir: Path,
    root: Path,
    progress: Callable[[str], None],
    *,
    cycles: int = 6,
    registries: int = 24,
    rate: float = 0.25,
    seed: int = 20261127,
    budget_seconds: float = 900.0,
) -> SoakFigures:
    figures = SoakFigures(seed, rate, registries, len(REGIONS))
    rng = random.Random(seed)
    started = time.monotonic()
    with scenario(bin_dir, root, REGIONS) as stack:
        admin = stack.emulator.admin
        held_elsewhere: set[str] = set()

        def arm() -> None:
            for kind in FAULT_KINDS:
                admin.add_fault(
                    **kind, rate=rate / len(FAULT_KINDS), times=None, seed=rng.randrange(2**31)
                )

        def step(name: str, operation: Callable[[], Any]) -> None:
            arm()
            error = attempt(operation)
            admin.clear_faults()
            figures.operations += 1
            if error is not None:
                figures.failed_operations += 1
                figures.failures.append(f"{name}: {error}")
                repair_error = attempt(operation)
                figures.operations += 1
                if repair_error is not None:
                    figures.failures.append(f"{name} (repair): {repair_error}")
            found = audit(stack, held_elsewhere)
            figures.mismatches += found.mismatches
            details = ", ".join(f"{key}={value}" for key, value in vars(found).items() if value)
            progress(
                f"  {name:28} {'failed, repaired' if error else 'ok':18} "
                f"mismatches={found.mismatches}" + (f" ({details})" if details else "")
            )

        for cycle in range(cycles):
            if time.monotonic() - started > budget_seconds:
                break
            stack.set_spec(_spec(registries, cycle))
            step(f"cycle {cycle + 1} up", lambda: stack.up())
            regenerated = stack.emulator.nodion_registry_id(REGIONS[cycle % len(REGIONS)])
            admin.regenerate_credentials(regenerated)
            held_elsewhere.add(regenerated)
            figures.regenerations += 1
            step(f"cycle {cycle + 1} refresh", lambda: stack.refresh())
            admin.drop_credentials(regenerated)
            held_elsewhere.discard(regenerated)
            if cycle % 2 == 1:
                step(f"cycle {cycle + 1} destroy", lambda: stack.destroy())
            figures.cycles += 1
        step("final destroy", lambda: stack.destroy())
        requests = admin.requests()
        figures.requests = len(requests)
        figures.faults_injected = sum(1 for r in requests if r.get("fault"))
        stack.assert_no_secret_leaked()
    figures.seconds = time.monotonic() - started
    return figures
