"""A throwaway engine, emulator and stack for one scenario, plus how runs are classified."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from pulumi import automation as auto

from nodion_devkit.engine import Engine
from nodion_devkit.nodion_stack import TOKEN, NodionStack
from nodion_pulumi.emulator import Emulator


@contextmanager
def scenario(
    bin_dir: Path, root: Path, regions: tuple[str, ...] = ("fra", "nbg", "ams", "hel")
) -> Iterator[NodionStack]:
    """A stack of the engine tests' `registries` program, wired to a fresh emulator."""
    root.mkdir(parents=True, exist_ok=True)
    with Emulator(
        token=TOKEN, data_path=root / "emulator.db", regions=regions, serve_registries=True
    ) as emulator:
        # The provider reaches the emulated registries the way it reaches Nodion's.
        engine = Engine(bin_dir=bin_dir, root=root, extra_env=emulator.registry_environment())
        yield NodionStack(engine, emulator, "registries", "registries")


def attempt(operation: Callable[[], Any]) -> str | None:
    """Run one CLI operation; None when it succeeded, else the gist of its error."""
    try:
        operation()
    except auto.CommandError as error:
        return gist(str(error))
    return None


def gist(message: str) -> str:
    """The line of a CLI failure that says what went wrong, for a one-line table cell."""
    lines = [
        line.strip()
        for line in message.splitlines()
        if line.strip() and not line.strip().startswith("warning:")
    ]
    for marker in ("Error:", "failed: HTTP", "failed:", "error:"):
        for line in reversed(lines):
            if marker in line and "update failed" not in line and "preview failed" not in line:
                return line[:160]
    return (lines[-1] if lines else "unknown failure")[:160]
