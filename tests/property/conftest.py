"""Fixtures for the property tests and the findings' examples: providers driven directly
against a real emulator on loopback, as the engine would drive them, with a clean process
state per test (``nodion_devkit.fuzzing`` holds what the reliability run shares).

Helpers are fixtures, not importable functions, so that the tests work under pytest's
importlib import mode.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
from pulumi.dynamic import ResourceProvider

from nodion_devkit import fuzzing
from nodion_pulumi.container_registry import ContainerRegistryProvider
from nodion_pulumi.emulator import Emulator
from nodion_pulumi.registry_credentials import RegistryCredentialsProvider

fuzzing.register_profiles()

P = TypeVar("P", bound=ResourceProvider)
Configure = Callable[..., Any]


@pytest.fixture(autouse=True)
def clean_process_state(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in list(os.environ):
        if name.startswith(("NODION_", "PULUMI_CONFIG")) and name != fuzzing.PROFILE_VARIABLE:
            monkeypatch.delenv(name)
    with fuzzing.isolated_process_state():
        yield


@pytest.fixture
def emulator(tmp_path: Path) -> Iterator[Emulator]:
    em = Emulator(token=fuzzing.TOKEN, data_path=tmp_path / "emulator.db").start()
    try:
        yield em
    finally:
        em.stop()


@pytest.fixture
def provider_config(emulator: Emulator) -> Callable[..., dict[str, Any]]:
    """``provider_config(timeout=...)``: the stack configuration a provider is given."""

    def config(*, timeout: float | None = None) -> dict[str, Any]:
        return fuzzing.provider_config(emulator, timeout=timeout)

    return config


@pytest.fixture
def configure(provider_config: Callable[..., dict[str, Any]]) -> Configure:
    """``configure(provider, timeout=...)``: configure as the engine would."""

    def run(provider: P, *, timeout: float | None = None) -> P:
        return fuzzing.configured(provider, provider_config(timeout=timeout))

    return run


@pytest.fixture
def registries(configure: Configure) -> ContainerRegistryProvider:
    provider: ContainerRegistryProvider = configure(ContainerRegistryProvider())
    return provider


@pytest.fixture
def credentials(configure: Configure) -> RegistryCredentialsProvider:
    provider: RegistryCredentialsProvider = configure(RegistryCredentialsProvider())
    return provider


@pytest.fixture
def fra(emulator: Emulator) -> str:
    return emulator.nodion_registry_id("fra")
