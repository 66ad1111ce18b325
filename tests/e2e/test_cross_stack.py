"""examples/cross-stack consumes the quickstart's credentials through a StackReference."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from pulumi import automation as auto

from nodion_devkit.engine import REPO_ROOT
from nodion_devkit.nodion_stack import NodionStack
from nodion_pulumi._facts import CONTAINER_REGISTRY_TYPE

pytestmark = pytest.mark.engine

EXAMPLES = REPO_ROOT / "examples"


def test_cross_stack_registers_the_captured_credentials_as_a_custom_registry(
    nodion_stack: Callable[..., NodionStack],
) -> None:
    quickstart = nodion_stack(str(EXAMPLES / "quickstart"), project="nodion-quickstart")
    for key in ("dockerHubToken", "ghcrToken"):
        value = f"{key}-value-8e2d4f"
        quickstart.secrets.append(value)
        quickstart.stack.set_config(
            f"nodion-quickstart:{key}", auto.ConfigValue(value, secret=True)
        )
    produced = quickstart.up()
    password = produced.outputs["registryPassword"].value

    consumer = nodion_stack(str(EXAMPLES / "cross-stack"), project="nodion-cross-stack")
    consumer.secrets.append(password)
    consumer.stack.set_config(
        "nodion-cross-stack:credentialsStack",
        auto.ConfigValue(f"organization/nodion-quickstart/{quickstart.stack_name}"),
    )
    consumed = consumer.up()
    assert consumed.outputs["hostname"].value == "registry.fra.nodion.net"
    assert consumed.outputs["hasCredentials"].value is True

    registry_id = consumed.outputs["registryId"].value
    [registry] = [r for r in consumer.emulator.admin.registries() if r["id"] == registry_id]
    assert registry["registry_type"] == "custom"
    assert registry["name"] == "Nodion registry fra"
    [state] = consumer.resources(CONTAINER_REGISTRY_TYPE)
    assert "ciphertext" in state["outputs"]["password"]
    assert "ciphertext" in state["inputs"]["password"]

    consumer.destroy()
    quickstart.destroy()
    assert [r for r in consumer.emulator.admin.registries() if r["registry_type"] != "nodion"] == []
