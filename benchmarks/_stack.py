"""One benchmark lifecycle: a fresh stack through preview, up, up again, refresh and destroy.

The CLI runs exactly as in the engine tests (``tests/e2e/engine.py``): an isolated
``PULUMI_HOME``, a ``file://`` backend, passphrase secrets, and the program and dynamic
providers on this interpreter with the repository on ``PYTHONPATH``.
"""

from __future__ import annotations

import json
import math
import os
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks._measure import Run, run_measured
from benchmarks._report import (
    FLOOR,
    OPERATIONS,
    OURS,
    Lifecycle,
    OpResult,
    parse_summary,
    serialized_providers,
    state_parts,
    undeclared_inputs,
)
from nodion_devkit.engine import Engine
from nodion_pulumi.emulator import REGIONS, Emulator

__all__ = ["PROGRAM", "PROJECT", "TOKEN", "Shape", "StackRunner", "shape_for", "stack_name"]

PROGRAM = Path(__file__).resolve().parent / "program"
PROJECT = "nodion-bench"
TOKEN = "bench-token-6c2e0f9a1d"  # noqa: S105 (the emulator's throwaway token)
PASSWORD = "bench-password-3b7d1e5f9a"  # noqa: S105 (a throwaway login for the emulator)
# A stack's name is in every URN of its state: both kinds get names of the same length, so
# that the state target does not count the benchmark's own naming.
_STACK_PREFIXES = {OURS: "ours", FLOOR: "noop"}
_COMMANDS = {
    "preview": ("preview",),
    "up": ("up", "--yes", "--skip-preview"),
    "up (no change)": ("up", "--yes", "--skip-preview"),
    "refresh": ("refresh", "--yes", "--skip-preview"),
    "destroy": ("destroy", "--yes", "--skip-preview"),
}


@dataclass(frozen=True)
class Shape:
    """How many of each resource a stack of ``size`` resources declares."""

    externals: int
    credentials: int

    @property
    def size(self) -> int:
        return self.externals + self.credentials


def shape_for(size: int) -> Shape:
    """About 8 % credentials (one per Nodion registry, so at most one per region), the rest
    external registries: 200 -> 184 + 16, 50 -> 46 + 4, 10 -> 9 + 1."""
    if size < 2:
        raise ValueError("a benchmark stack needs at least 2 resources")
    credentials = min(len(REGIONS), max(1, math.ceil(size * 0.08)))
    return Shape(externals=size - credentials, credentials=credentials)


def stack_name(kind: str, size: int, latency_ms: int, rep: int) -> str:
    return f"{_STACK_PREFIXES[kind]}-{size}-{latency_ms}ms-{rep}"


class StackRunner:
    """Runs lifecycles of the benchmark program in one engine context."""

    def __init__(self, engine: Engine, log: Callable[[str], None] = print) -> None:
        self.engine = engine
        self.log = log
        self.work_dir = engine.root / "program"
        if not self.work_dir.exists():
            shutil.copytree(PROGRAM, self.work_dir)

    def env(self) -> dict[str, str]:
        return {**os.environ, **self.engine.env()}

    def cli(self, *args: str) -> Run:
        argv = (str(self.engine.bin_dir / "pulumi"), *args, "--non-interactive")
        run = run_measured(argv, cwd=self.work_dir, env=self.env())
        if run.returncode != 0:
            raise RuntimeError(
                f"pulumi {' '.join(args)} exited {run.returncode}\n"
                f"{run.stdout[-3000:]}\n{run.stderr[-3000:]}"
            )
        return run

    def checkpoint(self, stack: str) -> Path:
        return self.engine.backend / ".pulumi" / "stacks" / PROJECT / f"{stack}.json"

    def lifecycle(
        self,
        kind: str,
        size: int,
        latency_ms: int,
        emulator: Emulator,
        stack: str,
        *,
        operations: Sequence[str] = OPERATIONS,
        shape: Shape | None = None,
    ) -> Lifecycle:
        """A fresh stack of ``shape`` (default :func:`shape_for`) through ``operations``."""
        shape = shape or shape_for(size)
        registry_ids = [emulator.nodion_registry_id(s) for s in list(REGIONS)[: shape.credentials]]
        self.cli("stack", "init", stack)
        self.cli(
            "config",
            "set-all",
            "--stack",
            stack,
            "--plaintext",
            f"provider={kind}",
            "--plaintext",
            f"externals={shape.externals}",
            "--plaintext",
            f"registryIds={json.dumps(registry_ids)}",
            "--secret",
            f"password={PASSWORD}",
            "--plaintext",
            f"nodion:apiUrl={emulator.url}",
            "--secret",
            f"nodion:apiToken={TOKEN}",
        )
        admin = emulator.admin
        ops: dict[str, OpResult] = {}
        state_bytes = 0
        checkpoint: dict[str, Any] = {"checkpoint": {"latest": {}}}  # the `up` reads it
        try:
            for operation in operations:
                admin.clear_requests()
                admin.clear_registry_requests()
                run = self.cli(*_COMMANDS[operation], "--stack", stack)
                requests = [e for e in admin.requests() if str(e["path"]).startswith("/v1")]
                registry_requests = len(admin.registry_requests())
                writes = [e for e in requests if e["method"] != "GET"]
                ops[operation] = OpResult(
                    operation,
                    run.wall_s,
                    run.cpu_s,
                    run.peak_rss_bytes,
                    len(requests),
                    len(writes),
                    parse_summary(run.stdout),
                    registry_requests,
                    run.peak_python_rss_bytes,
                )
                if operation == "up":
                    text = self.checkpoint(stack).read_bytes()
                    state_bytes, checkpoint = len(text), json.loads(text)
                self.log(
                    f"  {kind:6} N={size:<4} {latency_ms:>3} ms  {operation:15} "
                    f"{run.wall_s:7.2f} s  {run.cpu_s:7.2f} s CPU  "
                    f"{run.peak_rss_bytes / 2**20:6.0f} MiB  {len(requests):4} requests"
                    f" ({registry_requests} to registries)"
                )
        finally:
            self.cli("stack", "rm", "--yes", "--force", stack)
        return Lifecycle(
            kind,
            size,
            latency_ms,
            ops,
            state_bytes,
            state_parts(checkpoint),
            serialized_providers(checkpoint),
            undeclared_inputs(checkpoint),
        )
