"""Asking a registry whether captured credentials still work.

Nodion answers ``has_credentials: true`` whether the credentials are the ones a stack
captured or a set regenerated later in the dashboard or by another stack; only the registry
can tell. It is asked the way ``docker login`` asks it, with the Docker Registry HTTP API v2
authentication flow:

1. ``GET https://{hostname}/v2/`` without credentials. A ``401`` names how to log in.
2. ``Bearer realm=...,service=...``: ``GET {realm}?service=...&account={username}`` with HTTP
   Basic credentials; ``200`` means valid, ``401`` rejected. ``Basic``: the same ``GET /v2/``
   with Basic credentials; ``200`` valid, ``401`` rejected.
3. Anything else proves nothing either way: unknown. That includes a ``403``: a firewall, a
   geo-block or a rate limit answers it to a good password too, and "rejected" makes refresh
   drop the only copy of the password, so only a ``401`` may say so. Also unknown: an open
   registry answering ``200`` anonymously, a timeout, a ``5xx``, an answer outside the
   protocol, and any exception at all.

The password is a secret that outlives this check, so where it may go is narrow: only to the
registry's own host or to the token realm the registry names, only over https, never following
a redirect, and never into a message. Plain http is used only when the registry itself is a
loopback host (:func:`~nodion_pulumi._facts.is_loopback_host`), and a realm on plain http only
on that same host; such requests never go through a proxy, which would receive the password in
clear. Like ``docker`` and ``crane``, https requests honour the standard environment
(``HTTPS_PROXY``, ``NO_PROXY``, ``SSL_CERT_FILE``, ``SSL_CERT_DIR``): that is how a company
proxy, a private CA, or a local emulator of Nodion's registries is reached, with nothing
special-cased for tests.

A refresh may verify many credentials at once, and a registry may be slow on purpose, so each
check is bounded: a short timeout per request, at most one retry (under
:class:`~nodion_pulumi._retry.RetryPolicy`), a wall-clock deadline for the whole check, no
answer body read at all (the status and headers decide), and a few checks at a time per
process. The limit and the pooled clients are process state, which this module does not keep:
the caller passes a client (see :func:`new_verifier_client` and :func:`verifier_environment`)
and holds a slot of :data:`MAX_CONCURRENT_VERIFICATIONS`.
"""

from __future__ import annotations

import contextlib
import enum
import os
import re
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpcore
import httpx

from nodion_pulumi._deadline import bound_streams, request_deadline
from nodion_pulumi._facts import is_loopback_host
from nodion_pulumi._http import new_http_client, url_for_messages
from nodion_pulumi._printable import printable
from nodion_pulumi._redact import redact
from nodion_pulumi._retry import RetryPolicy
from nodion_pulumi._validation import hostname_problem

__all__ = [
    "MAX_CONCURRENT_VERIFICATIONS",
    "VERIFY_ATTEMPTS",
    "VERIFY_BACKOFF",
    "VERIFY_DEADLINE_FACTOR",
    "VERIFY_READ_LIMIT",
    "VERIFY_TIMEOUT",
    "Verdict",
    "Verification",
    "new_verifier_client",
    "parse_challenges",
    "verification_policy",
    "verifier_environment",
    "verify_credentials",
]

VERIFY_TIMEOUT = 10.0  # seconds one request to a registry may take
VERIFY_ATTEMPTS = 2  # the first request and at most one retry, after a transport error or a 5xx
VERIFY_BACKOFF = 0.25  # seconds (jittered) before that retry
VERIFY_DEADLINE_FACTOR = 2  # a whole check may take this many timeouts: a ping and a login
VERIFY_READ_LIMIT = 16 * 1024  # bytes a check reads of one answer (its status and headers)
MAX_CONCURRENT_VERIFICATIONS = 4  # checks running at once in one provider process

# The environment a registry client honours: a pooled verifier client is good for one
# combination of these values.
_ENVIRONMENT = (
    "HTTPS_PROXY",
    "https_proxy",
    "ALL_PROXY",
    "all_proxy",
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


def verifier_environment() -> tuple[str | None, ...]:
    """The proxy and CA settings a verifier client is built with: a pooled client is reused
    only while these stay the same."""
    return tuple(os.environ.get(name) for name in _ENVIRONMENT)


def new_verifier_client(
    timeout: float = VERIFY_TIMEOUT, *, transport: httpx.BaseTransport | None = None
) -> httpx.Client:
    """A client for asking registries over https, honouring the proxy and CA environment
    like ``docker login`` does. Pooled by the caller, it lets a refresh of many credentials
    build one TLS context.

    It keeps no idle connection: a check never reads a body, so hardly any connection
    could be reused, and each check's read limit applies to the connections it opened
    itself. Plain http never goes through this client (see :func:`_direct_client`)."""
    return new_http_client(
        timeout=httpx.Timeout(timeout),
        transport=transport,
        trust_env=True,
        limits=_NO_IDLE_CONNECTIONS,
    )


def _direct_client(timeout: float, transport: httpx.BaseTransport | None) -> httpx.Client:
    """The client for a loopback registry's plain http: never through a proxy, whatever
    ``HTTP_PROXY`` or ``ALL_PROXY`` say, since a proxy would receive the password in clear."""
    return new_http_client(
        timeout=httpx.Timeout(timeout),
        transport=transport,
        trust_env=False,
        limits=_NO_IDLE_CONNECTIONS,
    )


_NO_IDLE_CONNECTIONS = httpx.Limits(max_connections=None, max_keepalive_connections=0)


def verification_policy(timeout: float = VERIFY_TIMEOUT) -> RetryPolicy:
    """At most one retry, shortly after a transport error or a server or gateway error,
    within the time two requests may take: a refresh does not wait on a struggling
    registry."""
    return RetryPolicy(
        attempts=VERIFY_ATTEMPTS,
        initial_backoff=VERIFY_BACKOFF,
        max_backoff=VERIFY_BACKOFF,
        max_retry_after=VERIFY_BACKOFF,
        total_timeout=VERIFY_ATTEMPTS * timeout + VERIFY_BACKOFF,
        wait_out_throttling=False,
    )


def verify_credentials(
    hostname: str,
    username: str,
    password: str,
    *,
    client: httpx.Client | None = None,
    timeout: float = VERIFY_TIMEOUT,
    deadline: float | None = None,
    transport: httpx.BaseTransport | None = None,
    retry: RetryPolicy | None = None,
) -> Verification:
    """Ask the registry at ``hostname`` (``host[:port]``) whether it accepts the credentials.

    Never raises: whatever the registry, the network or a malformed answer does becomes a
    verdict. ``client`` is a pooled https client (:func:`new_verifier_client`); without one,
    a short-lived client is built for this check, on ``transport`` if given (tests replace
    the network with it). ``deadline`` is the wall-clock bound of the whole check in
    seconds (default: two ``timeout``\\ s, a ping and a login). ``retry`` defaults to
    :func:`verification_policy`.
    """
    policy = retry if retry is not None else verification_policy(timeout)
    seconds = deadline if deadline is not None else VERIFY_DEADLINE_FACTOR * timeout
    try:
        # A path, a login or a space would send the request somewhere the registry is not.
        problem = hostname_problem(hostname)
        if problem is not None:
            return Verification(Verdict.UNKNOWN, f"the registry hostname {problem}")
        with contextlib.ExitStack() as owned:
            host = httpx.URL(f"https://{hostname}/").host
            if is_loopback_host(host):
                scheme = "http"
                client = owned.enter_context(_direct_client(timeout, transport))
            else:
                scheme = "https"
                if client is None:
                    client = owned.enter_context(new_verifier_client(timeout, transport=transport))
            check = _Bounds(seconds)
            exchange = _Exchange(client, policy, check, timeout, hostname, host, username, password)
            result = exchange.run(scheme)
    except Exception as exc:  # a verdict, never a traceback (DESIGN 3a)
        failure = redact(f"{type(exc).__name__}: {exc}", (password,))
        result = Verification(
            Verdict.UNKNOWN, f"the check of {hostname} failed unexpectedly ({failure})"
        )
    # A reason quotes what a registry or the network said: escaped like every message of ours.
    return Verification(result.verdict, printable(result.reason))


class _Bounds:
    """The wall-clock end of one check, and how much of each answer it reads.

    httpx's timeouts bound each read, not an answer: a registry sending one byte a second
    never trips a read timeout and can hold a check for as long as it likes. So every
    request of a check runs under :func:`~nodion_pulumi._deadline.request_deadline` with
    what is left of the check's time, and its connections' streams are bound to it
    (:func:`~nodion_pulumi._deadline.bound_streams`, the API client's mechanism): past the
    deadline a read fails at once, and the check ends with an unknown verdict.

    The same trace hook makes each stream read at most :data:`VERIFY_READ_LIMIT` bytes: a
    check needs a status line and a few headers (it never reads a body), and the HTTP parser
    alone would accept 100 KiB of headers.
    """

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._ends = time.monotonic() + seconds
        self.read_too_much = False

    @property
    def passed(self) -> bool:
        return time.monotonic() >= self._ends

    def remaining(self) -> float:
        return max(0.0, self._ends - time.monotonic())

    def trace(self, event: str, info: dict[str, Any]) -> None:
        """httpcore's trace hook: bind each new connection's stream to the deadline, and
        bound what it reads."""
        bound_streams(event, info)
        if event.endswith((".connect_tcp.complete", ".start_tls.complete")):
            stream = info.get("return_value")
            if stream is not None:
                self._limit_reads(stream)

    def _limit_reads(self, stream: Any) -> None:
        """Let ``stream`` read :data:`VERIFY_READ_LIMIT` bytes in all. Per stream, not per
        check: a read may take a body's first bytes along with the headers, and connections
        are never reused, so one answer's body cannot use up the next answer's share."""
        read: Callable[..., bytes] = stream.read
        left = [VERIFY_READ_LIMIT]

        def limited_read(max_bytes: int, timeout: float | None = None) -> bytes:
            if left[0] <= 0:
                self.read_too_much = True
                raise httpcore.ReadError(f"more than {VERIFY_READ_LIMIT} bytes in one answer")
            data = read(min(max_bytes, left[0]), timeout)
            left[0] -= len(data)
            return data

        stream.read = limited_read


@dataclass(frozen=True)
class _Answer:
    """What a check uses of an answer: its status and headers. The body is never read, so
    an answer of any size costs nothing."""

    status_code: int
    headers: httpx.Headers
    url: httpx.URL


@dataclass(frozen=True)
class _Exchange:
    """One verification: the anonymous ping, then the login the registry asked for."""

    _client: httpx.Client
    _policy: RetryPolicy
    _deadline: _Bounds
    _timeout: float
    _hostname: str
    _host: str  # the host part of _hostname, as httpx spells it
    _username: str
    _password: str = field(repr=False)

    def run(self, scheme: str) -> Verification:
        ping = f"{scheme}://{self._hostname}/v2/"
        response = self._get_retrying(ping)
        if isinstance(response, Verification):
            return response
        if response.status_code == 200:
            return Verification(
                Verdict.UNKNOWN,
                f"{self._hostname} answers without credentials (an open registry), so it "
                "cannot tell whether these credentials work",
            )
        if response.status_code != 401:
            return self._outside_protocol(response)
        challenges = parse_challenges(response.headers.get_list("www-authenticate"))
        for challenge in challenges:
            if challenge.scheme == "bearer" and challenge.params.get("realm"):
                return self._login_at_realm(challenge.params)
        if any(challenge.scheme == "basic" for challenge in challenges):
            return self._verdict_of_login(self._get_retrying(ping, login=True))
        return Verification(
            Verdict.UNKNOWN,
            f"{self._hostname} answered HTTP 401 without a Bearer or Basic challenge",
        )

    def _login_at_realm(self, params: dict[str, str]) -> Verification:
        realm = params["realm"]
        try:
            url = httpx.URL(realm)
            _ = url.host  # decodes an IDNA name, which may fail (``https://xn--/t``)
        except Exception:  # httpx.InvalidURL, an IDNA error, ...
            return Verification(Verdict.UNKNOWN, f"{self._hostname} names an invalid token realm")
        if not self._may_receive_password(url):
            return Verification(
                Verdict.UNKNOWN,
                f"{self._hostname} names a token realm that is not https ({url.scheme}://"
                f"{url.raw_host.decode('ascii')}); the password is not sent there (plain "
                "http only to a loopback registry's own host)",
            )
        query = {"account": self._username}
        if params.get("service"):
            query["service"] = params["service"]
        url = url.copy_merge_params(query)
        return self._verdict_of_login(self._get_retrying(url, login=True))

    def _may_receive_password(self, realm: httpx.URL) -> bool:
        """https to any host the registry names; plain http only back to a loopback
        registry's own host, where no one in between can read it."""
        if not realm.host:
            return False
        if realm.scheme == "https":
            return True
        return realm.scheme == "http" and is_loopback_host(self._host) and realm.host == self._host

    def _verdict_of_login(self, response: _Answer | Verification) -> Verification:
        """What the answer to a login with the credentials says about them: 200 valid, 401
        refused, anything else (403 included) unknown."""
        if isinstance(response, Verification):
            return response
        if response.status_code == 200:
            return Verification(Verdict.VALID)
        if response.status_code == 401:
            return Verification(
                Verdict.REJECTED,
                f"{self._hostname} refused user {self._username!r} "
                f"(HTTP 401 from {url_for_messages(response.url)})",
            )
        if response.status_code == 403:
            return Verification(
                Verdict.UNKNOWN,
                f"{self._hostname} answered HTTP 403 to {url_for_messages(response.url)}, "
                "which a firewall, a geo-block or a rate limit also answers to a working "
                "password; only a 401 says the credentials are refused",
            )
        return self._outside_protocol(response)

    def _outside_protocol(self, response: _Answer) -> Verification:
        return Verification(
            Verdict.UNKNOWN,
            f"{self._hostname} answered HTTP {response.status_code} to "
            f"{url_for_messages(response.url)}, which is outside the registry login "
            "protocol",
        )

    def _get_retrying(self, url: httpx.URL | str, *, login: bool = False) -> _Answer | Verification:
        """GET under the retry policy and the check's deadline; a failure to get an answer
        is an unknown verdict.

        Only a transport error or a 5xx is worth the retry: any other answer is the
        registry's word, which a repeat would not change. A registry's ``Retry-After`` is
        not waited for, nor is anything past the deadline.
        """
        auth = (self._username, self._password) if login else None
        policy = self._policy
        deadline = policy.clock() + policy.total_timeout
        attempt = 0
        while True:
            attempt += 1
            try:
                answer = self._get(url, auth)
            except httpx.HTTPError as exc:
                target = httpx.URL(url)
                if self._deadline.read_too_much:
                    return self._too_large(target)
                if self._deadline.passed:
                    return self._too_slow(target)
                failure = redact(f"{type(exc).__name__}: {exc}", (self._password,))
                delay = policy.decide(attempt, "GET", exc, None, deadline)
                if delay is None:
                    where = f"{url_for_messages(target)} {_route_of(target)}"
                    return Verification(Verdict.UNKNOWN, f"no answer from {where} ({failure})")
            else:
                if answer.status_code < 500:
                    return answer
                delay = policy.decide(attempt, "GET", answer.status_code, None, deadline)
                if delay is None:
                    return answer
            if delay >= self._deadline.remaining():
                return self._too_slow(httpx.URL(url))
            policy.sleep(delay)

    def _get(self, url: httpx.URL | str, auth: tuple[str, str] | None) -> _Answer:
        """One GET whose body is never read, within what is left of the deadline."""
        if self._deadline.passed:
            raise httpx.TimeoutException("the check's deadline has passed")
        left = self._deadline.remaining()
        with (
            request_deadline(left),
            self._client.stream(
                "GET",
                url,
                auth=auth,
                timeout=min(self._timeout, left),
                extensions={"trace": self._deadline.trace},
            ) as response,
        ):
            return _Answer(response.status_code, response.headers, response.request.url)

    def _too_large(self, url: httpx.URL) -> Verification:
        return Verification(
            Verdict.UNKNOWN,
            f"{self._hostname} answered {url_for_messages(url)} with more than "
            f"{VERIFY_READ_LIMIT // 1024} KiB of status and headers, far more than the login "
            "protocol needs; the rest was not read",
        )

    def _too_slow(self, url: httpx.URL) -> Verification:
        return Verification(
            Verdict.UNKNOWN,
            f"{self._hostname} did not answer {url_for_messages(url)} within the check's "
            f"deadline of {self._deadline.seconds:g} s",
        )


# NO_PROXY as the standard library reads it (the typing stubs omit this function).
_bypassed: Callable[[str, dict[str, str]], bool] = urllib.request.proxy_bypass_environment  # type: ignore[attr-defined]


def _route_of(url: httpx.URL) -> str:
    """How the environment sends a request to ``url``: through which proxy, or directly. A
    check that gets no answer is most often a proxy setting, so the message names it."""
    if url.scheme == "http":
        return "directly (plain http to this machine never goes through a proxy)"
    proxies = urllib.request.getproxies_environment()
    proxy = proxies.get(url.scheme) or proxies.get("all")
    if proxy and not _bypassed(url.host, proxies):
        # Scheme, host and port only: a proxy URL may carry a login.
        via = httpx.URL(proxy)
        port = f":{via.port}" if via.port else ""
        name = "HTTPS_PROXY" if proxies.get(url.scheme) else "ALL_PROXY"
        return f"through the proxy {via.scheme}://{via.host}{port} ({name})"
    if proxy:
        return "directly (NO_PROXY names it)"
    return f"directly (no {url.scheme.upper()}_PROXY is set)"
