"""NodionClient retry behaviour, on a fake clock so that no test waits."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from typing import Any

import httpx
import pytest

from nodion_pulumi._client import NodionClient
from nodion_pulumi._config import Settings
from nodion_pulumi._errors import (
    AuthenticationError,
    BadRequestError,
    NodionConnectionError,
    NodionTimeoutError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    ServerError,
)
from nodion_pulumi._retry import NO_RETRY, RetryPolicy

REG_ID = "b2c3d4e5-f6a7-8901-bcde-f12345678901"
REGISTRY = {
    "id": REG_ID,
    "status": "available",
    "registry_type": "docker_hub",
    "name": "My Docker Hub",
    "hostname": "docker.io",
    "has_credentials": False,
    "region_id": None,
    "created_at": "2025-02-01T14:30:00.000+01:00",
    "updated_at": "2025-02-01T14:30:00.000+01:00",
}
Step = Callable[[httpx.Request], httpx.Response]


class FakeTime:
    """A monotonic clock that only moves when the client sleeps."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def status(code: int, headers: dict[str, str] | None = None) -> Step:
    return lambda request: httpx.Response(code, json={"error": f"status {code}"}, headers=headers)


def raise_(exc: type[httpx.TransportError]) -> Step:
    def step(request: httpx.Request) -> httpx.Response:
        raise exc("simulated", request=request)

    return step


def success(request: httpx.Request) -> httpx.Response:
    if request.method == "DELETE":
        return httpx.Response(200)
    return httpx.Response(200, json={"container_registry": REGISTRY})


class Script:
    """Answers requests with the given steps in order; the last step repeats."""

    def __init__(self, *steps: Step) -> None:
        self.steps: Iterator[Step] = iter(steps)
        self.last: Step = steps[-1]
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        step = next(self.steps, self.last)
        self.last = step
        return step(request)


def make(
    *steps: Step, timeout: float = 30.0, **policy: Any
) -> tuple[NodionClient, Script, FakeTime]:
    fake = FakeTime()
    script = Script(*steps)
    retry = RetryPolicy(sleep=fake.sleep, clock=fake.clock, random=lambda: 0.5, **policy)
    settings = Settings(api_token="tok-secret", timeout=timeout)  # type: ignore[arg-type]
    return NodionClient(settings, retry=retry, transport=httpx.MockTransport(script)), script, fake


CALLS: dict[str, Callable[[NodionClient], object]] = {
    "GET": lambda c: c.get_registry(REG_ID),
    "PATCH": lambda c: c.update_registry(REG_ID, name="n"),
    "DELETE": lambda c: c.delete_registry(REG_ID),
    "POST": lambda c: c.create_registry(name="n", registry_type="docker_hub"),
}


@pytest.mark.parametrize("method", ["GET", "PATCH", "DELETE", "POST"])
@pytest.mark.parametrize("code", [429, 503])
def test_every_method_retries_429_and_503(method: str, code: int) -> None:
    client, script, fake = make(status(code), success)
    CALLS[method](client)
    assert [r.method for r in script.requests] == [method, method]
    assert fake.sleeps == [0.5]


@pytest.mark.parametrize("method", ["GET", "PATCH", "DELETE"])
@pytest.mark.parametrize("code", [500, 502, 504])
def test_idempotent_methods_retry_server_and_gateway_errors(method: str, code: int) -> None:
    client, script, fake = make(status(code), status(code), success)
    CALLS[method](client)
    assert [r.method for r in script.requests] == [method] * 3
    assert fake.sleeps == [0.5, 1.0]


def test_a_500_to_the_registry_list_is_retried() -> None:
    client, script, fake = make(
        status(500), lambda r: httpx.Response(200, json={"container_registries": [REGISTRY]})
    )
    assert [r.id for r in client.list_registries()] == [REG_ID]
    assert [(r.method, r.url.path) for r in script.requests] == [
        ("GET", "/v1/container_registries")
    ] * 2
    assert fake.sleeps == [0.5]


def test_a_500_that_persists_surfaces_after_every_attempt() -> None:
    client, script, fake = make(status(500))
    with pytest.raises(ServerError) as caught:
        client.delete_registry(REG_ID)
    assert caught.value.status_code == 500
    assert len(script.requests) == 4
    assert fake.sleeps == [0.5, 1.0, 2.0]


def test_retry_after_on_a_500_is_honoured() -> None:
    client, _, fake = make(status(500, {"Retry-After": "2"}), success)
    client.update_registry(REG_ID, name="n")
    assert fake.sleeps == [2.0]


@pytest.mark.parametrize("code", [502, 504, 500])
def test_post_is_not_retried_on_gateway_or_server_errors(code: int) -> None:
    client, script, fake = make(status(code), success)
    with pytest.raises(ServerError):
        CALLS["POST"](client)
    assert len(script.requests) == 1
    assert fake.sleeps == []


@pytest.mark.parametrize(
    ("code", "cls"),
    [
        (400, BadRequestError),
        (401, AuthenticationError),
        (403, PermissionDeniedError),
        (404, NotFoundError),
    ],
)
@pytest.mark.parametrize("method", ["GET", "PATCH", "DELETE", "POST"])
def test_client_errors_are_not_retried(method: str, code: int, cls: type[Exception]) -> None:
    client, script, fake = make(status(code), success)
    with pytest.raises(cls):
        CALLS[method](client)
    assert len(script.requests) == 1
    assert fake.sleeps == []


def test_retry_after_seconds_is_honoured() -> None:
    client, _, fake = make(status(429, {"Retry-After": "3"}), success)
    client.get_registry(REG_ID)
    assert fake.sleeps == [3.0]


def test_retry_after_http_date_is_honoured() -> None:
    when = format_datetime(datetime.now(timezone.utc) + timedelta(seconds=10), usegmt=True)
    client, _, fake = make(status(503, {"Retry-After": when}), success)
    client.create_registry(name="n", registry_type="docker_hub")
    assert len(fake.sleeps) == 1
    assert 8.0 <= fake.sleeps[0] <= 10.0


def test_retry_after_is_capped() -> None:
    client, _, fake = make(status(429, {"Retry-After": "3600"}), success, max_retry_after=5.0)
    client.get_registry(REG_ID)
    assert fake.sleeps == [5.0]


def test_unparseable_retry_after_falls_back_to_backoff() -> None:
    client, _, fake = make(status(429, {"Retry-After": "later"}), success)
    client.get_registry(REG_ID)
    assert fake.sleeps == [0.5]


def test_exhausted_attempts_surface_the_last_failure() -> None:
    client, script, fake = make(
        status(500), status(502), status(500), status(504, {"Retry-After": "1"})
    )
    with pytest.raises(ServerError) as caught:
        client.list_registries()
    assert len(script.requests) == 4
    assert fake.sleeps == [0.5, 1.0, 2.0]
    assert caught.value.status_code == 504
    assert caught.value.operation == "list container registries"


def test_a_delete_waits_out_throttling_until_its_deadline() -> None:
    # Under injected faults, a DELETE met four 429s in a row with 50 of its 60 s left.
    client, script, fake = make(*[status(429, {"Retry-After": "1"})] * 4, success)
    client.delete_registry(REG_ID)
    assert len(script.requests) == 5
    assert fake.sleeps == [1.0] * 4


def test_throttling_ends_at_the_deadline_with_the_last_answer() -> None:
    client, script, fake = make(status(429, {"Retry-After": "1"}), total_timeout=10.0)
    with pytest.raises(RateLimitError) as caught:
        client.delete_registry(REG_ID)
    assert fake.sleeps == [1.0] * 9  # a tenth wait would end at the deadline
    assert len(script.requests) == 10
    assert caught.value.retry_after == 1.0


def test_throttling_does_not_use_up_the_attempts_of_other_failures() -> None:
    throttled = status(503)
    client, script, _ = make(throttled, throttled, throttled, status(500), status(502), success)
    client.get_registry(REG_ID)
    assert len(script.requests) == 6


def test_exhausted_connection_failures_surface_the_last_one() -> None:
    client, script, _ = make(raise_(httpx.ConnectError))
    with pytest.raises(NodionConnectionError) as caught:
        client.list_registries()
    assert len(script.requests) == 4
    assert isinstance(caught.value.__cause__, httpx.ConnectError)


def test_post_is_retried_when_the_connection_was_refused() -> None:
    client, script, fake = make(raise_(httpx.ConnectError), raise_(httpx.ConnectTimeout), success)
    client.create_registry(name="n", registry_type="docker_hub")
    assert [r.method for r in script.requests] == ["POST"] * 3
    assert fake.sleeps == [0.5, 1.0]


@pytest.mark.parametrize(
    ("exc", "cls"),
    [
        (httpx.ReadError, NodionConnectionError),
        (httpx.ReadTimeout, NodionTimeoutError),
        (httpx.RemoteProtocolError, NodionConnectionError),
        (httpx.WriteError, NodionConnectionError),
    ],
)
def test_post_is_not_retried_after_it_may_have_been_sent(
    exc: type[httpx.TransportError], cls: type[Exception]
) -> None:
    client, script, fake = make(raise_(exc), success)
    with pytest.raises(cls) as caught:
        client.create_credentials(REG_ID)
    assert len(script.requests) == 1
    assert fake.sleeps == []
    assert "may have reached Nodion" in str(caught.value)


@pytest.mark.parametrize("exc", [httpx.ReadError, httpx.ReadTimeout, httpx.RemoteProtocolError])
@pytest.mark.parametrize("method", ["GET", "PATCH", "DELETE"])
def test_idempotent_methods_are_retried_after_read_failures(
    method: str, exc: type[httpx.TransportError]
) -> None:
    client, script, _ = make(raise_(exc), success)
    CALLS[method](client)
    assert len(script.requests) == 2


def test_total_time_is_bounded() -> None:
    client, script, fake = make(status(503, {"Retry-After": "4"}), total_timeout=10.0, attempts=10)
    with pytest.raises(ServerError):
        client.get_registry(REG_ID)
    # Waits of 4 s fit twice into 10 s; a third would end after the deadline.
    assert fake.sleeps == [4.0, 4.0]
    assert len(script.requests) == 3


def test_request_timeout_shrinks_to_the_remaining_budget() -> None:
    client, script, fake = make(
        status(503, {"Retry-After": "7"}), success, total_timeout=10.0, timeout=30.0
    )
    client.get_registry(REG_ID)
    first, second = (r.extensions["timeout"]["read"] for r in script.requests)
    assert first == 10.0
    assert second == pytest.approx(3.0)
    assert fake.sleeps == [7.0]


def test_no_retry_policy_makes_one_attempt() -> None:
    script = Script(status(503), success)
    settings = Settings(api_token="t")  # type: ignore[arg-type]
    client = NodionClient(settings, retry=NO_RETRY, transport=httpx.MockTransport(script))
    with pytest.raises(ServerError):
        client.get_registry(REG_ID)
    assert len(script.requests) == 1


def test_retries_are_logged_without_secrets(caplog: pytest.LogCaptureFixture) -> None:
    client, _, _ = make(status(429, {"Retry-After": "1"}), success)
    with caplog.at_level(logging.DEBUG, logger="nodion_pulumi"):
        client.update_registry(REG_ID, password="pw-in-body")
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert "PATCH /v1/container_registries/" in text
    assert "HTTP 429, retrying in 1.00s (attempt 2)" in text
    assert "tok-secret" not in text
    assert "pw-in-body" not in text


def test_retried_body_is_identical() -> None:
    client, script, _ = make(status(503), success)
    client.update_registry(REG_ID, name="n", password="p")
    bodies = [json.loads(r.content) for r in script.requests]
    assert bodies == [{"name": "n", "password": "p"}] * 2


def test_the_default_policy_really_waits() -> None:
    script = Script(status(429, {"Retry-After": "0.05"}), success)
    settings = Settings(api_token="t")  # type: ignore[arg-type]
    client = NodionClient(settings, transport=httpx.MockTransport(script))
    started = time.monotonic()
    client.get_registry(REG_ID)
    assert time.monotonic() - started >= 0.05  # a lower bound only: a loaded machine is slower
    assert len(script.requests) == 2


@pytest.mark.parametrize(
    "lost", [status(500), status(502), status(504), raise_(httpx.ReadTimeout)], ids=str
)
def test_a_credentials_delete_whose_answer_was_lost_can_be_left_unrepeated(lost: Step) -> None:
    # A repeat of a DELETE that landed late would revoke the credentials minted next.
    client, script, fake = make(lost, success)
    with pytest.raises((ServerError, NodionConnectionError)) as caught:
        client.delete_credentials(REG_ID, resend_lost_answer=False)
    assert len(script.requests) == 1
    assert fake.sleeps == []
    assert caught.value.registry_id == REG_ID


@pytest.mark.parametrize("code", [429, 503])
def test_a_credentials_delete_not_repeated_after_a_lost_answer_still_waits_out_throttling(
    code: int,
) -> None:
    client, script, _ = make(status(code), success)
    client.delete_credentials(REG_ID, resend_lost_answer=False)
    assert [r.method for r in script.requests] == ["DELETE", "DELETE"]


def test_a_credentials_delete_repeats_a_lost_answer_by_default() -> None:
    client, script, _ = make(status(502), success)
    client.delete_credentials(REG_ID)
    assert len(script.requests) == 2


@pytest.mark.parametrize(
    "call",
    [
        lambda c: c.get_registry(REG_ID),
        lambda c: c.update_registry(REG_ID, name="n"),
        lambda c: c.delete_registry(REG_ID),
        lambda c: c.create_credentials(REG_ID),
        lambda c: c.delete_credentials(REG_ID),
    ],
)
@pytest.mark.parametrize("failure", [status(404), raise_(httpx.ConnectError)], ids=str)
def test_errors_name_the_registry_of_the_call(
    call: Callable[[NodionClient], object], failure: Step
) -> None:
    client, _, _ = make(failure, attempts=1)
    with pytest.raises((NotFoundError, NodionConnectionError)) as caught:
        call(client)
    assert caught.value.registry_id == REG_ID


def test_errors_of_calls_about_no_registry_name_none() -> None:
    client, _, _ = make(status(400), attempts=1)
    with pytest.raises(BadRequestError) as caught:
        client.create_registry(name="n", registry_type="docker_hub")
    assert caught.value.registry_id is None
