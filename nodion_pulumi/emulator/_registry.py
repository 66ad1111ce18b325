"""The registries behind Nodion registries: the Docker Registry v2 authentication flow.

Only what proves credentials is served: `/v2/` answers an anonymous client with a Bearer
challenge whose realm (`/token`) is on the same host, the realm grants a token for exactly the
registry's current credentials, and `/v2/` accepts that token (or Basic credentials directly).
There are no images, so every other `/v2/...` path is `NAME_UNKNOWN` to an authorized client.

Tokens are bound to the salted digest of the credentials they were granted for: regenerating or
dropping the credentials changes or removes the digest, and every outstanding token stops
working at once, as it does when a registry revokes a robot account.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from urllib.parse import parse_qs, urlsplit

from nodion_pulumi.emulator._http import Reply, json_reply
from nodion_pulumi.emulator._log import RegistryRequestLog
from nodion_pulumi.emulator._store import Row, Store, secret_matches

TOKEN_SECONDS = 300
"""How long a granted token stays valid, as `expires_in` tells the client."""

_API_VERSION = ("Docker-Distribution-API-Version", "registry/2.0")
_TEXT = "text/plain; charset=utf-8"


def registry_error(status: int, code: str, message: str, *headers: tuple[str, str]) -> Reply:
    """The error body every Docker registry answers with, which clients show to users."""
    body = {"errors": [{"code": code, "message": message, "detail": None}]}
    return json_reply(status, body, headers=(*headers, _API_VERSION))


@dataclass(frozen=True)
class Grant:
    host: str
    registry_id: str
    secret_digest: str
    expires_at: float


@dataclass(frozen=True)
class Basic:
    username: str
    password: str


class RegistryRealm:
    """`/v2/` and its token realm for every Nodion registry of a store, as pure logic."""

    def __init__(
        self,
        store: Store,
        log: RegistryRequestLog,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._store = store
        self._log = log
        self._clock = clock
        self._lock = threading.Lock()
        # Keyed by a hash of the token: the emulator never needs a token back, only to know it.
        self._grants: dict[str, Grant] = {}
        self._login_statuses: dict[str, int] = {}

    def answer_logins_with(self, host: str, status: int | None) -> None:
        """Make `host`'s token realm answer every login with `status`, whatever the
        credentials, or (None) answer logins normally again.

        A real realm answers `403` to a good password behind a firewall, a geo-block or a
        rate limit; this is how a test shows that such an answer is not taken for a refusal
        (DESIGN 3a: only a `401` rejects). The anonymous `/v2/` challenge is unchanged.
        """
        if status is not None and not 400 <= status <= 599:
            raise ValueError(f"a login can be answered with an error status only, not {status}")
        with self._lock:
            if status is None:
                self._login_statuses.pop(host.lower(), None)
            else:
                self._login_statuses[host.lower()] = status

    def hostnames(self) -> list[str]:
        """The hostnames served right now: those of the Nodion registries in the store."""
        with self._store.read() as tx:
            return sorted({row.hostname.lower() for row in tx.rows() if row.is_nodion})

    def serves(self, host: str) -> bool:
        return self._registry(host) is not None

    def handle(self, host: str, method: str, target: str, authorization: str | None) -> Reply:
        """Answer one request on `host`'s TLS stream, and log it without its credentials."""
        host = host.lower()
        parts = urlsplit(target)
        path = parts.path or "/"
        scheme, _, credentials = (authorization or "").strip().partition(" ")
        auth = scheme.lower() if scheme.lower() in ("basic", "bearer") else "none"
        try:
            reply = self._answer(host, method, path, parts.query, auth, credentials.strip())
        except Exception:
            # A store closed during shutdown must not kill the connection silently.
            reply = registry_error(500, "UNKNOWN", "internal error in the emulated registry")
        self._log.record(host=host, method=method, path=path, status=reply.status, auth=auth)
        return reply

    def _answer(
        self, host: str, method: str, path: str, query: str, auth: str, credentials: str
    ) -> Reply:
        if path == "/token":
            if method not in ("GET", "HEAD"):
                return _text(405, "the token realm answers GET only\n", ("Allow", "GET, HEAD"))
            return self._token(host, query, auth, credentials)
        if path == "/v2" or path.startswith("/v2/"):
            return self._v2(host, method, path, auth, credentials)
        return _text(404, "404 page not found\n")

    # -- /v2/ ----------------------------------------------------------------------------------

    def _v2(self, host: str, method: str, path: str, auth: str, credentials: str) -> Reply:
        row = self._registry(host)
        allowed = row is not None and (
            (auth == "bearer" and self._token_valid(host, row, credentials))
            or (auth == "basic" and _credentials_match(row, _basic(credentials)))
        )
        if not allowed:
            return self._challenge(host)
        if path not in ("/v2", "/v2/"):
            return registry_error(404, "NAME_UNKNOWN", "repository name not known to registry")
        if method not in ("GET", "HEAD"):
            return registry_error(
                405, "UNSUPPORTED", "the operation is unsupported", ("Allow", "GET, HEAD")
            )
        return json_reply(200, {}, headers=(_API_VERSION,))

    def _challenge(self, host: str) -> Reply:
        challenge = f'Bearer realm="https://{host}/token",service="{host}"'
        return registry_error(
            401, "UNAUTHORIZED", "authentication required", ("WWW-Authenticate", challenge)
        )

    def _token_valid(self, host: str, row: Row, token: str) -> bool:
        now = self._clock()
        with self._lock:
            grant = self._grants.get(_token_key(token))
        return (
            grant is not None
            and grant.host == host
            and grant.registry_id == row.id
            and grant.secret_digest == row.secret_digest
            and now < grant.expires_at
        )

    # -- the token realm -----------------------------------------------------------------------

    def _token(self, host: str, query: str, auth: str, credentials: str) -> Reply:
        with self._lock:
            forced = self._login_statuses.get(host)
        if forced is not None:
            return registry_error(forced, "DENIED", "requested access to the resource is denied")
        params = parse_qs(query)
        services = params.get("service", [])
        if any(service.lower() != host for service in services):
            return registry_error(
                400, "DENIED", f"unknown service; this realm serves service={host!r} only"
            )
        basic = _basic(credentials) if auth == "basic" else None
        row = self._registry(host)
        problem = _refusal(row, basic, params.get("account", []))
        if problem is not None:
            return registry_error(
                401, "UNAUTHORIZED", problem, ("WWW-Authenticate", f'Basic realm="{host}"')
            )
        assert row is not None  # _refusal checked it has credentials
        assert row.secret_digest is not None
        token = secrets.token_urlsafe(32)
        now = self._clock()
        grant = Grant(host, row.id, row.secret_digest, now + TOKEN_SECONDS)
        with self._lock:
            self._grants = {k: g for k, g in self._grants.items() if now < g.expires_at}
            self._grants[_token_key(token)] = grant
        issued = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        body = {
            "token": token,
            "access_token": token,
            "expires_in": TOKEN_SECONDS,
            "issued_at": issued,
        }
        return json_reply(200, body, headers=(("Cache-Control", "no-store"),))

    def _registry(self, host: str) -> Row | None:
        host = host.lower()
        with self._store.read() as tx:
            rows = tx.rows()
        return next((r for r in rows if r.is_nodion and r.hostname.lower() == host), None)


def _refusal(row: Row | None, basic: Basic | None, accounts: list[str]) -> str | None:
    """Why the realm refuses a token, or None to grant one."""
    if basic is None:
        return "authentication required"
    if any(account != basic.username for account in accounts):
        return "the account parameter does not match the Basic username"
    if row is None or not _credentials_match(row, basic):
        return "invalid username or password"
    return None


def _credentials_match(row: Row, basic: Basic | None) -> bool:
    """Exactly the current credentials: a registry without any rejects everything."""
    return (
        basic is not None
        and row.has_credentials
        and row.username == basic.username
        and secret_matches(row.secret_digest, basic.password)
    )


def _basic(credentials: str) -> Basic | None:
    try:
        decoded = base64.b64decode(credentials, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    username, sep, password = decoded.partition(":")
    return Basic(username, password) if sep else None


def _token_key(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _text(status: int, text: str, *headers: tuple[str, str]) -> Reply:
    return Reply(status, raw=text.encode(), content_type=_TEXT, headers=headers)
