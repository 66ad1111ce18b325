"""Mistakes a new user makes, met through the real CLI: caught at preview, before any write,
with one message that says what to do, and no Python traceback for program-side failures."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from pulumi import automation as auto

from nodion_devkit.nodion_stack import TOKEN, NodionStack
from nodion_pulumi import NodionClient, Settings

pytestmark = pytest.mark.engine

HUB = {"resource": "hub", "name": "Hub", "type": "docker_hub"}


def _fails(operation: Callable[[], object]) -> str:
    with pytest.raises(auto.CommandError) as failure:
        operation()
    return str(failure.value)


def _refused_before_any_write(stack: NodionStack, registry_id: str) -> str:
    """Declare credentials for ``registry_id``: preview and up must both refuse, unwritten."""
    stack.set_spec({"credentials": [{"resource": "creds", "registryId": registry_id}]})
    previewed = _fails(stack.preview)
    assert "Traceback" not in previewed
    _fails(stack.up)
    assert stack.emulator.admin.writes() == []
    return previewed


def test_a_missing_token_is_reported_at_preview_and_nothing_is_written(
    nodion_stack: Callable[..., NodionStack],
) -> None:
    stack = nodion_stack()
    stack.engine.extra_env["NODION_API_TOKEN"] = ""  # blank counts as unset
    stack.stack.remove_config("nodion:apiToken")
    stack.set_spec({"registries": [HUB, {**HUB, "resource": "hub2", "name": "Hub 2"}]})

    previewed = _fails(stack.preview)
    assert "pulumi config set --secret nodion:apiToken <token>" in previewed
    assert "export NODION_API_TOKEN=<token>" in previewed
    assert "Traceback" not in previewed

    upped = _fails(stack.up)
    assert "nodion:apiToken" in upped
    assert stack.emulator.admin.requests() == []
    assert stack.resources("ContainerRegistry") == []


def test_credentials_for_a_missing_registry_fail_at_preview(
    nodion_stack: Callable[..., NodionStack],
) -> None:
    stack = nodion_stack()
    previewed = _refused_before_any_write(stack, "no-such-registry")
    assert "there is no registry no-such-registry in this Nodion project" in previewed
    assert 'get_nodion_registry("fra").id' in previewed


def test_credentials_for_an_external_registry_fail_at_preview(
    nodion_stack: Callable[..., NodionStack],
) -> None:
    stack = nodion_stack()
    settings = Settings(api_token=TOKEN, api_url=stack.emulator.url)  # type: ignore[arg-type]
    with NodionClient(settings) as client:
        external = client.create_registry(name="Hub", registry_type="docker_hub")
    stack.emulator.admin.clear_requests()
    previewed = _refused_before_any_write(stack, external.id)
    assert f"registry {external.id} (Hub, docker.io) is an external registry" in previewed


def test_a_failed_lookup_ends_the_program_with_its_message_alone(
    nodion_stack: Callable[..., NodionStack],
) -> None:
    stack = nodion_stack()
    stack.set_spec({"credentials": [{"resource": "creds", "region": "xyz"}]})
    previewed = _fails(stack.preview)
    assert "no Nodion registry for region 'xyz'. Available regions: fra" in previewed
    assert "Traceback" not in previewed
    assert "Program failed with an unhandled exception" not in previewed
    assert stack.emulator.admin.writes() == []
