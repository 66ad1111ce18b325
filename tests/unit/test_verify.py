"""The registry login check, against scripted registries (httpx.MockTransport).

Every exchange is recorded, so each test also proves where the password went: only to the
registry's own host or the realm it named, and never into a verdict's reason.
"""

from __future__ import annotations

import base64
import dataclasses
from collections.abc import Callable

import httpx
import pytest

from nodion_pulumi._http import USER_AGENT
from nodion_pulumi._verify import (
    VERIFY_ATTEMPTS,
    VERIFY_BACKOFF,
    Challenge,
    Verdict,
    Verification,
    new_verifier_client,
    parse_challenges,
    verification_policy,
    verifier_environment,
    verify_credentials,
)

HOST = "registry.fra.nodion.net"
USER = "nodion-fra-user"
PASSWORD = "pw-8f2c61d0e4b7a395"
BASIC = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
BEARER = f'Bearer realm="https://{HOST}/token",service="{HOST}"'

Handler = Callable[[httpx.Request], httpx.Response]


class Registry:
    """A scripted registry that records each request it got, and the waits between them."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.requests: list[httpx.Request] = []
        self.waits: list[float] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self.handler(request)

    def verify(self, hostname: str = HOST, password: str = PASSWORD) -> Verification:
        policy = verification_policy(1.0)
        result = verify_credentials(
            hostname,
            USER,
            password,
            transport=httpx.MockTransport(self),
            timeout=1.0,
            retry=dataclasses.replace(policy, sleep=self.waits.append, clock=lambda: 0.0),
        )
        assert PASSWORD not in result.reason
        for request in self.requests:
            if "authorization" in request.headers:
                assert request.url.scheme == "https" or request.url.host == "127.0.0.1"
                assert request.url.host in (hostname.split(":")[0], "auth.example.com")
        return result

    @property
    def paths(self) -> list[str]:
        return [f"{r.method} {r.url.host}{r.url.path}" for r in self.requests]


def challenge(header: str | None) -> Handler:
    """A registry whose ``/v2/`` asks for ``header`` and whose realm checks the password."""

    def handle(request: httpx.Request) -> httpx.Response:
        auth = request.headers.get("authorization")
        if request.url.path == "/v2/":
            if header is None or auth == BASIC:
                return httpx.Response(200, json={})
            return httpx.Response(401, headers={"WWW-Authenticate": header})
        if request.url.path == "/token":
            return httpx.Response(200 if auth == BASIC else 401, json={"token": "t"})
        return httpx.Response(404)

    return handle


def test_bearer_flow_accepts_the_current_password() -> None:
    registry = Registry(challenge(BEARER))
    assert registry.verify() == Verification(Verdict.VALID)
    ping, token = registry.requests
    assert str(ping.url) == f"https://{HOST}/v2/"
    assert "authorization" not in ping.headers
    assert token.url.path == "/token"
    assert token.headers["authorization"] == BASIC
    assert dict(token.url.params) == {"service": HOST, "account": USER}


def test_bearer_flow_rejects_another_password() -> None:
    result = Registry(challenge(BEARER)).verify(password="pw-regenerated-elsewhere")
    assert result.verdict is Verdict.REJECTED
    assert f"refused user '{USER}'" in result.reason
    assert "HTTP 401" in result.reason
    assert "account" not in result.reason  # the query is left out of messages


def test_a_realm_answering_401_rejects() -> None:
    def handle(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v2/":
            return httpx.Response(401, headers={"WWW-Authenticate": BEARER})
        return httpx.Response(401)

    assert Registry(handle).verify().verdict is Verdict.REJECTED


@pytest.mark.parametrize("where", ["realm", "basic"])
def test_a_403_to_the_login_is_unknown_and_keeps_the_password(where: str) -> None:
    # A firewall, a geo-block or a rate limit answers 403 to a working password too;
    # "rejected" would make refresh drop the only copy of it (DESIGN 3a).
    header = BEARER if where == "realm" else 'Basic realm="Registry"'

    def handle(request: httpx.Request) -> httpx.Response:
        if "authorization" not in request.headers:
            return httpx.Response(401, headers={"WWW-Authenticate": header})
        return httpx.Response(403, json={"errors": [{"code": "DENIED"}]})

    result = Registry(handle).verify()
    assert result.verdict is Verdict.UNKNOWN
    assert "HTTP 403" in result.reason
    assert "only a 401 says the credentials are refused" in result.reason


def test_a_realm_on_another_https_host_gets_the_login() -> None:
    realm = 'Bearer realm="https://auth.example.com/token",service="reg"'
    registry = Registry(challenge(realm))
    assert registry.verify().verdict is Verdict.VALID
    assert registry.paths == [f"GET {HOST}/v2/", "GET auth.example.com/token"]


def test_basic_challenge_logs_in_at_v2() -> None:
    registry = Registry(challenge('Basic realm="Registry"'))
    assert registry.verify().verdict is Verdict.VALID
    assert registry.requests[1].headers["authorization"] == BASIC
    assert registry.verify(password="pw-wrong-0000").verdict is Verdict.REJECTED


def test_an_open_registry_proves_nothing() -> None:
    registry = Registry(challenge(None))
    result = registry.verify()
    assert result.verdict is Verdict.UNKNOWN
    assert "open registry" in result.reason
    assert len(registry.requests) == 1  # the password was never sent


@pytest.mark.parametrize(
    "header", ["Negotiate", 'Bearer service="no-realm"', 'Digest realm="r", nonce="n"']
)
def test_a_challenge_outside_the_protocol_is_unknown(header: str) -> None:
    registry = Registry(challenge(header))
    assert registry.verify().verdict is Verdict.UNKNOWN
    assert all("authorization" not in r.headers for r in registry.requests)


@pytest.mark.parametrize(
    "realm",
    ["http://auth.example.com/token", "ftp://auth.example.com/token", "/token", "https:///x"],
)
def test_the_password_never_goes_to_a_realm_without_https(realm: str) -> None:
    registry = Registry(challenge(f'Bearer realm="{realm}",service="s"'))
    result = registry.verify()
    assert result.verdict is Verdict.UNKNOWN
    assert len(registry.requests) == 1


@pytest.mark.parametrize(
    ("hostname", "realm"),
    [
        # A remote https registry naming a loopback http realm: the password would leave
        # in clear for whatever listens on this machine's port.
        (HOST, "http://127.0.0.1:5000/token"),
        (HOST, "http://localhost/token"),
        # A loopback registry naming an http realm on another host, loopback or not.
        ("127.0.0.1:5000", "http://auth.example.com/token"),
        ("127.0.0.1:5000", "http://localhost:5000/token"),
        ("127.0.0.1:5000", "http://127.0.0.2:5000/token"),
        ("localhost:5000", "http://x.localhost:5000/token"),
    ],
)
def test_an_http_realm_only_on_a_loopback_registry_s_own_host(hostname: str, realm: str) -> None:
    registry = Registry(challenge(f'Bearer realm="{realm}",service="s"'))
    result = registry.verify(hostname)
    assert result.verdict is Verdict.UNKNOWN
    assert "not https" in result.reason
    assert all("authorization" not in r.headers for r in registry.requests)


def test_a_name_under_localhost_is_no_loopback_host_and_is_asked_over_https() -> None:
    registry = Registry(challenge('Bearer realm="https://x.localhost/token",service="s"'))
    assert registry.verify("x.localhost").verdict is Verdict.VALID
    assert [r.url.scheme for r in registry.requests] == ["https", "https"]


def test_a_realm_that_idna_cannot_decode_is_unknown() -> None:
    registry = Registry(challenge('Bearer realm="https://xn--/t",service="s"'))
    result = registry.verify()
    assert result.verdict is Verdict.UNKNOWN
    assert "invalid token realm" in result.reason
    assert len(registry.requests) == 1


@pytest.mark.parametrize("error", [RuntimeError, UnicodeError, KeyError, RecursionError])
def test_any_exception_during_a_check_is_an_unknown_verdict(error: type[Exception]) -> None:
    def explode(request: httpx.Request) -> httpx.Response:
        raise error(f"broken while holding {PASSWORD}")

    result = Registry(explode).verify()
    assert result.verdict is Verdict.UNKNOWN
    assert error.__name__ in result.reason
    assert "failed unexpectedly" in result.reason


def test_a_reason_carries_no_character_a_terminal_acts_on() -> None:
    def explode(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused \x1b[2J\u202eevil\u200b\nline", request=request)

    reason = Registry(explode).verify().reason
    assert "\\x1b[2J\\u202eevil\\u200b\\nline" in reason
    assert all(char.isprintable() for char in reason)


def test_a_hostname_idna_cannot_decode_is_unknown() -> None:
    registry = Registry(challenge(BEARER))
    assert registry.verify("xn--a.example").verdict is Verdict.UNKNOWN
    assert registry.requests == []


def test_plain_http_only_for_a_loopback_registry_and_realm() -> None:
    realm = 'Bearer realm="http://127.0.0.1:5000/token",service="local"'
    registry = Registry(challenge(realm))
    assert registry.verify("127.0.0.1:5000").verdict is Verdict.VALID
    assert [str(r.url).split("?")[0] for r in registry.requests] == [
        "http://127.0.0.1:5000/v2/",
        "http://127.0.0.1:5000/token",
    ]


def test_a_redirect_from_the_realm_is_not_followed() -> None:
    def handle(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v2/":
            return httpx.Response(401, headers={"WWW-Authenticate": BEARER})
        return httpx.Response(302, headers={"Location": "https://elsewhere.example/steal"})

    registry = Registry(handle)
    result = registry.verify()
    assert result.verdict is Verdict.UNKNOWN
    assert "HTTP 302" in result.reason
    assert len(registry.requests) == 2


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_a_server_error_is_retried_once_then_unknown(status: int) -> None:
    registry = Registry(lambda request: httpx.Response(status, headers={"Retry-After": "60"}))
    result = registry.verify()
    assert result.verdict is Verdict.UNKNOWN
    assert f"HTTP {status}" in result.reason
    assert len(registry.requests) == VERIFY_ATTEMPTS == 2
    # A short wait, not the registry's Retry-After: a refresh does not wait on a registry.
    assert len(registry.waits) == 1
    assert 0 < registry.waits[0] <= VERIFY_BACKOFF


@pytest.mark.parametrize("status", [429, 404])
def test_an_answer_below_500_is_the_registry_s_word_and_not_retried(status: int) -> None:
    registry = Registry(lambda request: httpx.Response(status))
    result = registry.verify()
    assert result.verdict is Verdict.UNKNOWN
    assert f"HTTP {status}" in result.reason
    assert len(registry.requests) == 1


def test_one_retry_can_recover_from_a_server_error() -> None:
    answers = iter([httpx.Response(502)])
    registry = Registry(lambda request: next(answers, None) or challenge(BEARER)(request))
    assert registry.verify().verdict is Verdict.VALID
    assert len(registry.requests) == 3


def test_an_unreachable_registry_is_unknown_and_names_the_failure() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError(f"connection refused ({PASSWORD})", request=request)

    registry = Registry(refuse)
    result = registry.verify()
    assert result.verdict is Verdict.UNKNOWN
    assert "ConnectError" in result.reason
    assert f"https://{HOST}/v2/" in result.reason
    assert len(registry.requests) == 2


def test_a_timeout_at_the_realm_is_unknown() -> None:
    def handle(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v2/":
            return httpx.Response(401, headers={"WWW-Authenticate": BEARER})
        raise httpx.ReadTimeout("timed out", request=request)

    assert Registry(handle).verify().verdict is Verdict.UNKNOWN


def test_a_hostname_that_is_not_one_is_unknown_without_a_request() -> None:
    registry = Registry(challenge(BEARER))
    assert registry.verify("bad host/with path").verdict is Verdict.UNKNOWN
    assert registry.requests == []


def test_a_hostname_that_is_not_a_string_is_unknown_not_a_traceback() -> None:
    # A state written by hand or by an older release may hold anything: never raises.
    result = verify_credentials(None, USER, PASSWORD)  # type: ignore[arg-type]
    assert result.verdict is Verdict.UNKNOWN
    assert PASSWORD not in result.reason


def test_a_given_client_is_used_and_left_open() -> None:
    registry = Registry(challenge(BEARER))
    with new_verifier_client(1.0, transport=httpx.MockTransport(registry)) as client:
        result = verify_credentials(HOST, USER, PASSWORD, client=client)
        assert result.verdict is Verdict.VALID
        assert not client.is_closed
    assert [r.headers["User-Agent"] for r in registry.requests] == [USER_AGENT] * 2


def test_a_verifier_client_honours_the_environment_and_refuses_redirects() -> None:
    with new_verifier_client(3.0) as client:
        assert client.trust_env
        assert not client.follow_redirects
        assert client.timeout == httpx.Timeout(3.0)


def test_the_verifier_environment_changes_with_the_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:9")
    first = verifier_environment()
    assert verifier_environment() == first
    monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:10")
    assert verifier_environment() != first


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        (
            ['Bearer realm="https://auth.docker.io/token",service="registry.docker.io"'],
            [
                Challenge(
                    "bearer",
                    {"realm": "https://auth.docker.io/token", "service": "registry.docker.io"},
                )
            ],
        ),
        (
            ['Basic realm="a, b", Bearer realm="r\\"q", service=s'],
            [
                Challenge("basic", {"realm": "a, b"}),
                Challenge("bearer", {"realm": 'r"q', "service": "s"}),
            ],
        ),
        (
            ["Negotiate", "basic REALM = x"],
            [Challenge("negotiate", {}), Challenge("basic", {"realm": "x"})],
        ),
        ([""], []),
    ],
)
def test_parse_challenges(headers: list[str], expected: list[Challenge]) -> None:
    assert parse_challenges(headers) == expected
