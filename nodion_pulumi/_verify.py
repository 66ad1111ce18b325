"""Asking a registry whether captured credentials still work.

Nodion answers ``has_credentials: true`` whether the credentials are the ones a stack
captured or a set regenerated later in the dashboard or by another stack; only the registry
can tell. It is asked the way ``docker login`` asks it, with the Docker Registry HTTP API v2
authentication flow:

1. ``GET https://{hostname}/v2/`` without credentials. A ``401`` names how to log in.
2. ``Bearer realm=...,service=...``: ``GET {realm}?service=...&account={username}`` with HTTP
   Basic credentials; ``200`` means valid, ``401``/``403`` rejected. ``Basic``: the same
   ``GET /v2/`` with Basic credentials; ``200`` valid, ``401`` rejected.
3. Anything else (an open registry answering ``200`` anonymously, a timeout, a ``5xx``, an
   answer outside the protocol) proves nothing either way: unknown.

The password is a secret that outlives this check, so where it may go is narrow: only to the
registry's own host or to the token realm the registry names, only over https (plain http only
for a loopback host), never following a redirect, and never into a message. Like ``docker``
and ``crane``, the requests honour the standard environment (``HTTPS_PROXY``, ``NO_PROXY``,
``SSL_CERT_FILE``, ``SSL_CERT_DIR``): that is how a company proxy, a private CA, or a local
emulator of Nodion's registries is reached, with nothing special-cased for tests.

A refresh may verify many credentials at once, so each check is bounded: a short timeout per
request, at most one retry, and a few checks at a time per process.
"""

from __future__ import annotations

import enum
import os
import re
import threading
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass

import httpx

from nodion_pulumi._client import USER_AGENT
from nodion_pulumi._facts import is_loopback_host
from nodion_pulumi._redact import redact
from nodion_pulumi._validation import hostname_problem

__all__ = [
    "MAX_CONCURRENT_VERIFICATIONS",
    "VERIFY_ATTEMPTS",
    "VERIFY_TIMEOUT",
    "Verdict",
    "Verification",
    "parse_challenges",
    "verify_credentials",
]

VERIFY_TIMEOUT = 10.0  # seconds one request to a registry may take
VERIFY_ATTEMPTS = 2  # the first request and at most one retry, after a transport error or a 5xx
MAX_CONCURRENT_VERIFICATIONS = 4  # checks running at once in one provider process

# The environment a registry client honours; a verifier client is kept per combination.
_ENVIRONMENT = (
    "HTTPS_PROXY",
    "https_proxy",
    "NO_PROXY",
    "no_proxy",
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
)


class Verdict(enum.Enum):
    """What the registry said about a username and password."""

    VALID = "valid"
    REJECTED = "rejected"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class Verification:
    """A verdict and, for rejected or unknown, why (no secret in it)."""

    verdict: Verdict
    reason: str = ""


@dataclass(frozen=True)
class Challenge:
    """One ``WWW-Authenticate`` challenge: its scheme (lower-case) and parameters."""

    scheme: str
    params: dict[str, str]


_PARAM = re.compile(r"([^\s=,]+)\s*=\s*(.*)", re.DOTALL)


def parse_challenges(headers: list[str]) -> list[Challenge]:
    """The challenges of ``WWW-Authenticate`` headers (RFC 9110 section 11.6.1).

    Several challenges may share one header, and one challenge's parameters are separated by
    the same commas: an item that starts with ``name=`` is a parameter of the challenge before
    it, any other item starts a challenge.
    """
    challenges: list[Challenge] = []
    for header in headers:
        for item in _split_outside_quotes(header):
            param = _PARAM.fullmatch(item)
            if param is None:
                scheme, _, rest = item.partition(" ")
                challenges.append(Challenge(scheme.lower(), {}))
                param = _PARAM.fullmatch(rest.strip())
            if param is not None and challenges:
                challenges[-1].params[param.group(1).lower()] = _unquote(param.group(2).strip())
    return challenges


def _split_outside_quotes(header: str) -> list[str]:
    items: list[str] = []
    current: list[str] = []
    quoted = escaped = False
    for char in header:
        if escaped:
            escaped = False
        elif char == "\\" and quoted:
            escaped = True
        elif char == '"':
            quoted = not quoted
        elif char == "," and not quoted:
            items.append("".join(current).strip())
            current = []
            continue
        current.append(char)
    items.append("".join(current).strip())
    return [item for item in items if item]


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] == '"':
        return re.sub(r"\\(.)", r"\1", value[1:-1])
    return value


_slots = threading.BoundedSemaphore(MAX_CONCURRENT_VERIFICATIONS)
_clients: dict[tuple[str | None, ...], httpx.Client] = {}
_clients_lock = threading.Lock()


def _client(timeout: float) -> httpx.Client:
    """One pooled client per proxy and CA environment, so that a refresh of many credentials
    reuses connections and builds one TLS context."""
    key = (*(os.environ.get(name) for name in _ENVIRONMENT), str(timeout))
    with _clients_lock:
        client = _clients.get(key)
        if client is None:
            client = _clients[key] = _new_client(timeout)
        return client


def _new_client(timeout: float, transport: httpx.BaseTransport | None = None) -> httpx.Client:
    return httpx.Client(
        timeout=httpx.Timeout(timeout),
        headers={"User-Agent": USER_AGENT},
        follow_redirects=False,  # a redirect could carry the password to another host
        trust_env=True,
        transport=transport,
    )


def verify_credentials(
    hostname: str,
    username: str,
    password: str,
    *,
    timeout: float = VERIFY_TIMEOUT,
    transport: httpx.BaseTransport | None = None,
) -> Verification:
    """Ask the registry at ``hostname`` (``host[:port]``) whether it accepts the credentials.

    Never raises for anything the registry or the network does: those are verdicts.
    ``transport`` replaces the network in tests (it also turns off the proxy environment).
    """
    # A path, a login or a space would send the request somewhere the registry is not.
    problem = hostname_problem(hostname)
    if problem is not None:
        return Verification(Verdict.UNKNOWN, f"the registry hostname {problem}")
    scheme = "http" if is_loopback_host(httpx.URL(f"https://{hostname}/").host) else "https"
    with _slots:
        if transport is not None:
            with _new_client(timeout, transport) as client:
                return _Exchange(client, hostname, username, password).run(scheme)
        return _Exchange(_client(timeout), hostname, username, password).run(scheme)


class _Exchange:
    """One verification: the anonymous ping, then the login the registry asked for."""

    def __init__(self, client: httpx.Client, hostname: str, username: str, password: str) -> None:
        self._client = client
        self._hostname = hostname
        self._username = username
        self._password = password

    def run(self, scheme: str) -> Verification:
        ping = f"{scheme}://{self._hostname}/v2/"
        response = self._get(ping)
        if isinstance(response, Verification):
            return response
        if response.status_code == 200:
            return Verification(
                Verdict.UNKNOWN,
                f"{self._hostname} answers without credentials (an open registry), so it "
                "cannot tell whether these credentials work",
            )
        if response.status_code != 401:
            return self._unexpected(response)
        challenges = parse_challenges(response.headers.get_list("www-authenticate"))
        for challenge in challenges:
            if challenge.scheme == "bearer" and challenge.params.get("realm"):
                return self._token(challenge.params)
        if any(challenge.scheme == "basic" for challenge in challenges):
            return self._judge(self._get(ping, login=True), rejected=(401,))
        return Verification(
            Verdict.UNKNOWN,
            f"{self._hostname} answered HTTP 401 without a Bearer or Basic challenge",
        )

    def _token(self, params: dict[str, str]) -> Verification:
        realm = params["realm"]
        try:
            url = httpx.URL(realm)
        except (httpx.InvalidURL, ValueError):
            return Verification(Verdict.UNKNOWN, f"{self._hostname} names an invalid token realm")
        safe = url.scheme == "https" or (url.scheme == "http" and is_loopback_host(url.host))
        if not safe or not url.host:
            return Verification(
                Verdict.UNKNOWN,
                f"{self._hostname} names a token realm that is not https ({url.scheme}://"
                f"{url.host}); the password is not sent there",
            )
        query = {"account": self._username}
        if params.get("service"):
            query["service"] = params["service"]
        url = url.copy_merge_params(query)
        return self._judge(self._get(url, login=True), rejected=(401, 403))

    def _judge(
        self, response: httpx.Response | Verification, *, rejected: tuple[int, ...]
    ) -> Verification:
        if isinstance(response, Verification):
            return response
        if response.status_code == 200:
            return Verification(Verdict.VALID)
        if response.status_code in rejected:
            return Verification(
                Verdict.REJECTED,
                f"{self._hostname} refused user {self._username!r} "
                f"(HTTP {response.status_code} from {_where(response.request.url)})",
            )
        return self._unexpected(response)

    def _unexpected(self, response: httpx.Response) -> Verification:
        return Verification(
            Verdict.UNKNOWN,
            f"{self._hostname} answered HTTP {response.status_code} to "
            f"{_where(response.request.url)}, which is outside the registry login protocol",
        )

    def _get(self, url: httpx.URL | str, *, login: bool = False) -> httpx.Response | Verification:
        """GET with at most one retry; a failure to get an answer is an unknown verdict."""
        auth = (self._username, self._password) if login else None
        failure = ""
        for attempt in range(VERIFY_ATTEMPTS):
            try:
                response = self._client.get(url, auth=auth)
            except httpx.HTTPError as exc:
                failure = redact(f"{type(exc).__name__}: {exc}", (self._password,))
                continue
            if response.status_code < 500 or attempt == VERIFY_ATTEMPTS - 1:
                return response
        target = httpx.URL(url)
        return Verification(
            Verdict.UNKNOWN, f"no answer from {_where(target)} {_route(target)} ({failure})"
        )


# NO_PROXY as the standard library reads it (the typing stubs omit this function).
_bypassed: Callable[[str, dict[str, str]], bool] = urllib.request.proxy_bypass_environment  # type: ignore[attr-defined]


def _route(url: httpx.URL) -> str:
    """How the environment sends a request to ``url``: through which proxy, or directly. A
    check that gets no answer is most often a proxy setting, so the message names it."""
    proxies = urllib.request.getproxies_environment()
    proxy = proxies.get(url.scheme)
    if proxy and not _bypassed(url.host, proxies):
        # Scheme, host and port only: a proxy URL may carry a login.
        via = httpx.URL(proxy)
        port = f":{via.port}" if via.port else ""
        return f"through the proxy {via.scheme}://{via.host}{port} ({url.scheme.upper()}_PROXY)"
    if proxy:
        return "directly (NO_PROXY names it)"
    return f"directly (no {url.scheme.upper()}_PROXY is set)"


def _where(url: httpx.URL) -> str:
    """A URL for messages: scheme, host and path, without the query (it names the account)."""
    return str(url.copy_with(query=None, fragment=None))
