"""The stateful machine (``nodion_devkit.provider_machine``) run long: many derandomized
sequences of creates, updates, deletes, rotations and refreshes under faults and changes
made outside the stack, each judged against the emulator's truth. `make test` runs a few of
the same sequences; this run is the one that finds what a few do not.
"""

from __future__ import annotations

import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from hypothesis import settings

from nodion_devkit import fuzzing, provider_machine
from nodion_pulumi.emulator import Emulator


@dataclass(frozen=True)
class MachineFigures:
    examples: int
    steps: int
    tally: provider_machine.Tally
    seconds: float
    failure: str | None  # the falsifying sequence and what broke, if any


def run_machine(examples: int, steps: int) -> MachineFigures:
    """``examples`` sequences of at most ``steps`` commands each, under the reliability
    profile (derandomized: the same sequences on every run)."""
    os.environ[fuzzing.PROFILE_VARIABLE] = fuzzing.RELIABILITY
    fuzzing.register_profiles()
    started = time.monotonic()
    tally = provider_machine.Tally()
    failure = None
    with (
        tempfile.TemporaryDirectory(prefix="nodion-machine-") as tmp,
        Emulator(
            token=fuzzing.TOKEN, data_path=Path(tmp) / "emulator.db", serve_registries=True
        ) as emulator,
        provider_machine.served_environment(emulator),
    ):
        try:
            provider_machine.run(
                emulator, settings(max_examples=examples, stateful_step_count=steps), tally
            )
        except Exception as error:  # any failure of the machine is a finding to report
            notes = getattr(error, "__notes__", [])
            failure = "\n".join([f"{type(error).__name__}: {error}", *notes])
    return MachineFigures(examples, steps, tally, time.monotonic() - started, failure)
