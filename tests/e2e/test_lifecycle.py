"""The resources through the real engine: preview, up, updates, replacements, destroy."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from pulumi import automation as auto

from nodion_devkit.engine import REPO_ROOT
from nodion_devkit.nodion_stack import NodionStack

pytestmark = pytest.mark.engine

QUICKSTART = str(REPO_ROOT / "examples" / "quickstart")
REGISTRY = "nodion:ContainerRegistry"
CREDENTIALS = "nodion:RegistryCredentials"


def _external(stack: NodionStack) -> list[dict[str, object]]:
    return [r for r in stack.emulator.admin.registries() if r["registry_type"] != "nodion"]


@pytest.mark.compat
def test_quickstart_preview_writes_nothing_up_creates_and_noop_up_writes_nothing(
    nodion_stack: Callable[..., NodionStack],
) -> None:
    stack = nodion_stack(QUICKSTART, project="nodion-quickstart")
    hub_token, ghcr_token = "hub-token-3b7f0e1d9a", "ghcr-token-c4e2a8f6b0"
    stack.secrets += [hub_token, ghcr_token]
    for key, value in (("dockerHubToken", hub_token), ("ghcrToken", ghcr_token)):
        stack.stack.set_config(f"nodion-quickstart:{key}", auto.ConfigValue(value, secret=True))
    admin = stack.emulator.admin

    preview = stack.preview()
    assert preview.change_summary.get("create") == 4  # the stack and three resources
    assert admin.writes() == []

    up = stack.up()
    assert up.summary.result == "succeeded"
    assert up.outputs["registryHostname"].value == "registry.fra.nodion.net"
    assert up.outputs["registryPassword"].secret
    assert up.outputs["dockerConfigJson"].secret
    login = up.outputs["dockerLogin"].value
    assert login.startswith("docker login registry.fra.nodion.net -u 'robot$project-")
    assert up.outputs["registryPassword"].value not in login
    docker_config = json.loads(up.outputs["dockerConfigJson"].value)
    auth = docker_config["auths"]["registry.fra.nodion.net"]
    assert auth["password"] == up.outputs["registryPassword"].value
    fra_id = stack.emulator.nodion_registry_id("fra")
    assert sorted((w["method"], w["path"]) for w in admin.writes()) == [
        ("POST", "/v1/container_registries"),
        ("POST", "/v1/container_registries"),
        ("POST", f"/v1/container_registries/{fra_id}/credentials"),
    ]
    hub = next(r for r in _external(stack) if r["registry_type"] == "docker_hub")
    assert (hub["name"], hub["hostname"], hub["has_credentials"]) == (
        "Docker Hub",
        "docker.io",
        True,
    )

    admin.clear_requests()
    again = stack.up()
    assert again.summary.resource_changes == {"same": 4}
    assert admin.writes() == []

    destroy = stack.destroy()
    assert destroy.summary.result == "succeeded"
    assert _external(stack) == []
    fra = next(r for r in admin.registries() if r["hostname"] == "registry.fra.nodion.net")
    assert fra["has_credentials"] is False


def test_rename_is_one_patch_of_the_name_and_type_change_replaces(
    nodion_stack: Callable[..., NodionStack],
) -> None:
    stack = nodion_stack()
    registry = {
        "resource": "hub",
        "name": "Hub",
        "type": "docker_hub",
        "username": "bob",
        "password": True,
    }
    stack.set_spec({"registries": [registry]}, passwords={"hub": "hub-pass-91c3e7a5"})
    first = stack.up()
    registry_id = first.outputs["hub.id"].value
    admin = stack.emulator.admin

    admin.clear_requests()
    stack.set_spec({"registries": [{**registry, "name": "Hub renamed"}]})
    renamed = stack.up()
    assert renamed.summary.resource_changes.get("update") == 1
    writes = admin.writes()
    assert [(w["method"], w["path"], w["body_keys"]) for w in writes] == [
        ("PATCH", f"/v1/container_registries/{registry_id}", ["name"])
    ]
    assert renamed.outputs["hub.id"].value == registry_id

    admin.clear_requests()
    stack.set_spec(
        {"registries": [{**registry, "name": "Hub renamed", "type": "ghcr"}]},
        passwords={"hub": "hub-pass-2f8d0b6c"},
    )
    replaced = stack.up()
    assert replaced.summary.resource_changes.get("replace") == 1
    new_id = replaced.outputs["hub.id"].value
    assert new_id != registry_id
    assert replaced.outputs["hub.hostname"].value == "ghcr.io"
    methods = [w["method"] for w in admin.writes()]
    assert methods == ["POST", "DELETE"]  # create the replacement, then delete the old one
    assert [r["id"] for r in _external(stack)] == [new_id]


def test_password_change_updates_in_place_without_showing_it(
    nodion_stack: Callable[..., NodionStack],
) -> None:
    stack = nodion_stack()
    registry = {"resource": "c", "name": "C", "type": "custom", "hostname": "reg.example.com:5000"}
    spec = {"registries": [{**registry, "username": "u", "password": True}]}
    stack.set_spec(spec, passwords={"c": "first-pass-6a0e4c2d"})
    stack.up()
    admin = stack.emulator.admin
    admin.clear_requests()
    stack.set_spec(spec, passwords={"c": "second-pass-e81b3f57"})
    preview = stack.preview(diff=True)
    assert preview.change_summary.get("update") == 1
    assert admin.writes() == []
    stack.up()
    assert [(w["method"], w["body_keys"]) for w in admin.writes()] == [("PATCH", ["password"])]


@pytest.mark.compat
def test_triggers_change_revokes_old_credentials_before_minting_new_ones(
    nodion_stack: Callable[..., NodionStack],
) -> None:
    stack = nodion_stack()
    credentials = {"resource": "push", "region": "nbg", "triggers": {"rotation": "1"}}
    stack.set_spec({"credentials": [credentials]})
    first = stack.up()
    old_password = first.outputs["push.password"].value
    admin = stack.emulator.admin
    registry_id = stack.emulator.nodion_registry_id("nbg")
    assert first.outputs["push.id"].value == registry_id

    admin.clear_requests()
    stack.set_spec({"credentials": [{**credentials, "triggers": {"rotation": "2"}}]})
    rotated = stack.up()
    assert rotated.summary.resource_changes.get("replace") == 1
    path = f"/v1/container_registries/{registry_id}/credentials"
    assert [(w["method"], w["path"], w["status"]) for w in admin.writes()] == [
        ("DELETE", path, 200),
        ("POST", path, 201),
    ]
    new_password = rotated.outputs["push.password"].value
    assert new_password
    assert new_password != old_password


@pytest.mark.compat
def test_destroy_removes_external_registries_and_revokes_credentials(
    nodion_stack: Callable[..., NodionStack],
) -> None:
    stack = nodion_stack()
    stack.set_spec(
        {
            "registries": [
                {"resource": "a", "name": "A", "type": "docker_hub"},
                {"resource": "b", "name": "B", "type": "ghcr", "username": "x", "password": True},
            ],
            "credentials": [
                {"resource": "fra", "region": "fra"},
                {"resource": "hel", "region": "hel"},
            ],
        },
        passwords={"b": "b-pass-0d9c7e31"},
    )
    stack.up()
    assert len(_external(stack)) == 2
    stack.destroy()
    assert _external(stack) == []
    assert all(not r["has_credentials"] for r in stack.emulator.admin.registries())
    assert stack.resources(REGISTRY) == []
    assert stack.resources(CREDENTIALS) == []
