"""A provider keeps working after the process's shared client was closed.

Closing the shared client is allowed (a script tidying up, a lookup's owner), and the next
request for a client gets a new one; but the providers' cached session kept the closed
client, so every later provider call failed with a private ``_ClosedClientError``. The
process's clients come from its one process-state owner (``nodion_pulumi._runtime``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from nodion_devkit.nodion_truth import registries_by_id
from nodion_pulumi import _runtime
from nodion_pulumi.container_registry import ContainerRegistryProvider
from nodion_pulumi.emulator import Emulator


def _close_the_shared_client(config: dict[str, Any]) -> None:
    """Close the client the process hands out for ``config``, as any holder of it may."""
    _runtime.current().client(config).close()


def test_a_provider_call_after_the_shared_client_was_closed_works(
    registries: ContainerRegistryProvider,
    provider_config: Callable[..., dict[str, Any]],
    emulator: Emulator,
) -> None:
    inputs = {"name": "mirror", "registry_type": "docker_hub"}
    first = registries.check({}, inputs)  # asks Nodion once: the client is in use
    assert first.failures == []

    _close_the_shared_client(provider_config())

    created = registries.create(first.inputs)
    assert str(created.id) in registries_by_id(emulator)
    read = registries.read(str(created.id), dict(created.outs or {}))
    assert read.id == created.id
