"""`make mistakes` on three representative cases, through the real CLI: what it records as the
catching phase and the writes is what the emulator and the CLI actually saw."""

from __future__ import annotations

from pathlib import Path

import pytest

from nodion_devkit.mistake_cases import CASES
from nodion_devkit.mistakes import run_cases

pytestmark = pytest.mark.engine

KEYS = ("type-nodion", "unknown-region", "credentials-twice")


def test_phase_writes_and_message_of_representative_cases(
    pulumi_bin_dir: Path, tmp_path: Path
) -> None:
    seen: list[str] = []
    cases = [c for c in CASES if c.key in KEYS]
    results = {r.case.key: r for r in run_cases(cases, pulumi_bin_dir, tmp_path, seen.append)}
    assert sorted(results) == sorted(KEYS)
    assert len(seen) == len(KEYS)

    invalid_type = results["type-nodion"]
    assert (invalid_type.phase, invalid_type.writes) == ("preview", ())
    assert "get_nodion_registry" in invalid_type.message
    assert invalid_type.lines == 1
    assert not invalid_type.traceback

    region = results["unknown-region"]
    assert (region.phase, region.writes) == ("preview", ())
    assert "'frankfurt'" in region.message
    assert "fra" in region.message

    # Each is valid alone, yet the preview refuses the second owner before anything is written.
    twice = results["credentials-twice"]
    assert (twice.phase, twice.writes) == ("preview", ())
    assert "cannot get a second owner" in twice.message
    assert "Either use the owner's credentials" in twice.message  # the table cuts the rest
    assert twice.lines == 1

    assert not any(r.leaked for r in results.values())
