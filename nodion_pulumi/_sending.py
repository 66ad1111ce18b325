"""Sending one API call: attempts under the retry policy, each read with a size cap, and the
answer decoded, with every failure turned into the error that says what happened.

The client's endpoint methods describe a call once, as a :class:`Call` (operation, method,
path, body, the registry it is about, the secrets to keep out of messages, a note for
unexpected answers); every step below reads what it needs from that one object, so no step
can redact with fewer secrets or forget the note. The steps, each with one concern:

- :func:`send_call` repeats attempts as :class:`~nodion_pulumi._retry.RetryPolicy` decides,
  and raises the last failure;
- :func:`_attempt` makes one request and says how it went: an :class:`Answer`, or a failure;
- :func:`_send_capped` sends one request and reads at most :data:`MAX_RESPONSE_BYTES` of
  the body within the attempt's deadline, which :mod:`nodion_pulumi._deadline` also holds
  the response headers to;
- :func:`_decoded` checks a successful answer's size and decodes its JSON;
- :meth:`Answer.parsed` reads the documented shape out of the JSON;
- :meth:`Call.unexpected` is the one builder of :class:`UnexpectedResponseError`.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import httpx

from nodion_pulumi._deadline import bound_streams, request_deadline
from nodion_pulumi._errors import (
    APIError,
    NodionConnectionError,
    NodionTimeoutError,
    UnexpectedResponseError,
    error_from_response,
)
from nodion_pulumi._http import url_for_messages
from nodion_pulumi._models import ResponseShapeError
from nodion_pulumi._redact import redact
from nodion_pulumi._retry import (
    Outcome,
    RetryPolicy,
    may_have_been_applied,
    parse_retry_after,
    request_may_have_been_sent,
)

__all__ = ["CONNECT_TIMEOUT", "MAX_RESPONSE_BYTES", "Answer", "Call", "send_call"]

logger = logging.getLogger("nodion_pulumi")

CONNECT_TIMEOUT = 5.0
MAX_RESPONSE_BYTES = 4 * 1024 * 1024  # far above any real answer; bounds a runaway body

_T = TypeVar("_T")


@dataclass(frozen=True)
class Call:
    """One API call as every step of sending it sees it; created once per call.

    ``secrets`` (the API token, a password being sent) are removed from every text an
    error of this call carries; ``note`` ends every unexpected-answer error, e.g. that
    credentials may have been generated and lost. ``resend_lost_answer=False`` stops the
    retries at a failure after which the request may have been carried out.
    """

    operation: str
    method: str
    path: str
    body: dict[str, Any] | None = field(default=None, repr=False)
    registry_id: str | None = None
    secrets: tuple[str, ...] = field(default=(), repr=False)
    note: str | None = None
    expect_json: bool = True
    resend_lost_answer: bool = True

    def unexpected(
        self, response: httpx.Response, problem: str, *, minted: tuple[str, ...] = ()
    ) -> UnexpectedResponseError:
        """The error for a successful status whose answer this client cannot use.

        ``problem`` is this client's own description of the answer, never an excerpt of it:
        a success body may hold a password (one just minted, or the request's own, echoed),
        and one cut short or garbled cannot be scrubbed of what it no longer shows whole.
        ``minted`` are passwords found in the answer, kept out like the call's secrets.
        """
        secrets = (*self.secrets, *minted)
        return UnexpectedResponseError(
            operation=self.operation,
            method=self.method,
            path=response.request.url.path,
            url=url_for_messages(response.request.url),
            status_code=response.status_code,
            messages=(redact(problem, secrets), *((self.note,) if self.note else ())),
            registry_id=self.registry_id,
        )


@dataclass(frozen=True)
class Answer:
    """A successful answer to a :class:`Call`: the response and its decoded JSON (None
    when the call expects none)."""

    call: Call
    response: httpx.Response
    payload: Any

    def parsed(self, parser: Callable[[Any], _T]) -> _T:
        """The payload in its documented shape, or the call's unexpected-answer error."""
        try:
            return parser(self.payload)
        except ResponseShapeError as exc:
            minted = _passwords_in(self.payload)
            raise self.call.unexpected(self.response, str(exc), minted=minted) from exc


def send_call(
    http: httpx.Client, call: Call, policy: RetryPolicy, request_timeout: float
) -> Answer:
    """Send ``call`` until it succeeds or :meth:`RetryPolicy.decide` says to stop, then
    raise the last failure, chained to its cause.

    Every attempt is bounded by ``request_timeout`` and by what is left of the policy's
    ``total_timeout``. Throttling (429, 503) does not use up the attempt budget: Nodion
    asks to come back later, and a destroy that gives up halfway costs more than waiting.
    """
    deadline = policy.clock() + policy.total_timeout
    attempt = throttled = 0
    while True:
        attempt += 1
        timeout = max(0.001, min(request_timeout, deadline - policy.clock()))
        result = _attempt(http, call, timeout, policy.clock, attempt)
        if isinstance(result, Answer):
            return result
        delay = policy.decide(
            attempt,
            call.method,
            result.outcome,
            result.retry_after,
            deadline,
            throttled_before=throttled,
        )
        throttled += policy.waits_out(result.outcome)
        lost_answer = may_have_been_applied(result.error)
        if delay is None or (lost_answer and not call.resend_lost_answer):
            raise result.error from result.cause
        _log_retry(call, result.error.path, result.outcome, delay, attempt + 1)
        policy.sleep(delay)


@dataclass(frozen=True)
class _Failure:
    """How one attempt failed: the error to raise if it is the last, the outcome the retry
    policy judges, the server's advised wait, and the transport error behind it if any."""

    error: APIError | NodionConnectionError
    outcome: Outcome
    retry_after: float | None = None
    cause: BaseException | None = None


def _attempt(
    http: httpx.Client, call: Call, timeout: float, clock: Callable[[], float], number: int
) -> Answer | _Failure:
    """One request of ``call``, bounded by ``timeout``: the answer, or how it failed."""
    request = http.build_request(
        call.method,
        call.path,
        json=call.body,
        timeout=httpx.Timeout(timeout, connect=min(CONNECT_TIMEOUT, timeout)),
        extensions={"trace": bound_streams},
    )
    path = request.url.path
    started = clock()
    try:
        with request_deadline(timeout):
            response, content = _send_capped(http, request, started + timeout, clock)
    except httpx.RequestError as exc:
        logger.debug("%s %s failed: %s (attempt %d)", call.method, path, type(exc).__name__, number)
        return _Failure(_connection_failure(call, request, exc, timeout), exc, cause=exc)
    status = response.status_code
    elapsed = clock() - started
    logger.debug("%s %s -> %d (attempt %d, %.3fs)", call.method, path, status, number, elapsed)
    if response.is_success:
        return Answer(call, response, _decoded(call, response, content))
    error = error_from_response(
        response,
        operation=call.operation,
        secrets=call.secrets,
        content=content,
        registry_id=call.registry_id,
    )
    return _Failure(error, status, parse_retry_after(response.headers.get("Retry-After")))


def _send_capped(
    http: httpx.Client, request: httpx.Request, deadline: float, clock: Callable[[], float]
) -> tuple[httpx.Response, bytes]:
    """Send and read the body, stopping past :data:`MAX_RESPONSE_BYTES` or the attempt's
    deadline (httpx's own timeouts are per read, not per request)."""
    response = http.send(request, stream=True)
    try:
        chunks: list[bytes] = []
        size = 0
        for chunk in response.iter_bytes():
            chunks.append(chunk)
            size += len(chunk)
            if size > MAX_RESPONSE_BYTES:
                break
            if clock() > deadline:
                raise httpx.ReadTimeout("reading the response took too long", request=request)
        return response, b"".join(chunks)
    finally:
        response.close()


def _decoded(call: Call, response: httpx.Response, content: bytes) -> Any:
    """The JSON of a successful answer (None when the call expects none)."""
    if len(content) > MAX_RESPONSE_BYTES:
        raise call.unexpected(response, f"the response is larger than {MAX_RESPONSE_BYTES} bytes")
    if not call.expect_json:
        return None
    try:
        return json.loads(content)
    except (ValueError, RecursionError):
        # Not chained: the decoder's error holds the whole body (``JSONDecodeError.doc``).
        problem = f"expected JSON, got {_described(response, content)}"
        raise call.unexpected(response, problem) from None


# Content types an unexpected answer is described by; any other is not named, since a
# header is as much the server's text as the body.
_KNOWN_CONTENT_TYPES = frozenset(
    {
        "application/json",
        "application/problem+json",
        "application/xml",
        "application/octet-stream",
        "text/html",
        "text/plain",
        "text/xml",
    }
)


def _described(response: httpx.Response, content: bytes) -> str:
    """A success body as an error describes it: its length and content type, never its text."""
    if not content:
        return "an empty body"
    media_type = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
    if media_type in _KNOWN_CONTENT_TYPES:
        kind = f"{media_type} that is not valid JSON"
    else:
        kind = "a body that is not JSON" if not media_type else "another content type"
    return f"{len(content)} byte{'s' if len(content) != 1 else ''} of {kind}"


def _passwords_in(payload: Any, depth: int = 0) -> tuple[str, ...]:
    """The values of ``password`` fields in a decoded answer (a few levels deep): a password
    Nodion minted in an answer this client cannot use must not reach the error either."""
    if isinstance(payload, dict):
        items = list(payload.items())
    elif isinstance(payload, list):
        items = list(enumerate(payload))
    else:
        return ()
    found: list[str] = []
    for key, value in items:
        if isinstance(value, str) and "password" in str(key).lower():
            found.append(value)
        elif depth < 3:
            found.extend(_passwords_in(value, depth + 1))
    return tuple(found)


def _connection_failure(
    call: Call, request: httpx.Request, exc: httpx.RequestError, timeout: float
) -> NodionConnectionError:
    """The error for an attempt that got no answer; ``exc``'s own text is scrubbed too,
    since it is chained as the cause."""
    reason = redact(str(exc) or type(exc).__name__, call.secrets)
    if exc.args and reason != exc.args[0]:
        exc.args = (reason, *exc.args[1:])
    url = request.url
    facts: dict[str, Any] = {
        "operation": call.operation,
        "method": call.method,
        "path": url.path,
        "request_sent": request_may_have_been_sent(exc),
        "url": url_for_messages(url),
        "registry_id": call.registry_id,
    }
    if not isinstance(exc, httpx.TimeoutException):
        return NodionConnectionError(reason, **facts)
    timeout_reason = {
        httpx.ConnectTimeout: f"could not connect within {min(CONNECT_TIMEOUT, timeout):g} s",
        httpx.PoolTimeout: f"no free connection within {timeout:g} s",
        httpx.WriteTimeout: f"could not send the request within {timeout:g} s",
    }.get(type(exc), f"no response within {timeout:g} s")
    return NodionTimeoutError(timeout_reason, **facts)


def _log_retry(call: Call, path: str, outcome: Outcome, delay: float, next_attempt: int) -> None:
    cause = f"HTTP {outcome}" if isinstance(outcome, int) else type(outcome).__name__
    logger.info(
        "%s %s: %s, retrying in %.2fs (attempt %d)",
        call.method,
        path,
        cause,
        delay,
        next_attempt,
    )
