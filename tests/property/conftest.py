"""Fixtures for the property tests and the findings' examples: providers driven directly
against a real emulator on loopback, as the engine would drive them, with a clean process
state per test.

The providers share process state (settings, sessions, the client, the owners record);
every test starts from a clean slate and an environment without ``NODION_*`` or
``PULUMI_CONFIG*`` variables. Helpers are fixtures, not importable functions, so that the
tests work under pytest's importlib import mode.
"""

from __future__ import annotations

import contextlib
import importlib
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
from hypothesis import HealthCheck, settings
from pulumi.dynamic import ConfigureRequest
from pulumi.dynamic.config import Config

from nodion_pulumi.container_registry import ContainerRegistryProvider
from nodion_pulumi.emulator import Emulator
from nodion_pulumi.registry_credentials import RegistryCredentialsProvider

TOKEN = "test-token"

# `make test` runs the bounded profile; `make reliability` loads "reliability" (longer runs).
# derandomize: the same examples on every run, so a CI failure replays on any machine.
settings.register_profile(
    "bounded",
    derandomize=True,
    deadline=None,
    database=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
settings.load_profile(os.environ.get("NODION_HYPOTHESIS_PROFILE", "bounded"))

P = TypeVar("P")
Configure = Callable[..., Any]


@contextlib.contextmanager
def _clean_process_state(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The package's one process-state owner, isolated for the test; before it existed, the
    three module-level caches it replaces, emptied."""
    try:
        runtime = importlib.import_module("nodion_pulumi._runtime")
    except ModuleNotFoundError:
        runtime = None
    if runtime is not None:
        with runtime.isolated():
            yield
        return
    provider_module = importlib.import_module("nodion_pulumi._provider")
    clients_module = importlib.import_module("nodion_pulumi._clients")
    ownership = importlib.import_module("nodion_pulumi._ownership")
    sessions: dict[Any, Any] = {}
    clients: dict[Any, Any] = {}
    monkeypatch.setattr(provider_module, "_sessions", sessions)
    monkeypatch.setattr(provider_module, "_missing_token_reported", False)
    monkeypatch.setattr(provider_module, "_owners", ownership.Owners())
    monkeypatch.setattr(clients_module, "_clients", clients)
    try:
        yield
    finally:
        for session in sessions.values():
            session.client.close()
        for client in clients.values():
            client.close()


@pytest.fixture(autouse=True)
def clean_process_state(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in list(os.environ):
        if name.startswith(("NODION_", "PULUMI_CONFIG")):
            monkeypatch.delenv(name)
    with _clean_process_state(monkeypatch):
        yield


@pytest.fixture
def emulator(tmp_path: Path) -> Iterator[Emulator]:
    em = Emulator(token=TOKEN, data_path=tmp_path / "emulator.db").start()
    try:
        yield em
    finally:
        em.stop()


@pytest.fixture
def provider_config(emulator: Emulator) -> Callable[..., dict[str, Any]]:
    """``provider_config(timeout=...)``: the stack configuration a provider is given."""

    def config(*, timeout: float | None = None) -> dict[str, Any]:
        raw: dict[str, Any] = {"nodion:apiUrl": emulator.url, "nodion:apiToken": TOKEN}
        if timeout is not None:
            raw["nodion:timeout"] = str(timeout)
        return raw

    return config


@pytest.fixture
def configure(provider_config: Callable[..., dict[str, Any]]) -> Configure:
    """``configure(provider, timeout=...)``: configure as the engine would."""

    def run(provider: P, *, timeout: float | None = None) -> P:
        raw = provider_config(timeout=timeout)
        provider.configure(ConfigureRequest(Config(raw, "proj")))  # type: ignore[attr-defined]
        return provider

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
