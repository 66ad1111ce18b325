"""Fixtures for the resource layer's tests: providers driven directly, no Pulumi engine.

The providers and the lookups keep process-wide state in the process's runtime (settings,
clients, sessions, the registries whose credentials the run creates); every test gets a
runtime of its own (``_runtime.isolated()``) and an environment without ``NODION_*`` or
``PULUMI_CONFIG*`` variables. Helpers are fixtures, not importable functions, so that the
tests work under pytest's importlib import mode.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import pytest
from pulumi.dynamic import ConfigureRequest
from pulumi.dynamic.config import Config

from nodion_pulumi import _runtime
from nodion_pulumi._provider import NodionProvider
from nodion_pulumi.container_registry import ContainerRegistryProvider
from nodion_pulumi.emulator import Emulator
from nodion_pulumi.registry_credentials import RegistryCredentialsProvider

TOKEN = "test-token"

P = TypeVar("P", bound=NodionProvider)
Configure = Callable[..., Any]
ApiLog = Callable[[], list[tuple[str, str, list[str]]]]
CreateRegistry = Callable[..., tuple[str, dict[str, Any]]]


@pytest.fixture(autouse=True)
def _isolated(fresh_process_state: _runtime.Runtime) -> _runtime.Runtime:
    return fresh_process_state


@pytest.fixture
def configure(emulator: Emulator) -> Configure:
    """``configure(provider, token=..., url=...)``: configure as the engine would."""

    def run(
        provider: P,
        *,
        token: str | None = TOKEN,
        url: str | None = None,
        timeout: float | None = None,
    ) -> P:
        raw: dict[str, Any] = {"nodion:apiUrl": url or emulator.url}
        if token is not None:
            raw["nodion:apiToken"] = token
        if timeout is not None:
            raw["nodion:timeout"] = str(timeout)
        provider.configure(ConfigureRequest(Config(raw, "proj")))
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
def api_log(emulator: Emulator) -> ApiLog:
    """The API calls the emulator saw so far, as (method, path, body keys)."""

    def entries() -> list[tuple[str, str, list[str]]]:
        return [
            (e["method"], e["path"], e["body_keys"])
            for e in emulator.admin.requests()
            if str(e["path"]).startswith("/v1")
        ]

    return entries


@pytest.fixture
def create_registry(registries: ContainerRegistryProvider) -> CreateRegistry:
    """Check then create, as ``pulumi up`` does; returns (id, outputs)."""

    def create(**news: Any) -> tuple[str, dict[str, Any]]:
        inputs = {"name": "mirror", "registry_type": "docker_hub", **news}
        checked = registries.check({}, inputs)
        assert checked.failures == []
        result = registries.create(checked.inputs)
        assert result.outs is not None
        return str(result.id), dict(result.outs)

    return create
