"""NodionClient end to end against the emulator over loopback: real sockets, real faults."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from nodion_pulumi._client import NodionClient
from nodion_pulumi._config import Settings, resolve_settings
from nodion_pulumi._errors import (
    AuthenticationError,
    BadRequestError,
    CredentialsAlreadyExistError,
    NodionConnectionError,
    NodionTimeoutError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    ServerError,
)
from nodion_pulumi._retry import NO_RETRY, RetryPolicy
from nodion_pulumi.emulator import Emulator

# Real sleeps, kept short: the emulator's Retry-After values in these tests are 0.2 s.
FAST = RetryPolicy(initial_backoff=0.01, max_backoff=0.05, total_timeout=10.0)
REGISTRIES = "/v1/container_registries"

ClientFactory = Callable[..., NodionClient]


@pytest.fixture
def make_client(emulator: Emulator) -> Iterator[ClientFactory]:
    clients: list[NodionClient] = []

    def factory(
        *, token: str | None = None, retry: RetryPolicy = FAST, **settings: Any
    ) -> NodionClient:
        token = emulator.token if token is None else token
        client = NodionClient(
            Settings(api_token=token, api_url=emulator.url, **settings),  # type: ignore[arg-type]
            retry=retry,
        )
        clients.append(client)
        return client

    yield factory
    for client in clients:
        client.close()


@pytest.fixture
def client(make_client: ClientFactory) -> NodionClient:
    return make_client()


def api_requests(emulator: Emulator) -> list[tuple[str, str, int | None]]:
    return [
        (e["method"], e["path"], e["status"])
        for e in emulator.admin.requests()
        if str(e["path"]).startswith("/v1")
    ]


def test_settings_resolved_from_stack_config(emulator: Emulator) -> None:
    settings = resolve_settings(
        {"nodion:apiToken": "test-token", "nodion:apiUrl": emulator.url}, environ={}
    )
    with NodionClient(settings) as client:
        assert any(r.is_nodion for r in client.list_registries())


def test_external_registry_lifecycle(client: NodionClient, emulator: Emulator) -> None:
    seeded = client.list_registries()
    assert seeded
    assert all(r.is_nodion for r in seeded)
    fra = next(r for r in seeded if r.region_slug == "fra")
    assert fra.id == emulator.nodion_registry_id("fra")

    created = client.create_registry(
        name="My Docker Hub", registry_type="docker_hub", username="me", password="pw-1"
    )
    assert created.registry_type == "docker_hub"
    assert created.hostname == "docker.io"
    assert created.has_credentials is True
    assert created.region_id is None
    assert created.created_at.tzinfo is not None

    assert client.get_registry(created.id) == created
    assert created.id in {r.id for r in client.list_registries()}

    updated = client.update_registry(created.id, name="Renamed", password="pw-2")
    assert updated.name == "Renamed"
    assert updated.hostname == "docker.io"
    assert client.get_registry(created.id).name == "Renamed"

    client.delete_registry(created.id)
    with pytest.raises(NotFoundError):
        client.get_registry(created.id)

    log = [(m, p) for m, p, _ in api_requests(emulator)]
    assert ("PATCH", f"{REGISTRIES}/{created.id}") in log
    assert ("DELETE", f"{REGISTRIES}/{created.id}") in log
    patch = next(e for e in emulator.admin.requests() if e["method"] == "PATCH")
    assert patch["body_keys"] == ["name", "password"]


def test_custom_and_ghcr_registries(client: NodionClient) -> None:
    ghcr = client.create_registry(name="GHCR", registry_type="ghcr")
    assert ghcr.hostname == "ghcr.io"
    custom = client.create_registry(
        name="Mine", registry_type="custom", hostname="registry.example.com:5000"
    )
    assert custom.hostname == "registry.example.com:5000"
    assert custom.has_credentials is False


def test_nodion_credentials_lifecycle(client: NodionClient, emulator: Emulator) -> None:
    registry_id = emulator.nodion_registry_id("fra")
    credentials = client.create_credentials(registry_id)
    assert credentials.id == registry_id
    assert credentials.hostname == "registry.fra.nodion.net"
    assert credentials.username.startswith("robot$")
    password = credentials.password.get_secret_value()
    assert password
    assert password not in repr(credentials)
    auths = credentials.docker_config()["auths"]
    assert auths["registry.fra.nodion.net"]["password"] == password
    assert client.get_registry(registry_id).has_credentials is True

    with pytest.raises(CredentialsAlreadyExistError, match="already has push/pull") as caught:
        client.create_credentials(registry_id)
    assert isinstance(caught.value, BadRequestError)
    assert caught.value.messages == ("Credentials already exist",)
    assert caught.value.registry_id == registry_id

    client.delete_credentials(registry_id)
    assert client.get_registry(registry_id).has_credentials is False
    again = client.create_credentials(registry_id)
    assert again.password.get_secret_value() != password


def test_nodion_registries_refuse_changes(client: NodionClient, emulator: Emulator) -> None:
    registry_id = emulator.nodion_registry_id("fra")
    with pytest.raises(BadRequestError, match="cannot be updated"):
        client.update_registry(registry_id, name="x")
    with pytest.raises(BadRequestError, match="cannot be deleted"):
        client.delete_registry(registry_id)


def test_bad_request(client: NodionClient) -> None:
    with pytest.raises(BadRequestError) as caught:
        client.create_registry(name="", registry_type="docker_hub", password="hunter2-secret")
    assert str(caught.value) == (
        "create container registry failed: HTTP 400 from POST /v1/container_registries: "
        "Name can't be blank"
    )
    assert "hunter2-secret" not in repr(caught.value)


def test_wrong_token(make_client: ClientFactory) -> None:
    client = make_client(token="wrong-token")
    with pytest.raises(AuthenticationError) as caught:
        client.list_registries()
    assert caught.value.status_code == 401
    assert "Unauthorized" in str(caught.value)
    assert "wrong-token" not in str(caught.value)


def test_wrong_project(make_client: ClientFactory, emulator: Emulator) -> None:
    other = str(uuid.uuid4())
    with pytest.raises(PermissionDeniedError) as caught:
        make_client(project_id=other).list_registries()
    assert caught.value.status_code == 403
    assert make_client(project_id=emulator.project_id).list_registries()
    projects = [e["project"] for e in emulator.admin.requests() if e["path"] == REGISTRIES]
    assert projects == [other, emulator.project_id]


def test_not_found(client: NodionClient) -> None:
    missing = str(uuid.uuid4())
    with pytest.raises(NotFoundError) as caught:
        client.get_registry(missing)
    assert caught.value.messages == ("Not Found",)
    assert caught.value.path == f"{REGISTRIES}/{missing}"
    with pytest.raises(NotFoundError):
        client.delete_registry(missing)
    with pytest.raises(NotFoundError):
        client.delete_credentials(missing)


def test_429_retry_after_is_honoured(client: NodionClient, emulator: Emulator) -> None:
    emulator.admin.add_fault("status", method="GET", status=429, retry_after=0.2)
    started = time.monotonic()
    assert client.list_registries()
    assert time.monotonic() - started >= 0.2
    assert api_requests(emulator) == [("GET", REGISTRIES, 429), ("GET", REGISTRIES, 200)]


def test_post_is_retried_after_503(client: NodionClient, emulator: Emulator) -> None:
    emulator.admin.add_fault("status", method="POST", status=503, retry_after=0.2)
    started = time.monotonic()
    created = client.create_registry(name="Hub", registry_type="docker_hub")
    assert time.monotonic() - started >= 0.2
    assert api_requests(emulator) == [("POST", REGISTRIES, 503), ("POST", REGISTRIES, 200)]
    assert [r["id"] for r in emulator.admin.registries() if r["name"] == "Hub"] == [created.id]


def test_rate_limit_surfaces_at_the_deadline(
    make_client: ClientFactory, emulator: Emulator
) -> None:
    emulator.admin.add_fault("status", status=429, retry_after=0.2, times=None)
    now, waits = [0.0], []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        now[0] += seconds

    policy = RetryPolicy(attempts=3, total_timeout=1.0, clock=lambda: now[0], sleep=sleep)
    with pytest.raises(RateLimitError) as caught:
        make_client(retry=policy).list_registries()
    assert caught.value.retry_after == 0.2
    # Throttling is waited out past the 3 attempts, until a wait would end at the deadline.
    assert waits == [0.2] * 4
    assert [s for _, _, s in api_requests(emulator)] == [429] * 5


def test_proxy_502_page_is_summarised(make_client: ClientFactory, emulator: Emulator) -> None:
    emulator.admin.add_fault("status", status=502, times=None)
    with pytest.raises(ServerError) as caught:
        make_client(retry=NO_RETRY).list_registries()
    assert caught.value.messages == ("502 Bad Gateway nginx",)


def test_get_is_retried_after_a_reset(client: NodionClient, emulator: Emulator) -> None:
    emulator.admin.add_fault("reset_before", method="GET")
    assert client.list_registries()
    assert [(m, s) for m, _, s in api_requests(emulator)] == [("GET", None), ("GET", 200)]


def test_post_is_not_retried_after_drop_after(client: NodionClient, emulator: Emulator) -> None:
    emulator.admin.add_fault("drop_after", method="POST", path="^/v1/container_registries$")
    with pytest.raises(NodionConnectionError) as caught:
        client.create_registry(name="Dropped", registry_type="docker_hub")
    assert caught.value.request_sent is True
    assert "may have reached Nodion" in str(caught.value)
    posts = [e for e in api_requests(emulator) if e[0] == "POST"]
    assert posts == [("POST", REGISTRIES, None)]
    # The change was committed before the connection dropped: exactly one registry exists.
    assert [r["name"] for r in emulator.admin.registries()].count("Dropped") == 1


def test_credentials_post_is_not_retried_after_drop_after(
    client: NodionClient, emulator: Emulator
) -> None:
    registry_id = emulator.nodion_registry_id("fra")
    emulator.admin.add_fault("drop_after", method="POST")
    with pytest.raises(NodionConnectionError):
        client.create_credentials(registry_id)
    assert [e[0] for e in api_requests(emulator)] == ["POST"]
    assert client.get_registry(registry_id).has_credentials is True


def test_post_is_retried_when_refused(emulator: Emulator) -> None:
    # Nothing listens on the emulator's port once it is stopped: connection refused.
    url = emulator.url
    emulator.stop()
    fake_sleeps: list[float] = []
    policy = RetryPolicy(sleep=fake_sleeps.append)
    settings = Settings(api_token="t", api_url=url)  # type: ignore[arg-type]
    with (
        NodionClient(settings, retry=policy) as client,
        pytest.raises(NodionConnectionError) as caught,
    ):
        client.create_registry(name="x", registry_type="docker_hub")
    assert not isinstance(caught.value, NodionTimeoutError)
    assert caught.value.request_sent is False
    assert len(fake_sleeps) == 3


def test_timeout_via_latency(make_client: ClientFactory, emulator: Emulator) -> None:
    emulator.admin.add_fault("latency", method="GET", seconds=1.0)
    client = make_client(retry=NO_RETRY, timeout=0.2)
    started = time.monotonic()
    with pytest.raises(NodionTimeoutError) as caught:
        client.list_registries()
    assert time.monotonic() - started < 0.9
    assert str(caught.value).startswith(
        "list container registries failed: timed out waiting for GET "
        f"{emulator.url}/container_registries: no response within 0.2 s"
    )


def test_get_recovers_from_one_slow_answer(make_client: ClientFactory, emulator: Emulator) -> None:
    emulator.admin.add_fault("latency", method="GET", seconds=1.0)
    client = make_client(timeout=0.2)
    assert client.list_registries()


def test_post_timeout_is_not_retried(make_client: ClientFactory, emulator: Emulator) -> None:
    emulator.admin.add_fault("latency", method="POST", seconds=0.6)
    client = make_client(timeout=0.2)
    with pytest.raises(NodionTimeoutError) as caught:
        client.create_registry(name="Slow", registry_type="docker_hub")
    assert caught.value.request_sent is True
    deadline = time.monotonic() + 5
    while not api_requests(emulator) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert [e[0] for e in api_requests(emulator)] == ["POST"]


def test_four_threads_share_one_client(client: NodionClient, emulator: Emulator) -> None:
    created = [client.create_registry(name=f"r{i}", registry_type="ghcr").id for i in range(4)]
    errors: list[BaseException] = []
    barrier = threading.Barrier(4)

    def worker(registry_id: str) -> None:
        try:
            barrier.wait()
            for i in range(15):
                assert client.get_registry(registry_id).id == registry_id
                client.update_registry(registry_id, name=f"n{i}")
                assert len(client.list_registries()) >= 4
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(rid,)) for rid in created]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    assert {client.get_registry(rid).name for rid in created} == {"n14"}
    assert len(api_requests(emulator)) == 4 + 4 * 15 * 3 + 4
