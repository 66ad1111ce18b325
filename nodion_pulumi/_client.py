"""A small synchronous client for Nodion's Container Registries API.

Pulumi's dynamic-provider host calls a provider from several threads at once (up to four
resource operations in parallel) on one provider instance, so one :class:`NodionClient` is
shared: it holds a single ``httpx.Client`` whose connection pool is reused across threads
and created only when the first request is made (a preview that never calls the API opens
no connection).

Each method names its operation ("create container registry"), which every error carries,
so a failure in a Pulumi run says what was being attempted, not just which URL failed.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Iterable
from types import TracebackType
from typing import Any, TypeVar

import httpx

from nodion_pulumi._config import Settings
from nodion_pulumi._error_body import extract_messages
from nodion_pulumi._errors import (
    URL_SETTING,
    ConfigurationError,
    NodionConnectionError,
    NodionError,
    NodionTimeoutError,
    NotFoundError,
    UnexpectedResponseError,
    error_from_response,
)
from nodion_pulumi._facts import is_loopback_host
from nodion_pulumi._models import (
    Credentials,
    Registry,
    ResponseShapeError,
    parse_credentials,
    parse_registry,
    parse_registry_list,
    validate_registry_id,
)
from nodion_pulumi._redact import redact
from nodion_pulumi._retry import (
    Outcome,
    RetryPolicy,
    may_have_been_applied,
    parse_retry_after,
    request_may_have_been_sent,
)
from nodion_pulumi._version import __version__

__all__ = ["CONNECT_TIMEOUT", "MAX_RESPONSE_BYTES", "USER_AGENT", "NodionClient"]

logger = logging.getLogger("nodion_pulumi")

CONNECT_TIMEOUT = 5.0
MAX_RESPONSE_BYTES = 4 * 1024 * 1024  # far above any real answer; bounds a runaway body
POOL_LIMITS = httpx.Limits(max_connections=16, max_keepalive_connections=8)
USER_AGENT = f"nodion-pulumi/{__version__} (python-httpx/{httpx.__version__})"

_REGISTRIES = "container_registries"
_T = TypeVar("_T")

_LOST_CREDENTIALS_NOTE = (
    "the credentials may have been generated but could not be read, and Nodion shows them "
    "only once: delete them and create them again"
)


class _ClosedClientError(NodionError, RuntimeError):
    """The client was used after :meth:`NodionClient.close`."""


class NodionClient:
    """Thread-safe client for one Nodion project, as described by :class:`Settings`.

    ``retry`` defaults to :class:`RetryPolicy` (pass ``NO_RETRY`` in tests that expect
    the first failure); ``transport`` replaces the network, e.g. ``httpx.MockTransport``.
    """

    def __init__(
        self,
        settings: Settings,
        *,
        retry: RetryPolicy | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self._settings = settings
        self._retry = retry if retry is not None else RetryPolicy()
        self._transport = transport
        self._lock = threading.Lock()
        self._http: httpx.Client | None = None
        self._closed = False

    @property
    def settings(self) -> Settings:
        return self._settings

    @property
    def retry(self) -> RetryPolicy:
        return self._retry

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called; a closed client refuses every request."""
        return self._closed

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(api_url={self._settings.api_url!r}, "
            f"project_id={self._settings.project_id!r})"
        )

    def __enter__(self) -> NodionClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close pooled connections. The client cannot be used afterwards."""
        with self._lock:
            self._closed = True
            http, self._http = self._http, None
        if http is not None:
            http.close()

    # -- registries -------------------------------------------------------------------

    def list_registries(self) -> list[Registry]:
        """All registries of the project, Nodion-managed and external."""
        operation = "list container registries"
        try:
            response, payload = self._call(operation, "GET", _REGISTRIES)
        except NotFoundError as error:
            # The list always exists: a 404 here means the base URL is wrong.
            raise ConfigurationError(self._wrong_url(error)) from None
        return self._parse(operation, response, parse_registry_list, payload)

    def _wrong_url(self, error: NotFoundError) -> str:
        api_url = self._settings.api_url
        text = (
            f"{error.operation} failed: HTTP 404 from {error.method} {api_url}/{_REGISTRIES}: "
            f"there is no Nodion API at {api_url}. "
        )
        if not api_url.endswith("/v1"):
            return text + f"The URL lacks the API version: set {URL_SETTING} to {api_url}/v1"
        return text + f"Check {URL_SETTING}; the default is https://api.nodion.com/v1"

    def get_registry(self, registry_id: str) -> Registry:
        operation = "get container registry"
        path = f"{_REGISTRIES}/{validate_registry_id(registry_id)}"
        response, payload = self._call(operation, "GET", path, registry_id=registry_id)
        return self._parse(operation, response, parse_registry, payload)

    def create_registry(
        self,
        *,
        name: str,
        registry_type: str,
        hostname: str | None = None,
        username: str | None = None,
        password: str | None = None,
    ) -> Registry:
        """Add an external registry. Fields left as None are not sent, so Nodion applies
        its own defaults (e.g. ``docker.io`` for Docker Hub)."""
        operation = "create container registry"
        body = _without_none(
            name=name,
            registry_type=registry_type,
            hostname=hostname,
            username=username,
            password=password,
        )
        response, payload = self._call(
            operation, "POST", _REGISTRIES, body=body, secrets=(password,)
        )
        return self._parse(operation, response, parse_registry, payload)

    def update_registry(
        self,
        registry_id: str,
        *,
        name: str | None = None,
        hostname: str | None = None,
        username: str | None = None,
        password: str | None = None,
    ) -> Registry:
        """Change only the given fields (a PATCH of exactly those).

        With no fields there is nothing to change; the registry is read instead of
        sending an empty write.
        """
        operation = "update container registry"
        path = f"{_REGISTRIES}/{validate_registry_id(registry_id)}"
        body = _without_none(name=name, hostname=hostname, username=username, password=password)
        if not body:
            return self.get_registry(registry_id)
        response, payload = self._call(
            operation, "PATCH", path, body=body, secrets=(password,), registry_id=registry_id
        )
        return self._parse(operation, response, parse_registry, payload)

    def delete_registry(self, registry_id: str) -> None:
        operation = "delete container registry"
        path = f"{_REGISTRIES}/{validate_registry_id(registry_id)}"
        self._call(operation, "DELETE", path, expect_json=False, registry_id=registry_id)

    # -- credentials of Nodion registries ---------------------------------------------

    def create_credentials(self, registry_id: str) -> Credentials:
        """Generate the push/pull credentials of a Nodion registry.

        Nodion returns the password in this response only; later reads show just
        ``has_credentials: true``.
        """
        operation = "create registry credentials"
        path = f"{_REGISTRIES}/{validate_registry_id(registry_id)}/credentials"
        response, payload = self._call(
            operation, "POST", path, lost_note=_LOST_CREDENTIALS_NOTE, registry_id=registry_id
        )
        return self._parse(
            operation, response, parse_credentials, payload, note=_LOST_CREDENTIALS_NOTE
        )

    def delete_credentials(self, registry_id: str, *, resend_lost_answer: bool = True) -> None:
        """Revoke a Nodion registry's credentials so that new ones can be generated.

        With ``resend_lost_answer=False`` an attempt whose answer was lost (it may have
        been carried out) is not sent again: the error is raised so that the caller can
        settle it before minting new credentials, which a late repeat would revoke.
        Throttling (429, 503) is still retried, since Nodion did not act on it.
        """
        operation = "delete registry credentials"
        path = f"{_REGISTRIES}/{validate_registry_id(registry_id)}/credentials"
        self._call(
            operation,
            "DELETE",
            path,
            expect_json=False,
            registry_id=registry_id,
            resend_lost_answer=resend_lost_answer,
        )

    # -- transport ----------------------------------------------------------------------

    def _client(self) -> httpx.Client:
        http = self._http
        if http is not None:
            return http
        with self._lock:
            if self._closed:
                raise _ClosedClientError("this NodionClient has been closed")
            if self._http is None:
                self._http = self._new_http_client()
            return self._http

    def _new_http_client(self) -> httpx.Client:
        settings = self._settings
        headers = {
            "Authorization": f"Bearer {settings.api_token.get_secret_value()}",
            "Accept": "application/json",
            "User-Agent": USER_AGENT,
        }
        if settings.project_id:
            headers["X-Nodion-Project"] = settings.project_id
        host = httpx.URL(settings.api_url).host
        return httpx.Client(
            base_url=settings.api_url,
            headers=headers,
            timeout=httpx.Timeout(settings.timeout, connect=CONNECT_TIMEOUT),
            limits=POOL_LIMITS,
            transport=self._transport,
            follow_redirects=False,
            # Proxy variables must not capture requests to a local emulator.
            trust_env=not is_loopback_host(host),
        )

    def _call(
        self,
        operation: str,
        method: str,
        path: str,
        *,
        body: dict[str, Any] | None = None,
        secrets: Iterable[str | None] = (),
        expect_json: bool = True,
        lost_note: str | None = None,
        registry_id: str | None = None,
        resend_lost_answer: bool = True,
    ) -> tuple[httpx.Response, Any]:
        """Send one API request under the retry policy; return the response and its
        decoded JSON body (None when ``expect_json`` is false).

        Each attempt builds the request, sends it and classifies the result: a success is
        returned, a failure goes to :meth:`RetryPolicy.decide`, which says how long to wait
        before the next attempt or that the failure is final.
        """
        secrets = (self._settings.api_token.get_secret_value(), *secrets)
        policy = self._retry
        http = self._client()
        deadline = policy.clock() + policy.total_timeout
        attempt = 0
        while True:
            attempt += 1
            timeout = max(0.001, min(self._settings.timeout, deadline - policy.clock()))
            request = _build(http, method, path, body, timeout)
            url_path = request.url.path
            started = policy.clock()
            outcome: Outcome
            failure: NodionError
            retry_after: float | None = None
            try:
                response, content = self._send(http, request, started + timeout)
            except httpx.RequestError as exc:
                logger.debug(
                    "%s %s failed: %s (attempt %d/%d)",
                    method,
                    url_path,
                    type(exc).__name__,
                    attempt,
                    policy.attempts,
                )
                outcome = exc
                failure = _connection_error(
                    exc, operation, method, request.url, secrets, timeout, registry_id
                )
            else:
                logger.debug(
                    "%s %s -> %d (attempt %d/%d, %.3fs)",
                    method,
                    url_path,
                    response.status_code,
                    attempt,
                    policy.attempts,
                    policy.clock() - started,
                )
                if response.is_success:
                    return response, self._accept(
                        operation, response, content, expect_json, lost_note
                    )
                outcome = response.status_code
                failure = error_from_response(
                    response,
                    operation=operation,
                    secrets=secrets,
                    content=content,
                    registry_id=registry_id,
                )
                retry_after = parse_retry_after(response.headers.get("Retry-After"))

            delay = policy.decide(attempt, method, outcome, retry_after, deadline)
            if not resend_lost_answer and may_have_been_applied(failure):
                delay = None
            if delay is None:
                raise failure from None  # httpx's own chain adds frames, not facts
            _log_retry(method, url_path, outcome, delay, attempt, policy)
            policy.sleep(delay)

    def _accept(
        self,
        operation: str,
        response: httpx.Response,
        content: bytes,
        expect_json: bool,
        note: str | None,
    ) -> Any:
        """The decoded body of a successful answer (None when no JSON is expected)."""
        if len(content) > MAX_RESPONSE_BYTES:
            raise UnexpectedResponseError(
                operation=operation,
                method=response.request.method,
                path=response.request.url.path,
                status_code=response.status_code,
                messages=(
                    f"the response is larger than {MAX_RESPONSE_BYTES} bytes",
                    *((note,) if note else ()),
                ),
            )
        if not expect_json:
            return None
        return self._decode(operation, response, content, note)

    def _send(
        self, http: httpx.Client, request: httpx.Request, deadline: float
    ) -> tuple[httpx.Response, bytes]:
        """Send and read the body, stopping past :data:`MAX_RESPONSE_BYTES` or the
        per-request deadline (httpx's own timeouts are per read, not per request)."""
        response = http.send(request, stream=True)
        try:
            chunks: list[bytes] = []
            size = 0
            for chunk in response.iter_bytes():
                chunks.append(chunk)
                size += len(chunk)
                if size > MAX_RESPONSE_BYTES:
                    break
                if self._retry.clock() > deadline:
                    raise httpx.ReadTimeout("reading the response took too long", request=request)
            return response, b"".join(chunks)
        finally:
            response.close()

    def _decode(
        self, operation: str, response: httpx.Response, content: bytes, note: str | None
    ) -> Any:
        try:
            return json.loads(content)
        except (ValueError, RecursionError):
            excerpt = extract_messages(content, (self._settings.api_token.get_secret_value(),))
            described = f": {excerpt[0]}" if excerpt else " (empty body)"
            raise UnexpectedResponseError(
                operation=operation,
                method=response.request.method,
                path=response.request.url.path,
                status_code=response.status_code,
                messages=(f"expected JSON{described}", *((note,) if note else ())),
            ) from None

    def _parse(
        self,
        operation: str,
        response: httpx.Response,
        parser: Callable[[Any], _T],
        payload: Any,
        *,
        note: str | None = None,
    ) -> _T:
        try:
            return parser(payload)
        except ResponseShapeError as exc:
            raise UnexpectedResponseError(
                operation=operation,
                method=response.request.method,
                path=response.request.url.path,
                status_code=response.status_code,
                messages=(str(exc), *((note,) if note else ())),
            ) from None


def _build(
    http: httpx.Client, method: str, path: str, body: dict[str, Any] | None, timeout: float
) -> httpx.Request:
    """One attempt's request, its httpx timeouts shortened to what the attempt may take
    (:meth:`NodionClient._send` bounds the attempt as a whole)."""
    return http.build_request(
        method,
        path,
        json=body,
        timeout=httpx.Timeout(timeout, connect=min(CONNECT_TIMEOUT, timeout)),
    )


def _without_none(**fields: str | None) -> dict[str, Any]:
    return {key: value for key, value in fields.items() if value is not None}


def _connection_error(
    exc: httpx.RequestError,
    operation: str,
    method: str,
    url: httpx.URL,
    secrets: Iterable[str | None],
    timeout: float,
    registry_id: str | None,
) -> NodionConnectionError:
    sent = request_may_have_been_sent(exc)
    path = url.path
    where = str(url.copy_with(query=None, fragment=None))
    if isinstance(exc, httpx.TimeoutException):
        reason = {
            httpx.ConnectTimeout: f"could not connect within {min(CONNECT_TIMEOUT, timeout):g} s",
            httpx.PoolTimeout: f"no free connection within {timeout:g} s",
            httpx.WriteTimeout: f"could not send the request within {timeout:g} s",
        }.get(type(exc), f"no response within {timeout:g} s")
        return NodionTimeoutError(
            reason,
            operation=operation,
            method=method,
            path=path,
            request_sent=sent,
            url=where,
            registry_id=registry_id,
        )
    reason = redact(str(exc) or type(exc).__name__, secrets)
    return NodionConnectionError(
        reason,
        operation=operation,
        method=method,
        path=path,
        request_sent=sent,
        url=where,
        registry_id=registry_id,
    )


def _log_retry(
    method: str, path: str, outcome: Outcome, delay: float, attempt: int, policy: RetryPolicy
) -> None:
    cause = f"HTTP {outcome}" if isinstance(outcome, int) else type(outcome).__name__
    logger.info(
        "%s %s: %s, retrying in %.2fs (attempt %d/%d)",
        method,
        path,
        cause,
        delay,
        attempt + 1,
        policy.attempts,
    )
