"""A small synchronous client for Nodion's Container Registries API.

Pulumi's dynamic-provider host calls a provider from several threads at once (up to four
resource operations in parallel) on one provider instance, so one :class:`NodionClient` is
shared: it holds a single ``httpx.Client`` whose connection pool is reused across threads
and created only when the first request is made (a preview that never calls the API opens
no connection).

Each method names its operation ("create container registry"), which every error carries,
so a failure in a Pulumi run says what was being attempted, not just which URL failed.
This module holds the endpoints and the client's lifecycle; sending a call (retries, size
cap, decoding, logging) is :mod:`nodion_pulumi._sending`.
"""

from __future__ import annotations

import threading
from typing import Any

import httpx

from nodion_pulumi._config import Settings
from nodion_pulumi._errors import NodionError, NoNodionAPIError, NotFoundError
from nodion_pulumi._facts import is_loopback_host
from nodion_pulumi._http import new_http_client
from nodion_pulumi._models import (
    Credentials,
    Registry,
    parse_credentials,
    parse_registry,
    parse_registry_list,
    validate_registry_id,
)
from nodion_pulumi._retry import RetryPolicy
from nodion_pulumi._sending import CONNECT_TIMEOUT, Answer, Call, send_call

__all__ = ["NodionClient"]

POOL_LIMITS = httpx.Limits(max_connections=16, max_keepalive_connections=8)

_REGISTRIES = "container_registries"

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

    def __exit__(self, *exc_info: object) -> None:
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
        try:
            answer = self._send("list container registries", "GET", _REGISTRIES)
        except NotFoundError as error:
            # The list always exists: a 404 here means the base URL is wrong.
            raise NoNodionAPIError(
                operation=error.operation,
                method=error.method,
                api_url=self._settings.api_url,
                path=_REGISTRIES,
            ) from error
        return answer.parsed(parse_registry_list)

    def get_registry(self, registry_id: str) -> Registry:
        answer = self._send(
            "get container registry", "GET", _path(registry_id), registry_id=registry_id
        )
        return answer.parsed(parse_registry)

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
        body = _without_none(
            name=name,
            registry_type=registry_type,
            hostname=hostname,
            username=username,
            password=password,
        )
        answer = self._send(
            "create container registry", "POST", _REGISTRIES, body=body, password=password
        )
        return answer.parsed(parse_registry)

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
        path = _path(registry_id)
        body = _without_none(name=name, hostname=hostname, username=username, password=password)
        if not body:
            return self.get_registry(registry_id)
        answer = self._send(
            "update container registry",
            "PATCH",
            path,
            body=body,
            password=password,
            registry_id=registry_id,
        )
        return answer.parsed(parse_registry)

    def delete_registry(self, registry_id: str) -> None:
        self._send(
            "delete container registry",
            "DELETE",
            _path(registry_id),
            registry_id=registry_id,
            expect_json=False,
        )

    # -- credentials of Nodion registries ---------------------------------------------

    def create_credentials(self, registry_id: str) -> Credentials:
        """Generate the push/pull credentials of a Nodion registry.

        Nodion returns the password in this response only; later reads show just
        ``has_credentials: true``.
        """
        answer = self._send(
            "create registry credentials",
            "POST",
            _path(registry_id, "credentials"),
            registry_id=registry_id,
            note=_LOST_CREDENTIALS_NOTE,
        )
        return answer.parsed(parse_credentials)

    def delete_credentials(self, registry_id: str, *, resend_lost_answer: bool = True) -> None:
        """Revoke a Nodion registry's credentials so that new ones can be generated.

        With ``resend_lost_answer=False`` an attempt whose answer was lost (it may have
        been carried out) is not sent again: the error is raised so that the caller can
        settle it before minting new credentials, which a late repeat would revoke.
        Throttling (429, 503) is still retried, since Nodion did not act on it.
        """
        self._send(
            "delete registry credentials",
            "DELETE",
            _path(registry_id, "credentials"),
            registry_id=registry_id,
            expect_json=False,
            resend_lost_answer=resend_lost_answer,
        )

    # -- transport ----------------------------------------------------------------------

    def _http_client(self) -> httpx.Client:
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
        }
        if settings.project_id:
            headers["X-Nodion-Project"] = settings.project_id
        return new_http_client(
            base_url=settings.api_url,
            headers=headers,
            timeout=httpx.Timeout(settings.timeout, connect=CONNECT_TIMEOUT),
            limits=POOL_LIMITS,
            transport=self._transport,
            # Proxy variables must not capture requests to a local emulator.
            trust_env=not is_loopback_host(httpx.URL(settings.api_url).host),
        )

    def _send(
        self,
        operation: str,
        method: str,
        path: str,
        *,
        body: dict[str, Any] | None = None,
        password: str | None = None,
        registry_id: str | None = None,
        note: str | None = None,
        expect_json: bool = True,
        resend_lost_answer: bool = True,
    ) -> Answer:
        """Send one call under the retry policy (see :mod:`nodion_pulumi._sending`); the
        token and ``password`` are kept out of every error it raises."""
        token = self._settings.api_token.get_secret_value()
        call = Call(
            operation,
            method,
            path,
            body=body,
            registry_id=registry_id,
            secrets=(token, password) if password else (token,),
            note=note,
            expect_json=expect_json,
            resend_lost_answer=resend_lost_answer,
        )
        http = self._http_client()
        try:
            return send_call(http, call, self._retry, self._settings.timeout)
        except RuntimeError as exc:  # httpx's refusal once another thread closed this client
            if isinstance(exc, NodionError) or not self._closed:
                raise
            raise _ClosedClientError(f"{operation} failed: the client was closed") from exc


def _path(registry_id: str, *below: str) -> str:
    """The path of a registry (or of something below it), refusing an id that would
    address another endpoint."""
    return "/".join((_REGISTRIES, validate_registry_id(registry_id), *below))


def _without_none(**fields: str | None) -> dict[str, Any]:
    return {key: value for key, value in fields.items() if value is not None}
