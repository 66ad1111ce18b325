"""Shared fixtures for unit tests: a real emulator on loopback, one per test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from nodion_pulumi.emulator import Emulator


@pytest.fixture
def emulator(tmp_path: Path) -> Iterator[Emulator]:
    em = Emulator(token="test-token", data_path=tmp_path / "emulator.db").start()
    try:
        yield em
    finally:
        em.stop()
