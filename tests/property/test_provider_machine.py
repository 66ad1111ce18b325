"""The stateful machine over the emulator (``nodion_devkit.provider_machine``), bounded:
a few derandomized runs of creates, updates, deletes, rotations and refreshes under faults
and changes made outside the stack. ``make reliability`` runs it much longer."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings

from nodion_devkit import fuzzing, provider_machine
from nodion_pulumi.emulator import Emulator


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Emulator]:
    """An emulator that also serves its registries, so that a refresh asks them whether
    the captured credentials still work."""
    with (
        Emulator(
            token=fuzzing.TOKEN, data_path=tmp_path / "emulator.db", serve_registries=True
        ) as emulator,
        provider_machine.served_environment(emulator),
    ):
        yield emulator


def test_the_providers_converge_to_nodions_truth_under_faults(served: Emulator) -> None:
    tally = provider_machine.run(
        served, settings(max_examples=fuzzing.examples(8), stateful_step_count=15)
    )
    # Not a vacuous run: commands met faults, and the stack was changed outside.
    assert tally.faults_fired > 0
    assert tally.changes_outside > 0
