"""Retry policy decisions and delays, without waiting."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from email.utils import format_datetime

import httpx
import pytest

from nodion_pulumi._retry import (
    NO_RETRY,
    RetryPolicy,
    may_have_been_applied,
    parse_retry_after,
    request_may_have_been_sent,
)

REQUEST = httpx.Request("GET", "https://api.nodion.com/v1/container_registries")


NOW = 100.0
FAR = NOW + 1000.0  # a deadline no wait reaches


def policy(**kwargs: object) -> RetryPolicy:
    """The default policy on a clock stopped at NOW, jitter at its midpoint: backoff is
    exactly 0.5, 1.0, 2.0, ... seconds."""
    return RetryPolicy(clock=lambda: NOW, random=lambda: 0.5, **kwargs)  # type: ignore[arg-type]


def test_disabled_policy() -> None:
    assert NO_RETRY.attempts == 1
    assert RetryPolicy.disabled() == NO_RETRY
    assert NO_RETRY.decide(1, "GET", 503, None, FAR) is None
    assert NO_RETRY.decide(1, "POST", httpx.ConnectError("x"), None, FAR) is None


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
PERMANENT = [
    httpx.UnsupportedProtocol("ftp", request=REQUEST),
    httpx.LocalProtocolError("bad header", request=REQUEST),
    ValueError("not a transport error"),
]
METHODS = ("GET", "PATCH", "DELETE", "POST")
SAFE = ("GET", "PATCH", "DELETE")


def _name(outcome: object) -> str:
    return type(outcome).__name__ if isinstance(outcome, BaseException) else str(outcome)


# Which first failures are retried, for every method: the grid the policy promises.
RETRIED: set[tuple[str, object]] = {
    *((m, s) for m in SAFE for s in (429, 500, 502, 503, 504)),
    *(("POST", s) for s in (429, 503)),
    *((m, e) for m in METHODS for e in NOT_SENT),
    *((m, e) for m in SAFE for e in MAYBE_SENT),
}
OUTCOMES: list[object] = [
    *(400, 401, 403, 404, 405, 409, 422, 429, 500, 501, 502, 503, 504),
    *NOT_SENT,
    *MAYBE_SENT,
    *PERMANENT,
]


@pytest.mark.parametrize("outcome", OUTCOMES, ids=_name)
@pytest.mark.parametrize("method", METHODS)
def test_which_first_failures_are_retried(method: str, outcome: int | BaseException) -> None:
    expected = 0.5 if (method, outcome) in RETRIED else None
    assert policy().decide(1, method, outcome, None, FAR) == expected
    assert policy().decide(1, method.lower(), outcome, None, FAR) == expected


# method, outcome, attempt (the one that failed, of 4), Retry-After, deadline -> wait or None
DECISIONS: list[tuple[str, object, int, float | None, float, float | None]] = [
    # backoff doubles with each attempt
    ("GET", 500, 1, None, FAR, 0.5),
    ("DELETE", 500, 2, None, FAR, 1.0),
    ("PATCH", 500, 3, None, FAR, 2.0),
    ("POST", 503, 3, None, FAR, 2.0),
    ("POST", NOT_SENT[0], 2, None, FAR, 1.0),
    ("GET", MAYBE_SENT[1], 3, None, FAR, 2.0),
    # the last attempt is final, except after throttling, which is waited out
    ("GET", 500, 4, None, FAR, None),
    ("PATCH", 504, 4, 1.0, FAR, None),
    ("DELETE", NOT_SENT[0], 4, None, FAR, None),
    ("GET", 503, 4, None, FAR, 4.0),
    ("POST", 429, 4, 1.0, FAR, 1.0),
    ("DELETE", 429, 40, 1.0, FAR, 1.0),
    # Retry-After replaces the backoff, shortened to max_retry_after (30 s)
    ("GET", 429, 1, 3.0, FAR, 3.0),
    # ... unless it says "now": that is the backoff, or throttling waited out until the
    # deadline would retry without pause
    ("POST", 503, 2, 0.0, FAR, 1.0),
    ("DELETE", 429, 40, 0.0, FAR, 8.0),
    ("PATCH", 500, 1, 3600.0, FAR, 30.0),
    ("DELETE", 502, 3, 7.5, FAR, 7.5),
    # ... but never makes an unsafe or pointless repeat
    ("POST", 500, 1, 1.0, FAR, None),
    ("GET", 501, 1, 1.0, FAR, None),
    ("GET", 404, 1, 0.0, FAR, None),
    # no wait that would end at or after the deadline
    ("GET", 500, 1, None, NOW + 0.5, None),
    ("GET", 500, 1, None, NOW + 0.51, 0.5),
    ("GET", 503, 2, 4.0, NOW + 4.0, None),
    ("GET", 503, 2, 4.0, NOW + 4.1, 4.0),
    ("POST", 429, 1, 3600.0, NOW + 30.0, None),
    ("POST", 429, 1, 3600.0, NOW + 31.0, 30.0),
    ("DELETE", MAYBE_SENT[0], 1, None, NOW, None),
]


@pytest.mark.parametrize(
    ("method", "outcome", "attempt", "retry_after", "deadline", "expected"),
    DECISIONS,
    ids=[f"{m}-{_name(o)}-a{a}-ra{r}-dl{d - NOW:g}" for m, o, a, r, d, _ in DECISIONS],
)
def test_decide(
    method: str,
    outcome: int | BaseException,
    attempt: int,
    retry_after: float | None,
    deadline: float,
    expected: float | None,
) -> None:
    assert policy().decide(attempt, method, outcome, retry_after, deadline) == expected


def test_decide_reads_the_clock_for_the_deadline() -> None:
    now = [NOW]
    moving = RetryPolicy(clock=lambda: now[0], random=lambda: 0.5)
    assert moving.decide(1, "GET", 503, None, NOW + 1.0) == 0.5
    now[0] += 0.6
    assert moving.decide(1, "GET", 503, None, NOW + 1.0) is None


def test_decide_respects_the_attempts_of_the_policy() -> None:
    assert policy(attempts=2).decide(1, "GET", 500, None, FAR) == 0.5
    assert policy(attempts=2).decide(2, "GET", 500, None, FAR) is None
    assert policy(attempts=10).decide(9, "GET", 500, None, FAR) == 8.0  # the backoff cap


def test_throttled_attempts_do_not_use_up_the_attempts() -> None:
    # Attempt 6 is the third that was not throttling, of 4 allowed.
    assert policy().decide(6, "DELETE", 500, None, FAR, throttled_before=3) == 8.0
    assert policy().decide(6, "DELETE", 500, None, FAR, throttled_before=2) is None


@pytest.mark.parametrize("code", [429, 503])
def test_throttling_is_waited_out_only_by_policies_that_retry_and_say_so(code: int) -> None:
    assert policy().waits_out(code)
    assert not policy().waits_out(500)
    assert not policy().waits_out(httpx.ConnectError("refused"))
    assert not NO_RETRY.waits_out(code)
    assert NO_RETRY.decide(1, "GET", code, None, FAR) is None
    bounded = policy(wait_out_throttling=False)
    assert not bounded.waits_out(code)
    assert bounded.decide(4, "GET", code, None, FAR) is None


@pytest.mark.parametrize("exc", NOT_SENT, ids=_name)
def test_unsent_requests_were_not_sent(exc: Exception) -> None:
    assert not request_may_have_been_sent(exc)


@pytest.mark.parametrize("exc", MAYBE_SENT, ids=_name)
def test_later_failures_may_have_been_sent(exc: Exception) -> None:
    assert request_may_have_been_sent(exc)


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


def _api_error(status_code: int) -> Exception:
    from nodion_pulumi._errors import error_from_response

    return error_from_response(httpx.Response(status_code, request=REQUEST), operation="op")


def _connection_error(request_sent: bool) -> Exception:
    from nodion_pulumi._errors import NodionConnectionError, NodionTimeoutError

    cls = NodionTimeoutError if request_sent else NodionConnectionError
    return cls("r", operation="op", method="POST", path="/v1/x", request_sent=request_sent)


@pytest.mark.parametrize(
    ("error", "maybe"),
    [
        (_connection_error(request_sent=True), True),
        (_connection_error(request_sent=False), False),
        (_api_error(500), True),
        (_api_error(502), True),
        (_api_error(504), True),
        (_api_error(503), False),
        (_api_error(501), False),
        (_api_error(429), False),
        (_api_error(400), False),
        (_api_error(404), False),
        (ValueError("not a Nodion failure"), False),
    ],
    ids=repr,
)
def test_may_have_been_applied(error: Exception, maybe: bool) -> None:
    assert may_have_been_applied(error) is maybe
