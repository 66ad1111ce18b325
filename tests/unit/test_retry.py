"""Retry policy decisions and delays, without waiting."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from email.utils import format_datetime

import httpx
import pytest

from nodion_pulumi import _retry
from nodion_pulumi._retry import (
    NO_RETRY,
    RetryPolicy,
    is_retryable_exception,
    is_retryable_status,
    parse_retry_after,
    request_may_have_been_sent,
)

REQUEST = httpx.Request("GET", "https://api.nodion.com/v1/container_registries")


def test_defaults_are_named_constants() -> None:
    policy = RetryPolicy()
    assert policy.attempts == _retry.DEFAULT_ATTEMPTS == 4
    assert policy.initial_backoff == _retry.DEFAULT_INITIAL_BACKOFF == 0.5
    assert policy.max_backoff == _retry.DEFAULT_MAX_BACKOFF == 8.0
    assert policy.jitter == _retry.DEFAULT_JITTER
    assert policy.max_retry_after == _retry.DEFAULT_MAX_RETRY_AFTER
    assert policy.total_timeout == _retry.DEFAULT_TOTAL_TIMEOUT


def test_disabled_policy() -> None:
    assert NO_RETRY.attempts == 1
    assert RetryPolicy.disabled() == NO_RETRY
    assert not NO_RETRY.enabled
    assert not NO_RETRY.should_retry_status("GET", 503)
    assert not NO_RETRY.should_retry_exception("GET", httpx.ConnectError("x"))
    assert RetryPolicy().should_retry_status("GET", 503)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"attempts": 0},
        {"jitter": 1.5},
        {"jitter": -0.1},
        {"initial_backoff": -1},
        {"max_retry_after": -1},
        {"total_timeout": 0},
    ],
)
def test_invalid_policies_are_refused(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError, match=r"must|fraction"):
        RetryPolicy(**kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize("method", ["GET", "PATCH", "DELETE", "get"])
@pytest.mark.parametrize("status", [429, 502, 503, 504])
def test_idempotent_methods_retry_transient_statuses(method: str, status: int) -> None:
    assert is_retryable_status(method, status)


@pytest.mark.parametrize("status", [400, 401, 403, 404, 409, 422, 500, 501])
@pytest.mark.parametrize("method", ["GET", "PATCH", "DELETE", "POST"])
def test_client_errors_are_never_retried(method: str, status: int) -> None:
    assert not is_retryable_status(method, status)


def test_post_retries_only_statuses_that_mean_not_processed() -> None:
    assert is_retryable_status("POST", 429)
    assert is_retryable_status("POST", 503)
    assert not is_retryable_status("POST", 502)
    assert not is_retryable_status("POST", 504)


NOT_SENT = [
    httpx.ConnectError("[Errno 111] Connection refused", request=REQUEST),
    httpx.ConnectTimeout("timed out", request=REQUEST),
    httpx.PoolTimeout("timed out", request=REQUEST),
]
MAYBE_SENT = [
    httpx.ReadError("reset", request=REQUEST),
    httpx.ReadTimeout("timed out", request=REQUEST),
    httpx.WriteError("broken pipe", request=REQUEST),
    httpx.WriteTimeout("timed out", request=REQUEST),
    httpx.RemoteProtocolError("Server disconnected", request=REQUEST),
]


@pytest.mark.parametrize("exc", NOT_SENT, ids=lambda e: type(e).__name__)
def test_unsent_requests_are_retried_for_every_method(exc: Exception) -> None:
    assert not request_may_have_been_sent(exc)
    for method in ("GET", "POST", "PATCH", "DELETE"):
        assert is_retryable_exception(method, exc)


@pytest.mark.parametrize("exc", MAYBE_SENT, ids=lambda e: type(e).__name__)
def test_post_is_not_retried_once_it_may_have_been_sent(exc: Exception) -> None:
    assert request_may_have_been_sent(exc)
    assert not is_retryable_exception("POST", exc)
    assert is_retryable_exception("GET", exc)
    assert is_retryable_exception("DELETE", exc)


@pytest.mark.parametrize(
    "exc",
    [
        httpx.UnsupportedProtocol("ftp", request=REQUEST),
        httpx.LocalProtocolError("bad header", request=REQUEST),
        ValueError("not a transport error"),
    ],
)
def test_permanent_failures_are_not_retried(exc: Exception) -> None:
    assert not is_retryable_exception("GET", exc)


def test_backoff_without_jitter_doubles_up_to_the_cap() -> None:
    policy = RetryPolicy(jitter=0.0)
    assert [policy.backoff(n) for n in range(1, 8)] == [0.5, 1.0, 2.0, 4.0, 8.0, 8.0, 8.0]
    assert policy.backoff(10_000) == 8.0


@pytest.mark.parametrize("rnd", [0.0, 0.25, 0.5, 0.999999])
def test_jitter_bounds(rnd: float) -> None:
    policy = RetryPolicy(jitter=0.5, random=lambda: rnd)
    for n, base in [(1, 0.5), (2, 1.0), (3, 2.0)]:
        delay = policy.backoff(n)
        assert base * 0.5 <= delay <= base * 1.5
    assert policy.backoff(20) <= policy.max_backoff


def test_jitter_extremes_are_exact() -> None:
    assert RetryPolicy(random=lambda: 0.0).backoff(2) == 0.5
    assert RetryPolicy(random=lambda: 1.0).backoff(2) == 1.5
    assert RetryPolicy(random=lambda: 0.5).backoff(2) == 1.0


def test_jitter_with_real_random_stays_in_bounds() -> None:
    policy = RetryPolicy()
    delays = [policy.backoff(3) for _ in range(500)]
    assert all(1.0 <= d <= 3.0 for d in delays)
    assert len(set(delays)) > 100


def test_retry_after_wins_over_backoff_and_is_capped() -> None:
    policy = RetryPolicy(max_retry_after=30.0, random=lambda: 0.5)
    assert policy.delay(1, 2.5) == 2.5
    assert policy.delay(3, 0.0) == 0.0
    assert policy.delay(1, 3600.0) == 30.0
    assert policy.delay(2, None) == 1.0


def test_parse_retry_after_seconds() -> None:
    assert parse_retry_after("5") == 5.0
    assert parse_retry_after(" 0.2 ") == 0.2
    assert parse_retry_after("-3") == 0.0
    assert parse_retry_after(None) is None
    assert parse_retry_after("") is None
    assert parse_retry_after("soon") is None
    assert parse_retry_after("nan") is None
    assert parse_retry_after("inf") is None


def test_parse_retry_after_http_date() -> None:
    now = datetime(2025, 1, 15, 10, 0, 0, tzinfo=timezone.utc)
    later = format_datetime(now + timedelta(seconds=12), usegmt=True)
    assert later.endswith("GMT")
    assert parse_retry_after(later, now=now) == 12.0
    earlier = format_datetime(now - timedelta(seconds=12), usegmt=True)
    assert parse_retry_after(earlier, now=now) == 0.0
    assert parse_retry_after("Wed, 15 Jan 2025 10:00:07 GMT", now=now) == 7.0


def test_parse_retry_after_http_date_against_the_real_clock() -> None:
    soon = format_datetime(datetime.now(timezone.utc) + timedelta(seconds=20), usegmt=True)
    value = parse_retry_after(soon)
    assert value is not None
    assert 15.0 <= value <= 20.0
