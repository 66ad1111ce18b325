"""Shared fixtures for unit tests: a real emulator on loopback, one per test."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from nodion_pulumi import _runtime
from nodion_pulumi.emulator import Emulator


@pytest.fixture
def emulator(tmp_path: Path) -> Iterator[Emulator]:
    em = Emulator(token="test-token", data_path=tmp_path / "emulator.db").start()
    try:
        yield em
    finally:
        em.stop()


@pytest.fixture
def fresh_process_state(monkeypatch: pytest.MonkeyPatch) -> Iterator[_runtime.Runtime]:
    """A runtime of the test's own and an environment without ``NODION_*`` or
    ``PULUMI_CONFIG*`` variables: the providers, the plugin and the lookups keep process-wide
    state in the runtime (settings, clients, sessions, the registries whose credentials the
    run creates). The resource and plugin tests use it for every test."""
    for name in list(os.environ):
        if name.startswith(("NODION_", "PULUMI_CONFIG")):
            monkeypatch.delenv(name)
    with _runtime.isolated() as runtime:
        yield runtime
