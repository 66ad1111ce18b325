"""The storm of the destroy cell: valid emulator faults that, together, meet the rate the
reliability report names."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import httpx

from nodion_pulumi.emulator import Emulator
from reliability._matrix import STORM_RATE, STORM_STATUSES, storm_faults

REQUESTS = 400


def test_the_storm_meets_its_rate_with_each_of_its_statuses(tmp_path: Path) -> None:
    with Emulator(token="storm-token", data_path=tmp_path / "emulator.db") as emulator:
        for spec in storm_faults():
            emulator.admin.add_fault(**spec)
        with httpx.Client(
            base_url=emulator.url,
            headers={"Authorization": "Bearer storm-token"},
            trust_env=False,
        ) as client:
            answers = Counter(
                client.get("/container_registries").status_code for _ in range(REQUESTS)
            )
    faulted = sum(answers[status] for status in STORM_STATUSES)
    assert abs(faulted / REQUESTS - STORM_RATE) < 0.06, answers
    assert all(answers[status] > 0 for status in STORM_STATUSES), answers
    assert set(answers) == {200, *STORM_STATUSES}, answers
