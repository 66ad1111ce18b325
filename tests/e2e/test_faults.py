"""Faults injected by the emulator while the real engine deploys: every run either succeeds
by retrying or recovering, and never leaves a duplicate, an orphan or a lost credential."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from pulumi import automation as auto

from nodion_devkit.nodion_stack import NodionStack
from nodion_pulumi._facts import CONTAINER_REGISTRY_TYPE

pytestmark = pytest.mark.engine

CREATE = r"^/v1/container_registries$"
ONE = r"^/v1/container_registries/[^/]+$"
CREDENTIALS = r"/credentials$"

SPEC: dict[str, Any] = {
    "registries": [{"resource": "hub", "name": "Hub", "type": "docker_hub"}],
    "credentials": [{"resource": "fra", "region": "fra"}],
}


def _external(stack: NodionStack) -> list[dict[str, Any]]:
    return [r for r in stack.emulator.admin.registries() if r["registry_type"] != "nodion"]


def _fault(kind: str, **fields: Any) -> dict[str, Any]:
    return {"kind": kind, **fields}


CREATE_FAULTS = [
    pytest.param(_fault("status", status=429, retry_after=0.2), id="429-retry-after"),
    pytest.param(_fault("status", status=503), id="503"),
    pytest.param(_fault("status", status=500), id="500"),
    pytest.param(_fault("status", status=502), id="502"),
    pytest.param(_fault("status", status=504), id="504"),
    pytest.param(_fault("reset_before"), id="reset-before"),
    pytest.param(_fault("drop_after"), id="dropped-after-commit"),
]


@pytest.mark.parametrize("fault", CREATE_FAULTS)
def test_create_under_a_fault_yields_exactly_one_registry_and_one_credential(
    nodion_stack: Callable[..., NodionStack], fault: dict[str, Any]
) -> None:
    stack = nodion_stack()
    stack.set_spec(SPEC)
    admin = stack.emulator.admin
    admin.add_fault(method="POST", path=CREATE, **fault)
    admin.add_fault(method="POST", path=CREDENTIALS, **fault)

    up = stack.up()
    assert up.summary.result == "succeeded"
    [registry] = _external(stack)
    assert registry["id"] == up.outputs["hub.id"].value
    fra_id = stack.emulator.nodion_registry_id("fra")
    assert next(r for r in admin.registries() if r["id"] == fra_id)["has_credentials"]
    password = up.outputs["fra.password"].value
    assert password

    credential_posts = [
        w for w in admin.writes() if w["method"] == "POST" and w["path"].endswith("/credentials")
    ]
    minted = [w for w in credential_posts if w["status"] == 201]
    assert len(minted) == 1, "exactly one set of credentials was handed to us"
    if fault["kind"] == "drop_after":
        # Nodion minted a set whose answer was lost: it must have been revoked first.
        revokes = [w for w in admin.writes() if w["method"] == "DELETE"]
        assert [w["status"] for w in revokes] == [200]

    stack.destroy()
    assert _external(stack) == []


UPDATE_DELETE_FAULTS = [
    pytest.param(_fault("status", status=429, retry_after=0.2), id="429-retry-after"),
    pytest.param(_fault("status", status=502), id="502"),
    pytest.param(_fault("status", status=504), id="504"),
    pytest.param(_fault("drop_after"), id="dropped-after-commit"),
]


@pytest.mark.parametrize("fault", UPDATE_DELETE_FAULTS)
def test_update_and_delete_under_a_fault_converge(
    nodion_stack: Callable[..., NodionStack], fault: dict[str, Any]
) -> None:
    stack = nodion_stack()
    stack.set_spec({"registries": SPEC["registries"]})
    stack.up()
    admin = stack.emulator.admin

    admin.add_fault(method="PATCH", path=ONE, **fault)
    stack.set_spec({"registries": [{**SPEC["registries"][0], "name": "Hub renamed"}]})
    stack.up()
    assert [r["name"] for r in _external(stack)] == ["Hub renamed"]

    admin.add_fault(method="DELETE", path=ONE, **fault)
    stack.destroy()
    assert _external(stack) == []
    assert stack.resources(CONTAINER_REGISTRY_TYPE) == []


def test_refresh_retries_a_failing_list(nodion_stack: Callable[..., NodionStack]) -> None:
    stack = nodion_stack()
    stack.set_spec(SPEC)
    stack.up()
    admin = stack.emulator.admin
    admin.add_fault(method="GET", path=CREATE, status=503, kind="status", times=2)
    admin.clear_requests()
    refresh = stack.refresh()
    assert refresh.summary.result == "succeeded"
    statuses = [r["status"] for r in admin.requests() if r["path"] == "/v1/container_registries"]
    assert statuses == [503, 503, 200]
    assert len([r for r in stack.resources() if "/nodion:" in r["type"]]) == 2


def test_create_slower_than_the_timeout_is_recognised_not_duplicated(
    nodion_stack: Callable[..., NodionStack],
) -> None:
    stack = nodion_stack()
    stack.stack.set_config("nodion:timeout", auto.ConfigValue("1"))
    stack.set_spec(SPEC)
    admin = stack.emulator.admin
    # Nodion carries the requests out at once but answers after the client gave up: the
    # provider's first look finds what was made, however slowly this machine runs.
    admin.add_fault(method="POST", path=CREATE, kind="slow_answer", seconds=1.4)
    admin.add_fault(method="POST", path=CREDENTIALS, kind="slow_answer", seconds=1.4)

    up = stack.up()
    [registry] = _external(stack)
    assert registry["id"] == up.outputs["hub.id"].value
    credential_writes = [
        (w["method"], w["status"]) for w in admin.writes() if w["path"].endswith("/credentials")
    ]
    # The first set was minted after we stopped waiting: revoked, then minted again for us.
    assert credential_writes == [("POST", 201), ("DELETE", 200), ("POST", 201)]
    assert any("recognised the registry Nodion created" in line for line in stack.transcript)
