"""Fixtures for the provider plugin's tests: the plugin's provider driven directly, as the
engine drives it over gRPC, against the emulator; each test with a runtime of its own."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

import pytest
from pulumi.provider.experimental.property_value import PropertyValue
from pulumi.provider.experimental.provider import ConfigureRequest

from nodion_pulumi import _runtime
from nodion_pulumi.emulator import Emulator
from nodion_pulumi.plugin._provider import NodionPlugin

TOKEN = "test-token"
T = TypeVar("T")


@pytest.fixture(autouse=True)
def _isolated(fresh_process_state: _runtime.Runtime) -> _runtime.Runtime:
    return fresh_process_state


@pytest.fixture
def run() -> Callable[[Coroutine[Any, Any, T]], T]:
    """Await one of the plugin's calls."""
    return asyncio.run


@pytest.fixture
def plugin(emulator: Emulator) -> NodionPlugin:
    """The plugin configured as the engine configures it from `nodion:*` stack config."""
    made = NodionPlugin()
    args = {
        "apiUrl": PropertyValue(emulator.url),
        "apiToken": PropertyValue(TOKEN, is_secret=True),
    }
    asyncio.run(made.configure(ConfigureRequest({}, args, True, True)))
    return made
