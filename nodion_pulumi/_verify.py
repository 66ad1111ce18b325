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
request, at most one retry (under :class:`~nodion_pulumi._retry.RetryPolicy`), and a few
checks at a time per process. The limit and the pooled clients are process state, which this
module does not keep: the caller passes a client (see :func:`new_verifier_client` and
:func:`verifier_environment`) and holds a slot of :data:`MAX_CONCURRENT_VERIFICATIONS`.
"""

from __future__ import annotations

import contextlib
import enum
import os
import re
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx

from nodion_pulumi._facts import is_loopback_host
from nodion_pulumi._http import new_http_client, url_for_messages
from nodion_pulumi._redact import redact
from nodion_pulumi._retry import RetryPolicy
from nodion_pulumi._validation import hostname_problem

__all__ = [
    "MAX_CONCURRENT_VERIFICATIONS",
    "VERIFY_ATTEMPTS",
    "VERIFY_BACKOFF",
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
MAX_CONCURRENT_VERIFICATIONS = 4  # checks running at once in one provider process

# The environment a registry client honours: a pooled verifier client is good for one
# combination of these values.
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


def verifier_environment() -> tuple[str | None, ...]:
    """The proxy and CA settings a verifier client is built with: a pooled client is reused
    only while these stay the same."""
    return tuple(os.environ.get(name) for name in _ENVIRONMENT)


def new_verifier_client(
    timeout: float = VERIFY_TIMEOUT, *, transport: httpx.BaseTransport | None = None
) -> httpx.Client:
    """A client for asking registries, honouring the proxy and CA environment like
    ``docker login`` does. Pooled by the caller, it lets a refresh of many credentials reuse
    connections and build one TLS context."""
    return new_http_client(timeout=httpx.Timeout(timeout), transport=transport, trust_env=True)


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
    transport: httpx.BaseTransport | None = None,
    retry: RetryPolicy | None = None,
) -> Verification:
    """Ask the registry at ``hostname`` (``host[:port]``) whether it accepts the credentials.

    Never raises for anything the registry or the network does: those are verdicts.
    ``client`` is a pooled client (:func:`new_verifier_client`); without one, a short-lived
    client is built for this check, on ``transport`` if given (tests replace the network
    with it). ``retry`` defaults to :func:`verification_policy`.
    """
    # A path, a login or a space would send the request somewhere the registry is not.
    problem = hostname_problem(hostname)
    if problem is not None:
        return Verification(Verdict.UNKNOWN, f"the registry hostname {problem}")
    scheme = "http" if is_loopback_host(httpx.URL(f"https://{hostname}/").host) else "https"
    policy = retry if retry is not None else verification_policy(timeout)
    with contextlib.ExitStack() as owned:
        if client is None:
            client = owned.enter_context(new_verifier_client(timeout, transport=transport))
        return _Exchange(client, policy, hostname, username, password).run(scheme)


@dataclass(frozen=True)
class _Exchange:
    """One verification: the anonymous ping, then the login the registry asked for."""

    _client: httpx.Client
    _policy: RetryPolicy
    _hostname: str
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
            return self._verdict_of_login(self._get_retrying(ping, login=True), rejected=(401,))
        return Verification(
            Verdict.UNKNOWN,
            f"{self._hostname} answered HTTP 401 without a Bearer or Basic challenge",
        )

    def _login_at_realm(self, params: dict[str, str]) -> Verification:
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
        return self._verdict_of_login(self._get_retrying(url, login=True), rejected=(401, 403))

    def _verdict_of_login(
        self, response: httpx.Response | Verification, *, rejected: tuple[int, ...]
    ) -> Verification:
        """What the answer to a login with the credentials says about them: 200 valid, a
        status of ``rejected`` refused, anything else unknown."""
        if isinstance(response, Verification):
            return response
        if response.status_code == 200:
            return Verification(Verdict.VALID)
        if response.status_code in rejected:
            return Verification(
                Verdict.REJECTED,
                f"{self._hostname} refused user {self._username!r} "
                f"(HTTP {response.status_code} from {url_for_messages(response.request.url)})",
            )
        return self._outside_protocol(response)

    def _outside_protocol(self, response: httpx.Response) -> Verification:
        return Verification(
            Verdict.UNKNOWN,
            f"{self._hostname} answered HTTP {response.status_code} to "
            f"{url_for_messages(response.request.url)}, which is outside the registry login "
            "protocol",
        )

    def _get_retrying(
        self, url: httpx.URL | str, *, login: bool = False
    ) -> httpx.Response | Verification:
        """GET under the retry policy; a failure to get an answer is an unknown verdict.

        Only a transport error or a 5xx is worth the retry: any other answer is the
        registry's word, which a repeat would not change. A registry's ``Retry-After`` is
        not waited for.
        """
        auth = (self._username, self._password) if login else None
        policy = self._policy
        deadline = policy.clock() + policy.total_timeout
        attempt = 0
        while True:
            attempt += 1
            try:
                response = self._client.get(url, auth=auth)
            except httpx.HTTPError as exc:
                failure = redact(f"{type(exc).__name__}: {exc}", (self._password,))
                delay = policy.decide(attempt, "GET", exc, None, deadline)
                if delay is None:
                    target = httpx.URL(url)
                    where = f"{url_for_messages(target)} {_route_of(target)}"
                    return Verification(Verdict.UNKNOWN, f"no answer from {where} ({failure})")
            else:
                if response.status_code < 500:
                    return response
                delay = policy.decide(attempt, "GET", response.status_code, None, deadline)
                if delay is None:
                    return response
            policy.sleep(delay)


# NO_PROXY as the standard library reads it (the typing stubs omit this function).
_bypassed: Callable[[str, dict[str, str]], bool] = urllib.request.proxy_bypass_environment  # type: ignore[attr-defined]


def _route_of(url: httpx.URL) -> str:
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
