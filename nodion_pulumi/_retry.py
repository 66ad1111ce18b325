"""The retry policy: which failures are worth another attempt, and how long to wait.

Retrying is only safe when a repeat cannot do something twice. ``GET``, ``PATCH`` (with the
same fields) and ``DELETE`` converge, so they are retried on throttling, on any server or
gateway error (500, 502, 503, 504) and on any transient transport failure, as
openai-python, botocore and go-retryablehttp do. ``POST`` creates things (a registry,
one-time credentials), so it is retried only when the server says it did not act (429,
503) or when the connection failed before the request could have been sent. A 500, a
gateway error, a read error or a timeout after sending a ``POST`` surfaces instead: the
registry may exist, and the provider's recovery (or ``pulumi refresh``) finds out.

:meth:`RetryPolicy.decide` is the whole decision: given the attempt that just failed and how
it failed, it returns the wait before the next attempt, or None to stop. Throttling (429,
503) is waited out until the operation's deadline, without using up the attempt budget:
Nodion asks to come back later, and a ``destroy`` that gives up halfway costs far more
than waiting. All tunables live at the top of this module. Tests use :data:`NO_RETRY` or
inject ``sleep``, ``random`` and ``clock`` to run the real policy without waiting.
"""

from __future__ import annotations

import math
import random as _random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime

import httpx

from nodion_pulumi._errors import NodionConnectionError, ServerError

__all__ = [
    "DEFAULT_ATTEMPTS",
    "DEFAULT_INITIAL_BACKOFF",
    "DEFAULT_JITTER",
    "DEFAULT_MAX_BACKOFF",
    "DEFAULT_MAX_RETRY_AFTER",
    "DEFAULT_TOTAL_TIMEOUT",
    "IDEMPOTENT_METHODS",
    "NOT_PROCESSED_STATUSES",
    "NO_RETRY",
    "RETRYABLE_STATUSES",
    "Outcome",
    "RetryPolicy",
    "may_have_been_applied",
    "parse_retry_after",
    "request_may_have_been_sent",
]

DEFAULT_ATTEMPTS = 4
DEFAULT_INITIAL_BACKOFF = 0.5  # seconds before the first retry, doubled each time
DEFAULT_MAX_BACKOFF = 8.0  # ceiling of the computed backoff
DEFAULT_JITTER = 0.5  # each backoff is spread over +/- this fraction
DEFAULT_MAX_RETRY_AFTER = 30.0  # a longer Retry-After is shortened to this
DEFAULT_TOTAL_TIMEOUT = 60.0  # no wait may end after this much time has passed

# The methods the client sends that a repeat cannot make do something twice. Any other
# method (POST) is treated as unsafe to repeat.
IDEMPOTENT_METHODS = frozenset({"GET", "PATCH", "DELETE"})
# Answers worth another try of an idempotent request. 501 (not implemented) would only
# come again.
RETRYABLE_STATUSES = frozenset({429, 500, 502, 503, 504})
# Answers that mean "not processed", the only ones after which a POST is repeated; a 500,
# 502 or 504 may come after the backend acted.
NOT_PROCESSED_STATUSES = frozenset({429, 503})
# Server answers after which a write may nevertheless have been carried out: the backend
# may have committed before the gateway gave up (500, 502, 504).
_MAYBE_APPLIED_STATUSES = RETRYABLE_STATUSES - NOT_PROCESSED_STATUSES

# Failures in which no byte of the request reached the server.
_NOT_SENT_ERRORS: tuple[type[Exception], ...] = (
    httpx.ConnectError,
    httpx.ConnectTimeout,
    httpx.PoolTimeout,
)
# Failures that may well not happen again; a malformed request or an unsupported URL would.
_TRANSIENT_ERRORS: tuple[type[Exception], ...] = (
    httpx.TimeoutException,
    httpx.NetworkError,
    httpx.RemoteProtocolError,
)

# How an attempt failed: the HTTP status of the answer, or the transport failure.
Outcome = int | BaseException


def request_may_have_been_sent(exc: BaseException) -> bool:
    """Whether a transport failure happened after the request could have reached the server."""
    return not isinstance(exc, _NOT_SENT_ERRORS)


def may_have_been_applied(error: BaseException) -> bool:
    """Whether a failed write may nevertheless have been carried out by Nodion.

    The one answer to that question in this package: True when the request may have gone
    out and no answer came back, or a gateway answered 500, 502 or 504. A 503 or 429 means
    "not processed", which is also why a POST is repeated after one.
    """
    if isinstance(error, NodionConnectionError):
        return error.request_sent
    return isinstance(error, ServerError) and error.status_code in _MAYBE_APPLIED_STATUSES


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait according to a ``Retry-After`` header, or None when unusable.

    Both forms of the header are accepted: delta-seconds and an HTTP-date. A date in the
    past means "now" (0.0).
    """
    if value is None:
        return None
    value = value.strip()
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        pass
    else:
        if math.isnan(seconds) or math.isinf(seconds):
            return None
        return max(0.0, seconds)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # HTTP-dates are GMT by definition
        when = when.replace(tzinfo=timezone.utc)
    current = now if now is not None else datetime.now(timezone.utc)
    return max(0.0, (when - current).total_seconds())


def _worth_repeating(method: str, outcome: Outcome) -> bool:
    """Whether a request that failed this way is safe to send again and may succeed."""
    idempotent = method.upper() in IDEMPOTENT_METHODS
    if isinstance(outcome, BaseException):
        if isinstance(outcome, _NOT_SENT_ERRORS):
            return True
        return idempotent and isinstance(outcome, _TRANSIENT_ERRORS)
    return outcome in (RETRYABLE_STATUSES if idempotent else NOT_PROCESSED_STATUSES)


@dataclass(frozen=True)
class RetryPolicy:
    """How many times to try, and how long to wait in between.

    ``attempts`` counts the first try, so ``attempts=1`` never retries. With
    ``wait_out_throttling``, answers that mean "not processed, come back later" (429, 503)
    are not counted: they are retried until the deadline. ``total_timeout`` bounds the
    whole exchange: no wait begins that would end after it.
    """

    attempts: int = DEFAULT_ATTEMPTS
    initial_backoff: float = DEFAULT_INITIAL_BACKOFF
    max_backoff: float = DEFAULT_MAX_BACKOFF
    jitter: float = DEFAULT_JITTER
    max_retry_after: float = DEFAULT_MAX_RETRY_AFTER
    total_timeout: float = DEFAULT_TOTAL_TIMEOUT
    wait_out_throttling: bool = True
    sleep: Callable[[float], None] = field(default=time.sleep, repr=False, compare=False)
    random: Callable[[], float] = field(default=_random.random, repr=False, compare=False)
    clock: Callable[[], float] = field(default=time.monotonic, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise ValueError("attempts must be at least 1 (1 means no retries)")
        if self.initial_backoff < 0 or self.max_backoff < 0 or self.max_retry_after < 0:
            raise ValueError("backoff and Retry-After limits must not be negative")
        if not 0.0 <= self.jitter <= 1.0:
            raise ValueError("jitter is a fraction between 0 and 1")
        if self.total_timeout <= 0:
            raise ValueError("total_timeout must be positive")

    @classmethod
    def disabled(cls) -> RetryPolicy:
        """A policy that makes exactly one attempt, for tests and callers that retry."""
        return cls(attempts=1)

    def decide(
        self,
        attempt: int,
        method: str,
        outcome: Outcome,
        retry_after: float | None,
        deadline: float,
        *,
        throttled_before: int = 0,
    ) -> float | None:
        """Seconds to wait before trying again after attempt number ``attempt`` (1-based)
        failed with ``outcome``, or None to give up and surface that failure.

        ``throttled_before`` is how many earlier attempts ended in throttling this policy
        waits out (:meth:`waits_out`); they do not count against ``attempts``. Gives up
        when a repeat is unsafe for ``method`` or pointless for ``outcome``, when the
        attempts are used up (unless ``outcome`` is waited out), or when the wait would end
        at or after ``deadline`` (a time on :attr:`clock`). The wait is the server's
        ``Retry-After`` if it sent a positive one (shortened to ``max_retry_after``), else
        the jittered :meth:`backoff` for ``attempt``.
        """
        if not _worth_repeating(method, outcome):
            return None
        used_up = attempt - throttled_before >= self.attempts
        if used_up and not self.waits_out(outcome):
            return None
        if retry_after is not None and retry_after > 0:
            delay = min(retry_after, self.max_retry_after)
        else:
            # No advice, or "now": throttling is waited out until the deadline, and a
            # `Retry-After: 0` taken literally would retry without pause until then.
            delay = self.backoff(attempt)
        if self.clock() + delay >= deadline:
            return None
        return delay

    def waits_out(self, outcome: Outcome) -> bool:
        """Whether ``outcome`` is throttling that this policy retries until the deadline
        (a policy of one attempt never retries)."""
        throttled = not isinstance(outcome, BaseException) and outcome in NOT_PROCESSED_STATUSES
        return throttled and self.wait_out_throttling and self.attempts > 1

    def backoff(self, retry_number: int) -> float:
        """Jittered exponential wait before retry number ``retry_number`` (1-based).

        Jitter spreads simultaneous clients (Pulumi runs several resource operations at
        once) so that they do not retry in lock-step.
        """
        exponent = min(max(0, retry_number - 1), 32)  # bounded so the float cannot overflow
        base = min(self.max_backoff, self.initial_backoff * 2.0**exponent)
        spread = base * self.jitter * (2.0 * self.random() - 1.0)
        return max(0.0, min(self.max_backoff, base + spread))


NO_RETRY = RetryPolicy.disabled()
