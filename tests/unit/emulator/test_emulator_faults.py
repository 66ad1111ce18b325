"""Fault injection, observed through a raw client with retries off."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from nodion_pulumi.emulator import Emulator, EmulatorAdminError

Create = Callable[..., dict[str, Any]]
ClientFactory = Callable[[Emulator], httpx.Client]

DROPPED = (httpx.ReadError, httpx.RemoteProtocolError, httpx.WriteError)


def _externals(emulator: Emulator) -> list[dict[str, Any]]:
    return [r for r in emulator.admin.registries() if r["registry_type"] != "nodion"]


def test_429_with_retry_after_is_answered_without_processing(
    emulator: Emulator, api: httpx.Client
) -> None:
    emulator.admin.add_fault("status", status=429, retry_after=2, method="POST")
    limited = api.post("/container_registries", json={"name": "a", "registry_type": "ghcr"})
    assert limited.status_code == 429
    assert limited.headers["retry-after"] == "2"
    assert limited.json() == {"status": 429, "error": "Too Many Requests"}
    assert _externals(emulator) == []
    # times=1 by default: the retry goes through.
    ok = api.post("/container_registries", json={"name": "a", "registry_type": "ghcr"})
    assert ok.status_code == 200
    assert len(_externals(emulator)) == 1


def test_fractional_retry_after(emulator: Emulator, api: httpx.Client) -> None:
    emulator.admin.add_fault("status", status=429, retry_after=0.25)
    assert api.get("/container_registries").headers["retry-after"] == "0.25"


@pytest.mark.parametrize(
    ("status", "content_type", "check"),
    [
        (
            500,
            "application/json",
            lambda r: r.json() == {"status": 500, "error": "Internal Server Error"},
        ),
        (502, "text/html", lambda r: "502 Bad Gateway" in r.text),
        (504, "text/html", lambda r: "504 Gateway Timeout" in r.text),
        (503, None, lambda r: r.content == b""),
    ],
)
def test_server_error_bodies(
    emulator: Emulator,
    api: httpx.Client,
    status: int,
    content_type: str | None,
    check: Callable[[httpx.Response], bool],
) -> None:
    emulator.admin.add_fault("status", status=status)
    response = api.get("/container_registries")
    assert response.status_code == status
    if content_type is None:
        assert "content-type" not in response.headers
    else:
        assert response.headers["content-type"].startswith(content_type)
    assert check(response)
    assert "retry-after" not in response.headers
    assert api.get("/container_registries").status_code == 200


def test_latency_delays_then_answers_normally(emulator: Emulator, api: httpx.Client) -> None:
    emulator.admin.add_fault("latency", seconds=0.3)
    started = time.perf_counter()
    response = api.get("/container_registries")
    assert time.perf_counter() - started >= 0.3
    assert response.status_code == 200
    entry = emulator.admin.requests()[-1]
    assert entry["fault"] == "latency"
    assert entry["duration_ms"] >= 300
    # The fault was spent: the next request is answered without it.
    api.get("/container_registries")
    assert emulator.admin.requests()[-1]["fault"] is None


def test_a_slow_answer_comes_after_the_change_is_made(emulator: Emulator) -> None:
    emulator.admin.add_fault("slow_answer", method="POST", seconds=1.0)
    with (
        httpx.Client(
            base_url=emulator.url,
            headers={"Authorization": "Bearer test-token"},
            trust_env=False,
            timeout=0.1,
        ) as impatient,
        pytest.raises(httpx.TimeoutException),
    ):
        impatient.post("/container_registries", json={"name": "slow", "registry_type": "ghcr"})
    # Logged when the change was made, not when the answer left.
    deadline = time.monotonic() + 10
    while not emulator.admin.requests() and time.monotonic() < deadline:
        time.sleep(0.01)
    [entry] = emulator.admin.requests()
    assert (entry["status"], entry["fault"]) == (200, "slow_answer")
    assert [r["name"] for r in _externals(emulator)] == ["slow"]


def test_reset_before_means_the_write_did_not_happen(emulator: Emulator, api: httpx.Client) -> None:
    emulator.admin.add_fault("reset_before", method="POST")
    with pytest.raises(DROPPED):
        api.post("/container_registries", json={"name": "lost", "registry_type": "ghcr"})
    assert _externals(emulator) == []
    entry = emulator.admin.requests()[-1]
    assert entry["status"] is None
    assert entry["fault"] == "reset_before"
    assert entry["body_keys"] == ["name", "registry_type"]


def test_reset_is_a_tcp_rst_not_a_clean_close(emulator: Emulator, api: httpx.Client) -> None:
    emulator.admin.add_fault("reset_before")
    with pytest.raises(httpx.ReadError) as caught:
        api.get("/container_registries")
    assert isinstance(caught.value.__context__ or caught.value.__cause__, Exception)
    assert "reset" in repr(caught.value).lower() or "104" in repr(caught.value)


def test_drop_after_means_the_write_happened(
    emulator: Emulator, api: httpx.Client, create_registry: Create
) -> None:
    emulator.admin.add_fault("drop_after", method="POST", path=r"/credentials$")
    fra = emulator.nodion_registry_id("fra")
    with pytest.raises(DROPPED):
        api.post(f"/container_registries/{fra}/credentials")
    after = api.get(f"/container_registries/{fra}").json()["container_registry"]
    assert after["has_credentials"] is True
    (entry,) = [e for e in emulator.admin.requests() if e["path"].endswith("/credentials")]
    assert entry["status"] is None
    assert entry["fault"] == "drop_after"
    # The path filter kept a plain create unaffected.
    create_registry(api)


def test_method_and_path_filters(emulator: Emulator, api: httpx.Client) -> None:
    emulator.admin.add_fault(
        "status", status=500, method="patch", path=r"^/v1/container_registries/[^/]+$", times=None
    )
    assert api.get("/container_registries").status_code == 200
    fra = emulator.nodion_registry_id("fra")
    assert api.get(f"/container_registries/{fra}").status_code == 200
    assert api.patch(f"/container_registries/{fra}", json={}).status_code == 500
    assert api.patch(f"/container_registries/{fra}", json={}).status_code == 500


def test_times_counts_firings(emulator: Emulator, api: httpx.Client) -> None:
    emulator.admin.add_fault("status", status=500, times=2)
    statuses = [api.get("/container_registries").status_code for _ in range(4)]
    assert statuses == [500, 500, 200, 200]
    (fault,) = emulator.admin.faults()
    assert fault["fired"] == 2
    assert fault["remaining"] == 0


def test_unlimited_times(emulator: Emulator, api: httpx.Client) -> None:
    emulator.admin.add_fault("status", status=502, times=None)
    assert {api.get("/container_registries").status_code for _ in range(5)} == {502}
    emulator.admin.clear_faults()
    assert emulator.admin.faults() == []
    assert api.get("/container_registries").status_code == 200


def test_rate_zero_never_fires_and_keeps_its_budget(emulator: Emulator, api: httpx.Client) -> None:
    emulator.admin.add_fault("status", status=500, rate=0.0, times=1)
    assert {api.get("/container_registries").status_code for _ in range(5)} == {200}
    (fault,) = emulator.admin.faults()
    assert fault["fired"] == 0
    assert fault["remaining"] == 1


def test_seeded_rate_is_reproducible(client_for: ClientFactory) -> None:
    patterns = []
    for _ in range(2):
        with Emulator() as em:
            em.admin.add_fault("status", status=503, rate=0.5, seed=42, times=None)
            api = client_for(em)
            patterns.append([api.get("/container_registries").status_code for _ in range(30)])
    assert patterns[0] == patterns[1]
    assert 5 <= patterns[0].count(503) <= 25


def test_seeded_rate_with_limited_times(emulator: Emulator, api: httpx.Client) -> None:
    emulator.admin.add_fault("status", status=500, rate=0.5, seed=7, times=3)
    statuses = [api.get("/container_registries").status_code for _ in range(40)]
    assert statuses.count(500) == 3


def test_latency_combines_with_a_terminal_fault(emulator: Emulator, api: httpx.Client) -> None:
    emulator.admin.add_fault("latency", seconds=0.2)
    emulator.admin.add_fault("status", status=504)
    started = time.perf_counter()
    assert api.get("/container_registries").status_code == 504
    assert time.perf_counter() - started >= 0.2
    assert emulator.admin.requests()[-1]["fault"] == "status"


def test_faults_never_touch_the_admin_endpoints(emulator: Emulator) -> None:
    emulator.admin.add_fault("reset_before", times=None)
    emulator.admin.add_fault("status", status=500, times=None)
    assert emulator.admin.health() is True
    assert len(emulator.admin.registries()) == 4


def test_faults_apply_before_auth(emulator: Emulator, anon: httpx.Client) -> None:
    emulator.admin.add_fault("status", status=429)
    response = anon.get(f"{emulator.url}/container_registries")
    assert response.status_code == 429


@pytest.mark.parametrize(
    "spec",
    [
        {"kind": "explode"},
        {"kind": "status"},
        {"kind": "status", "status": 99},
        {"kind": "latency"},
        {"kind": "latency", "seconds": -1},
        {"kind": "reset_before", "rate": 1.5},
        {"kind": "reset_before", "times": 0},
        {"kind": "reset_before", "path": "("},
        {"kind": "reset_before", "typo": 1},
    ],
)
def test_invalid_fault_specs_are_refused(
    emulator: Emulator, anon: httpx.Client, spec: dict[str, Any]
) -> None:
    response = anon.post(
        f"{emulator.root_url}/_emulator/faults",
        json=spec,
        headers={"Authorization": "Bearer test-token"},
    )
    assert response.status_code == 400
    assert response.json()["errors"]
    assert emulator.admin.faults() == []


def test_admin_client_raises_on_refusal(emulator: Emulator) -> None:
    with pytest.raises(EmulatorAdminError, match="status must be an HTTP status code") as caught:
        emulator.admin.add_fault("status")
    assert caught.value.status == 400
