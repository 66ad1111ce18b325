"""The request log and the out-of-band changes under /_emulator/."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from nodion_pulumi.emulator import Emulator, EmulatorAdmin, EmulatorAdminError

Create = Callable[..., dict[str, Any]]

AUTH = {"Authorization": "Bearer test-token"}
ENTRY_KEYS = {"seq", "method", "path", "status", "fault", "body_keys", "project", "duration_ms"}


def test_request_log_records_shapes_never_values(
    emulator: Emulator, api: httpx.Client, anon: httpx.Client, create_registry: Create
) -> None:
    created = create_registry(api, name="n", username="octocat", password="hunter2-SECRET")
    api.get(f"/container_registries/{created['id']}", headers={"X-Nodion-Project": "p-1"})
    entries = emulator.admin.requests()
    assert [(e["method"], e["status"]) for e in entries] == [("POST", 200), ("GET", 403)]
    first, second = entries
    assert set(first) == ENTRY_KEYS
    assert first["path"] == "/v1/container_registries"
    assert first["body_keys"] == ["name", "password", "registry_type", "username"]
    assert first["fault"] is None
    assert first["project"] is None
    assert isinstance(first["duration_ms"], float)
    assert second["project"] == "p-1"
    assert second["seq"] > first["seq"]
    raw = anon.get(f"{emulator.root_url}/_emulator/requests", headers=AUTH).text
    assert "hunter2-SECRET" not in raw
    assert "octocat" not in raw


def test_request_log_skips_admin_calls_and_query_strings(
    emulator: Emulator, api: httpx.Client
) -> None:
    emulator.admin.registries()
    emulator.admin.health()
    api.get("/container_registries?page=2&token=abc")
    (entry,) = emulator.admin.requests()
    assert entry["path"] == "/v1/container_registries"
    emulator.admin.clear_requests()
    assert emulator.admin.requests() == []


def test_writes_lists_only_changing_api_calls(
    emulator: Emulator, api: httpx.Client, create_registry: Create
) -> None:
    created = create_registry(api)
    api.get("/container_registries")
    api.patch(f"/container_registries/{created['id']}", json={"name": "x"})
    api.delete(f"/container_registries/{created['id']}")
    assert [(w["method"], w["status"]) for w in emulator.admin.writes()] == [
        ("POST", 200),
        ("PATCH", 200),
        ("DELETE", 200),
    ]


def test_out_of_band_delete(emulator: Emulator, api: httpx.Client, create_registry: Create) -> None:
    created = create_registry(api)
    deleted = emulator.admin.delete_registry(created["id"])
    assert deleted["id"] == created["id"]
    assert api.get(f"/container_registries/{created['id']}").status_code == 404
    with pytest.raises(EmulatorAdminError) as missing:
        emulator.admin.delete_registry(created["id"])
    assert missing.value.status == 404
    with pytest.raises(EmulatorAdminError, match="Nodion registries cannot be deleted"):
        emulator.admin.delete_registry(emulator.nodion_registry_id("fra"))
    assert [w["method"] for w in emulator.admin.writes()] == ["POST"]  # only the create


def test_out_of_band_drop_credentials(
    emulator: Emulator, api: httpx.Client, create_registry: Create
) -> None:
    ams = emulator.nodion_registry_id("ams")
    assert api.post(f"/container_registries/{ams}/credentials").status_code == 201
    dropped = emulator.admin.drop_credentials(ams)
    assert dropped["has_credentials"] is False
    assert api.get(f"/container_registries/{ams}").json()["container_registry"] == dropped
    assert emulator.admin.drop_credentials(ams)["has_credentials"] is False  # idempotent
    assert api.post(f"/container_registries/{ams}/credentials").status_code == 201
    with pytest.raises(EmulatorAdminError, match="not a Nodion registry"):
        emulator.admin.drop_credentials(create_registry(api)["id"])


def test_out_of_band_rename_and_update(
    emulator: Emulator, api: httpx.Client, create_registry: Create
) -> None:
    created = create_registry(api, name="before", password="p")
    renamed = emulator.admin.rename_registry(created["id"], "renamed in the dashboard")
    assert renamed["name"] == "renamed in the dashboard"
    assert renamed["updated_at"] >= created["updated_at"]
    updated = emulator.admin.update_registry(
        created["id"], hostname="mirror.example", password=None
    )
    assert updated["hostname"] == "mirror.example"
    assert updated["has_credentials"] is False
    assert api.get(f"/container_registries/{created['id']}").json()["container_registry"] == updated


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"name": ""}, "Name must be a non-blank string"),
        ({"registry_type": "ghcr"}, "unknown field: registry_type"),
    ],
)
def test_out_of_band_update_validation(
    emulator: Emulator,
    api: httpx.Client,
    create_registry: Create,
    fields: dict[str, Any],
    message: str,
) -> None:
    created = create_registry(api)
    with pytest.raises(EmulatorAdminError, match=message):
        emulator.admin.update_registry(created["id"], **fields)


def test_out_of_band_update_refuses_nodion_registries(emulator: Emulator) -> None:
    with pytest.raises(EmulatorAdminError, match="Nodion registries cannot be updated") as caught:
        emulator.admin.rename_registry(emulator.nodion_registry_id("fra"), "mine now")
    assert caught.value.status == 400


def test_state_health_and_admin_endpoint_errors(emulator: Emulator, anon: httpx.Client) -> None:
    assert emulator.admin.health() is True
    state = anon.get(f"{emulator.root_url}/_emulator/state", headers=AUTH).json()
    assert [r["hostname"] for r in state["registries"]] == [
        f"registry.{slug}.nodion.net" for slug in ("fra", "nbg", "ams", "hel")
    ]
    assert anon.get(f"{emulator.root_url}/_emulator/nope", headers=AUTH).status_code == 404
    put = anon.put(f"{emulator.root_url}/_emulator/state", headers=AUTH, json={})
    assert put.status_code == 405


def test_admin_accepts_the_api_url_and_reports_a_dead_emulator() -> None:
    with Emulator() as em:
        with EmulatorAdmin(em.url, token="any") as admin:
            assert admin.root_url == em.root_url
            assert admin.health() is True
        dead_url = em.root_url
    with EmulatorAdmin(dead_url, timeout=1.0) as admin:
        assert admin.health() is False


def test_faults_listing_is_json_serialisable(emulator: Emulator) -> None:
    fault_id = emulator.admin.add_fault("latency", seconds=0.01, path="/credentials", seed=3)
    (fault,) = emulator.admin.faults()
    assert fault["id"] == fault_id
    assert fault["kind"] == "latency"
    assert fault["path"] == "/credentials"
    json.dumps(fault)
