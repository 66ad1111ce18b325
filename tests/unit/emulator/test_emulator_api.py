"""Behaviour of the emulated Container Registries API beyond the bare contract."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

import httpx
import pytest

from nodion_pulumi._facts import (
    DEFAULT_HOSTNAMES,
    EXTERNAL_REGISTRY_TYPES,
    NODION_REGISTRY_TYPE,
    is_registry_id,
    region_slug_of,
)
from nodion_pulumi.emulator import REGIONS, Emulator
from nodion_pulumi.emulator._clock import iso_timestamp

Create = Callable[..., dict[str, Any]]
ClientFactory = Callable[[Emulator], httpx.Client]


def test_hostname_defaults_per_registry_type(api: httpx.Client, create_registry: Create) -> None:
    for registry_type, default in DEFAULT_HOSTNAMES.items():
        assert create_registry(api, registry_type=registry_type)["hostname"] == default
    custom = create_registry(api, registry_type="custom", hostname="registry.example.com:5000")
    assert custom["hostname"] == "registry.example.com:5000"
    hub_mirror = create_registry(api, registry_type="docker_hub", hostname="mirror.example.com")
    assert hub_mirror["hostname"] == "mirror.example.com"


def test_custom_registry_requires_a_hostname(api: httpx.Client) -> None:
    for hostname in (None, "", "   "):
        response = api.post(
            "/container_registries",
            json={"name": "c", "registry_type": "custom", "hostname": hostname},
        )
        assert response.status_code == 400
        assert response.json() == {"errors": ["Hostname can't be blank"]}


def test_every_external_type_and_no_other_can_be_created(
    api: httpx.Client, create_registry: Create
) -> None:
    for registry_type in EXTERNAL_REGISTRY_TYPES:
        created = create_registry(api, registry_type=registry_type, hostname="r.example")
        assert created["registry_type"] == registry_type
    response = api.post(
        "/container_registries", json={"name": "x", "registry_type": NODION_REGISTRY_TYPE}
    )
    assert response.status_code == 400


def test_ids_and_hostnames_follow_the_packages_rules(
    emulator: Emulator, api: httpx.Client, create_registry: Create
) -> None:
    create_registry(api)
    listed = api.get("/container_registries").json()["container_registries"]
    assert all(is_registry_id(r["id"]) for r in listed)
    nodion = [r for r in listed if r["registry_type"] == NODION_REGISTRY_TYPE]
    assert sorted(region_slug_of(r["hostname"]) or "" for r in nodion) == sorted(emulator.regions)


@pytest.mark.parametrize("registry_type", [None, "", "quay", "DOCKER_HUB", 3])
def test_invalid_registry_type(api: httpx.Client, registry_type: object) -> None:
    response = api.post("/container_registries", json={"name": "x", "registry_type": registry_type})
    assert response.status_code == 400
    assert response.json() == {"errors": ["Registry type is not included in the list"]}


@pytest.mark.parametrize("content", [b"{not json", b"[1, 2]", b'"name"', b"\xff\xfe"])
def test_bad_bodies_answer_400_with_an_errors_list(api: httpx.Client, content: bytes) -> None:
    response = api.post(
        "/container_registries", content=content, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert isinstance(errors, list)
    assert errors
    assert all(isinstance(e, str) for e in errors)


def test_unknown_body_keys_are_ignored(api: httpx.Client, create_registry: Create) -> None:
    created = create_registry(
        api, status="broken", region_id="x", has_credentials=True, id="mine", extra={"a": 1}
    )
    assert created["status"] == "available"
    assert created["region_id"] is None
    assert created["has_credentials"] is False
    assert created["id"] != "mine"


def test_external_credentials_are_never_returned(
    api: httpx.Client, create_registry: Create
) -> None:
    created = create_registry(api, username="octocat", password="hunter2-SECRET")
    assert created["has_credentials"] is True
    listed = api.get("/container_registries").text
    fetched = api.get(f"/container_registries/{created['id']}").text
    for text in (json.dumps(created), listed, fetched):
        assert "hunter2-SECRET" not in text
        assert "octocat" not in text
        assert '"username"' not in text
        assert '"password"' not in text


def test_listing_order_nodion_by_region_then_external_by_creation(
    client_for: ClientFactory, create_registry: Create
) -> None:
    with Emulator(token="test-token", regions=["zrh", "fra", "ams"]) as em:
        api = client_for(em)
        names = [create_registry(api, name=f"ext-{i}")["name"] for i in range(3)]
        listed = api.get("/container_registries").json()["container_registries"]
    assert [r["hostname"] for r in listed[:3]] == [
        "registry.fra.nodion.net",
        "registry.ams.nodion.net",
        "registry.zrh.nodion.net",
    ]
    assert [r["name"] for r in listed[3:]] == names
    assert listed[2]["name"] == "Nodion Registry (Zurich, CH)"
    assert listed[2]["region_id"] == REGIONS["zrh"].id


class SteppedClock:
    """A clock that moves only when told to: timestamps a test can predict exactly."""

    def __init__(self) -> None:
        self.now = datetime(2025, 1, 15, 9, 0, tzinfo=timezone.utc)

    def __call__(self) -> datetime:
        return self.now

    def advance(self) -> None:
        self.now += timedelta(seconds=1)


@pytest.fixture
def clock() -> SteppedClock:
    return SteppedClock()


@pytest.fixture
def timed_api(clock: SteppedClock, client_for: ClientFactory) -> Iterator[httpx.Client]:
    with Emulator(token="test-token", clock=clock) as emulator:
        yield client_for(emulator)


def test_timestamps_come_from_the_emulators_clock(
    timed_api: httpx.Client, create_registry: Create, clock: SteppedClock
) -> None:
    created = create_registry(timed_api, name="at nine")
    assert created["created_at"] == created["updated_at"] == iso_timestamp(clock.now)
    clock.advance()
    listed = timed_api.get("/container_registries").json()["container_registries"]
    [read] = [r for r in listed if r["name"] == "at nine"]
    assert read["updated_at"] == created["updated_at"]


def test_patch_changes_only_the_given_fields(
    timed_api: httpx.Client, create_registry: Create, clock: SteppedClock
) -> None:
    api = timed_api
    created = create_registry(api, name="before", username="u", password="p")
    clock.advance()
    response = api.patch(
        f"/container_registries/{created['id']}",
        json={"name": "after", "registry_type": "ghcr", "unknown": 1},
    )
    assert response.status_code == 200
    updated = response.json()["container_registry"]
    assert updated["name"] == "after"
    assert updated["registry_type"] == "docker_hub"
    assert updated["hostname"] == "docker.io"
    assert updated["has_credentials"] is True
    assert updated["created_at"] == created["created_at"]
    assert updated["updated_at"] == iso_timestamp(clock.now)
    assert updated["updated_at"] > created["updated_at"]


def test_patch_without_a_change_keeps_updated_at(
    timed_api: httpx.Client, create_registry: Create, clock: SteppedClock
) -> None:
    api = timed_api
    created = create_registry(api, name="same", password="p")
    clock.advance()
    response = api.patch(
        f"/container_registries/{created['id']}", json={"name": "same", "password": "p"}
    )
    assert response.json()["container_registry"]["updated_at"] == created["updated_at"]


def test_patch_can_clear_the_password(api: httpx.Client, create_registry: Create) -> None:
    created = create_registry(api, username="u", password="p")
    response = api.patch(
        f"/container_registries/{created['id']}", json={"username": None, "password": None}
    )
    assert response.json()["container_registry"]["has_credentials"] is False


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"name": ""}, "Name can't be blank"),
        ({"name": None}, "Name can't be blank"),
        ({"hostname": "  "}, "Hostname can't be blank"),
    ],
)
def test_patch_rejects_blank_fields(
    api: httpx.Client, body: object, message: str, create_registry: Create
) -> None:
    created = create_registry(api)
    response = api.patch(f"/container_registries/{created['id']}", json=body)
    assert response.status_code == 400
    assert response.json() == {"errors": [message]}
    unchanged = api.get(f"/container_registries/{created['id']}").json()["container_registry"]
    assert unchanged == created


def test_delete_removes_the_registry(api: httpx.Client, create_registry: Create) -> None:
    created = create_registry(api)
    assert api.delete(f"/container_registries/{created['id']}").status_code == 200
    assert api.get(f"/container_registries/{created['id']}").status_code == 404
    assert api.delete(f"/container_registries/{created['id']}").status_code == 404


def test_credentials_can_be_revoked_and_minted_again(api: httpx.Client, emulator: Emulator) -> None:
    nbg = emulator.nodion_registry_id("nbg")
    first = api.post(f"/container_registries/{nbg}/credentials").json()["container_registry"]
    revoked = api.delete(f"/container_registries/{nbg}/credentials")
    assert revoked.status_code == 200
    assert revoked.json()["container_registry"]["has_credentials"] is False
    assert revoked.json()["container_registry"]["id"] == nbg
    again = api.delete(f"/container_registries/{nbg}/credentials")
    assert again.status_code == 400
    assert again.json() == {"errors": ["Registry has no credentials"]}
    second = api.post(f"/container_registries/{nbg}/credentials")
    assert second.status_code == 201
    assert second.json()["container_registry"]["password"] != first["password"]


def test_credentials_only_for_nodion_registries(api: httpx.Client, create_registry: Create) -> None:
    created = create_registry(api, password="p")
    for method in ("POST", "DELETE"):
        response = api.request(method, f"/container_registries/{created['id']}/credentials")
        assert response.status_code == 400
        assert response.json() == {"errors": ["Registry is not a Nodion registry"]}


def test_without_a_configured_token_any_bearer_is_accepted(anon: httpx.Client) -> None:
    with Emulator() as em:
        url = f"{em.url}/container_registries"
        accepted = anon.get(url, headers={"Authorization": "Bearer anything"})
        assert accepted.status_code == 200
        for header in ({}, {"Authorization": "Bearer"}, {"Authorization": "Basic eDp5"}):
            assert anon.get(url, headers=header).status_code == 401


def test_timestamps_use_the_nodion_offset(api: httpx.Client, create_registry: Create) -> None:
    created = create_registry(api)
    assert created["created_at"][-6:] in {"+01:00", "+02:00", "+00:00"}


def test_constructor_rejects_unknown_regions_and_bad_project_ids() -> None:
    with pytest.raises(ValueError, match=r"unknown region\(s\): atlantis.*fra"):
        Emulator(regions=["fra", "atlantis"])
    with pytest.raises(ValueError, match="UUID"):
        Emulator(project_id="my-project")
    em = Emulator(regions="fra, hel")
    assert em.regions == ("fra", "hel")
    with pytest.raises(ValueError, match="seeded: fra, hel"):
        em.nodion_registry_id("ams")


def test_unknown_paths_outside_v1(emulator: Emulator, anon: httpx.Client) -> None:
    root = anon.get(emulator.root_url + "/")
    assert root.status_code == 404
    assert root.json() == {"status": 404, "error": "Not Found"}


@pytest.mark.parametrize(
    ("path", "method"),
    [("/v1/container_registries", "POST"), ("/_emulator/faults", "POST")],
)
def test_deeply_nested_json_answers_400_and_keeps_the_connection(
    emulator: Emulator, path: str, method: str
) -> None:
    """A parser's recursion limit is an input error like any other, not a dropped connection."""
    with httpx.Client(
        base_url=emulator.root_url,
        headers={"Authorization": "Bearer test-token", "Content-Type": "application/json"},
        trust_env=False,
        timeout=10.0,
    ) as client:
        for nested in (b"[" * 100_000, b'{"a":' * 50_000):
            response = client.request(method, path, content=nested)
            assert response.status_code == 400
            assert response.json() == {"errors": ["Request body is nested too deeply"]}
        assert client.get("/v1/container_registries").status_code == 200


@pytest.mark.parametrize(
    "host",
    ["0.0.0.0", "::", "192.0.2.10", "example.com", "127.0.0.1.nip.io"],  # noqa: S104
)
def test_the_emulator_refuses_a_non_loopback_host(host: str) -> None:
    with pytest.raises(ValueError, match=r"host=.*127\.0\.0\.1.*localhost.*::1.*allow_remote"):
        Emulator(host=host)
    assert Emulator(host=host, allow_remote=True).host == host


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "::1", "127.0.0.2"])
def test_the_emulator_serves_on_loopback_hosts(host: str) -> None:
    with Emulator(host=host) as em:
        assert em.admin.health() is True
        reply = httpx.get(
            f"{em.url}/container_registries",
            headers={"Authorization": "Bearer x"},
            trust_env=False,
        )
        assert reply.status_code == 200
