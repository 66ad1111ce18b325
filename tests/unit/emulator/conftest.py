"""Fixtures for the emulator's own tests: authenticated raw clients with retries off.

Helpers are fixtures (not importable functions) so the tests work under any pytest import mode.
"""

from __future__ import annotations

import ssl
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from nodion_pulumi.emulator import Emulator

TOKEN = "test-token"
# One shared context: building a fresh one per client costs ~0.1 s.
TLS = ssl.create_default_context()

ClientFactory = Callable[[Emulator], httpx.Client]
Create = Callable[..., dict[str, Any]]


@pytest.fixture
def client_for() -> Iterator[ClientFactory]:
    """Plain transports: no retries, no proxies from the environment, short timeouts."""
    clients: list[httpx.Client] = []

    def make(emulator: Emulator) -> httpx.Client:
        client = httpx.Client(
            base_url=emulator.url,
            headers={"Authorization": f"Bearer {TOKEN}"},
            trust_env=False,
            timeout=10.0,
            verify=TLS,
        )
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


@pytest.fixture
def anon() -> Iterator[httpx.Client]:
    """A client that sends no credentials; tests pass full URLs and their own headers."""
    with httpx.Client(trust_env=False, timeout=10.0, verify=TLS) as client:
        yield client


@pytest.fixture
def api(emulator: Emulator, client_for: ClientFactory) -> httpx.Client:
    return client_for(emulator)


def _create(api: httpx.Client, **body: Any) -> dict[str, Any]:
    payload = {"name": "hub", "registry_type": "docker_hub", **body}
    response = api.post("/container_registries", json=payload)
    assert response.status_code == 200, response.text
    registry: dict[str, Any] = response.json()["container_registry"]
    return registry


@pytest.fixture
def create_registry() -> Create:
    """`create_registry(api, **body)`: POST an external registry and return the object."""
    return _create
