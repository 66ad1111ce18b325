"""The emulator speaks the documented API: keys, types, wrappers and status codes.

Key sets are taken from the spec's own examples (tests/fixtures/spec), so a drift between the
emulator and the documentation fails here rather than in a provider test far away.
"""

from __future__ import annotations

import json
import re
import ssl
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from nodion_pulumi.emulator import Emulator

SPEC_DIR = Path(__file__).resolve().parents[1] / "fixtures" / "spec"
TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}[+-]\d\d:\d\d$")
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def _spec(name: str) -> Any:
    return json.loads((SPEC_DIR / name).read_text(encoding="utf-8"))


REGISTRY_KEYS = set(_spec("get_registry.json")["container_registry"])
CREDENTIALS_KEYS = set(_spec("create_credentials.json")["container_registry"])
TLS = ssl.create_default_context()  # shared: building one per client is slow


@pytest.fixture
def api(emulator: Emulator) -> Iterator[httpx.Client]:
    with httpx.Client(
        base_url=emulator.url,
        headers={"Authorization": "Bearer test-token"},
        trust_env=False,
        verify=TLS,
    ) as client:
        yield client


def assert_registry_shape(obj: dict[str, Any]) -> None:
    assert set(obj) == REGISTRY_KEYS
    assert UUID.match(obj["id"])
    assert obj["status"] == "available"
    assert obj["registry_type"] in {"nodion", "docker_hub", "ghcr", "custom"}
    assert isinstance(obj["name"], str)
    assert obj["name"]
    assert isinstance(obj["hostname"], str)
    assert obj["hostname"]
    assert isinstance(obj["has_credentials"], bool)
    if obj["registry_type"] == "nodion":
        assert UUID.match(obj["region_id"])
    else:
        assert obj["region_id"] is None
    assert TIMESTAMP.match(obj["created_at"]), obj["created_at"]
    assert TIMESTAMP.match(obj["updated_at"]), obj["updated_at"]


def test_spec_fixtures_agree_with_each_other() -> None:
    listed = _spec("list_registries.json")["container_registries"]
    assert all(set(r) == REGISTRY_KEYS for r in listed)
    assert {"id", "hostname", "username", "password"} == CREDENTIALS_KEYS
    assert all(TIMESTAMP.match(r["created_at"]) for r in listed)


def test_list_has_the_documented_wrapper_and_keys(api: httpx.Client) -> None:
    response = api.get("/container_registries")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == set(_spec("list_registries.json"))
    registries = body["container_registries"]
    assert [r["hostname"] for r in registries] == [
        "registry.fra.nodion.net",
        "registry.nbg.nodion.net",
        "registry.ams.nodion.net",
        "registry.hel.nodion.net",
    ]
    for registry in registries:
        assert_registry_shape(registry)
        assert registry["registry_type"] == "nodion"
        assert registry["has_credentials"] is False
    assert registries[0]["name"] == "Nodion Registry (Frankfurt, DE)"


def test_create_answers_200_with_the_wrapped_object(api: httpx.Client) -> None:
    response = api.post(
        "/container_registries",
        json={
            "name": "My Docker Hub",
            "registry_type": "docker_hub",
            "username": "u",
            "password": "p",
        },
    )
    assert response.status_code == 200
    body = response.json()
    assert set(body) == set(_spec("get_registry.json"))
    created = body["container_registry"]
    assert_registry_shape(created)
    assert created["hostname"] == "docker.io"
    assert created["has_credentials"] is True

    fetched = api.get(f"/container_registries/{created['id']}")
    assert fetched.status_code == 200
    assert fetched.json() == body


def test_update_and_delete_answer_200_with_the_wrapped_object(api: httpx.Client) -> None:
    created = api.post("/container_registries", json={"name": "a", "registry_type": "ghcr"}).json()[
        "container_registry"
    ]
    updated = api.patch(f"/container_registries/{created['id']}", json={"name": "b"})
    assert updated.status_code == 200
    assert_registry_shape(updated.json()["container_registry"])
    assert updated.json()["container_registry"]["name"] == "b"
    deleted = api.delete(f"/container_registries/{created['id']}")
    assert deleted.status_code == 200
    assert deleted.json() == updated.json()


def test_credentials_answer_201_with_exactly_four_keys(
    api: httpx.Client, emulator: Emulator
) -> None:
    fra = emulator.nodion_registry_id("fra")
    response = api.post(f"/container_registries/{fra}/credentials")
    assert response.status_code == 201
    body = response.json()
    assert set(body) == set(_spec("create_credentials.json"))
    creds = body["container_registry"]
    assert set(creds) == CREDENTIALS_KEYS
    assert creds["id"] == fra
    assert creds["hostname"] == "registry.fra.nodion.net"
    assert creds["username"] == f"robot$project-{emulator.project_id[:8]}"
    assert isinstance(creds["password"], str)
    assert len(creds["password"]) >= 32

    after = api.get(f"/container_registries/{fra}").json()["container_registry"]
    assert after["has_credentials"] is True
    assert creds["password"] not in json.dumps(after)

    again = api.post(f"/container_registries/{fra}/credentials")
    assert again.status_code == 400
    assert again.json() == {"errors": ["Credentials already exist"]}


@pytest.mark.parametrize(
    ("method", "suffix", "body", "message"),
    [
        ("PATCH", "", {"name": "x"}, "Nodion registries cannot be updated"),
        ("DELETE", "", None, "Nodion registries cannot be deleted"),
    ],
)
def test_writes_to_a_nodion_registry_answer_400(
    api: httpx.Client,
    emulator: Emulator,
    method: str,
    suffix: str,
    body: dict[str, Any] | None,
    message: str,
) -> None:
    fra = emulator.nodion_registry_id("fra")
    response = api.request(method, f"/container_registries/{fra}{suffix}", json=body)
    assert response.status_code == 400
    assert response.json() == {"errors": [message]}


def test_creating_a_nodion_registry_answers_400(api: httpx.Client) -> None:
    response = api.post("/container_registries", json={"name": "x", "registry_type": "nodion"})
    assert response.status_code == 400
    assert response.json() == {
        "errors": ["Nodion registries are created automatically and cannot be created manually"]
    }


def test_validation_errors_are_a_list_of_strings(api: httpx.Client) -> None:
    response = api.post("/container_registries", json={})
    assert response.status_code == 400
    body = response.json()
    assert set(body) == {"errors"}
    assert body["errors"] == ["Name can't be blank", "Registry type is not included in the list"]


def test_missing_or_wrong_token_answers_401(emulator: Emulator) -> None:
    url = f"{emulator.url}/container_registries"
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "test-token"}):
        response = httpx.get(url, headers=headers, trust_env=False, verify=TLS)
        assert response.status_code == 401
        assert response.json() == {"status": 401, "error": "Unauthorized"}


def test_wrong_project_answers_403(api: httpx.Client, emulator: Emulator) -> None:
    other = "00000000-0000-4000-8000-000000000000"
    response = api.get("/container_registries", headers={"X-Nodion-Project": other})
    assert response.status_code == 403
    assert response.json() == {"status": 403, "error": "Forbidden"}
    same = api.get("/container_registries", headers={"X-Nodion-Project": emulator.project_id})
    assert same.status_code == 200


@pytest.mark.parametrize(
    ("method", "suffix"),
    [
        ("GET", ""),
        ("PATCH", ""),
        ("DELETE", ""),
        ("POST", "/credentials"),
        ("DELETE", "/credentials"),
    ],
)
def test_unknown_id_answers_404(api: httpx.Client, method: str, suffix: str) -> None:
    missing = "00000000-0000-4000-8000-000000000001"
    response = api.request(method, f"/container_registries/{missing}{suffix}", json={})
    assert response.status_code == 404
    assert response.json() == {"status": 404, "error": "Not Found"}


def test_unknown_path_and_wrong_method(api: httpx.Client, emulator: Emulator) -> None:
    unknown = api.get("/apps")
    assert unknown.status_code == 404
    assert unknown.json() == {"status": 404, "error": "Not Found"}
    wrong = api.put(f"/container_registries/{emulator.nodion_registry_id('fra')}", json={})
    assert wrong.status_code == 405
    assert wrong.json() == {"status": 405, "error": "Method Not Allowed"}


def test_http11_keep_alive_and_content_length(api: httpx.Client) -> None:
    first = api.get("/container_registries")
    second = api.get("/container_registries")
    assert first.http_version == "HTTP/1.1"
    assert int(first.headers["content-length"]) == len(first.content)
    assert second.headers.get("connection", "").lower() != "close"
