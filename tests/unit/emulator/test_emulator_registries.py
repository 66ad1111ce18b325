"""`serve_registries=True`: the Docker Registry v2 auth flow behind the emulator's HTTPS proxy.

Every request goes through the real proxy and TLS, the way the provider, crane or docker reach
`registry.<slug>.nodion.net` with HTTPS_PROXY and SSL_CERT_FILE set.
"""

from __future__ import annotations

import base64
import json
import re
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from nodion_pulumi._verify import Verdict, verify_credentials
from nodion_pulumi.emulator import Emulator, EmulatorAdminError
from nodion_pulumi.emulator._api import RegistryApi
from nodion_pulumi.emulator._log import RegistryRequestLog
from nodion_pulumi.emulator._registry import TOKEN_SECONDS, RegistryRealm
from nodion_pulumi.emulator._store import Store

TOKEN = "test-token"
FRA = "registry.fra.nodion.net"
NBG = "registry.nbg.nodion.net"
CHALLENGE = re.compile(r'^Bearer realm="(?P<realm>[^"]+)",service="(?P<service>[^"]+)"$')


@pytest.fixture
def registries(tmp_path: Path) -> Iterator[Emulator]:
    with Emulator(
        token=TOKEN, data_path=tmp_path / "emulator.db", serve_registries=True
    ) as emulator:
        yield emulator


@pytest.fixture
def registry(registries: Emulator) -> Iterator[httpx.Client]:
    """A client that reaches the registries as an SSL_CERT_FILE user does: the CA file only."""
    context = ssl.create_default_context(cafile=str(registries.ca_cert_path))
    with httpx.Client(
        proxy=registries.registry_proxy_url, verify=context, trust_env=False, timeout=10.0
    ) as client:
        yield client


def _mint(emulator: Emulator, slug: str = "fra") -> dict[str, Any]:
    registry_id = emulator.nodion_registry_id(slug)
    response = httpx.post(
        f"{emulator.url}/container_registries/{registry_id}/credentials",
        headers={"Authorization": f"Bearer {TOKEN}"},
        trust_env=False,
    )
    assert response.status_code == 201, response.text
    minted: dict[str, Any] = response.json()["container_registry"]
    return minted


@pytest.fixture
def creds(registries: Emulator) -> dict[str, Any]:
    return _mint(registries)


def _token(client: httpx.Client, creds: dict[str, Any], host: str = FRA) -> str:
    response = client.get(
        f"https://{host}/token",
        params={"service": host, "scope": "repository:app:pull", "account": creds["username"]},
        auth=(creds["username"], creds["password"]),
    )
    assert response.status_code == 200, response.text
    token: str = response.json()["token"]
    return token


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _error_codes(response: httpx.Response) -> list[str]:
    return [error["code"] for error in response.json()["errors"]]


def _raw_proxy_exchange(emulator: Emulator, request: bytes) -> bytes:
    """One request straight to the proxy socket, read until the proxy closes."""
    parts = urlsplit(emulator.registry_proxy_url)
    assert parts.hostname is not None
    assert parts.port is not None
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as sock:
        sock.sendall(request)
        received = b""
        while chunk := sock.recv(4096):
            received += chunk
    return received


def _tunnel(emulator: Emulator, host: str) -> socket.socket:
    """A socket CONNECTed through the proxy to `host`:443, ready for TLS."""
    parts = urlsplit(emulator.registry_proxy_url)
    assert parts.hostname is not None
    assert parts.port is not None
    sock = socket.create_connection((parts.hostname, parts.port), timeout=10)
    sock.sendall(f"CONNECT {host}:443 HTTP/1.1\r\nHost: {host}:443\r\n\r\n".encode())
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = sock.recv(1)
        assert chunk, head
        head += chunk
    assert head.startswith(b"HTTP/1.1 200 Connection Established\r\n"), head
    return sock


# -- the v2 auth flow --------------------------------------------------------------------------


def test_anonymous_v2_gets_a_bearer_challenge_on_the_same_host(
    registry: httpx.Client, creds: dict[str, Any]
) -> None:
    response = registry.get(f"https://{FRA}/v2/")
    assert response.status_code == 401
    found = CHALLENGE.match(response.headers["WWW-Authenticate"])
    assert found, response.headers["WWW-Authenticate"]
    assert found["realm"] == f"https://{FRA}/token"
    assert found["service"] == FRA
    assert response.headers["Docker-Distribution-API-Version"] == "registry/2.0"
    assert response.json() == {
        "errors": [{"code": "UNAUTHORIZED", "message": "authentication required", "detail": None}]
    }


def test_the_realm_grants_a_token_for_the_current_credentials(
    registry: httpx.Client, creds: dict[str, Any]
) -> None:
    response = registry.get(
        f"https://{FRA}/token",
        params={"service": FRA, "scope": "repository:app:pull", "account": creds["username"]},
        auth=(creds["username"], creds["password"]),
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"token", "access_token", "expires_in", "issued_at"}
    assert body["token"] == body["access_token"]
    assert len(body["token"]) >= 32
    assert body["expires_in"] == TOKEN_SECONDS == 300
    assert datetime.fromisoformat(body["issued_at"].replace("Z", "+00:00")).tzinfo is not None
    # A second grant is a different token; both work.
    second = _token(registry, creds)
    assert second != body["token"]
    for token in (body["token"], second):
        assert registry.get(f"https://{FRA}/v2/", headers=_bearer(token)).status_code == 200


@pytest.mark.parametrize(
    "case", ["wrong password", "wrong username", "no auth", "account mismatch", "garbage basic"]
)
def test_the_realm_refuses_anything_but_the_current_credentials(
    registry: httpx.Client, creds: dict[str, Any], case: str
) -> None:
    username, password = creds["username"], creds["password"]
    params = {"service": FRA, "scope": "repository:app:pull"}
    headers: dict[str, str] = {}
    auth: tuple[str, str] | None = None
    if case == "wrong password":
        auth = (username, password + "x")
    elif case == "wrong username":
        auth = (username + "x", password)
    elif case == "account mismatch":
        auth, params["account"] = (username, password), "someone-else"
    elif case == "garbage basic":
        headers["Authorization"] = "Basic not-base64!"
    response = registry.get(f"https://{FRA}/token", params=params, headers=headers, auth=auth)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == f'Basic realm="{FRA}"'
    assert _error_codes(response) == ["UNAUTHORIZED"]
    assert password not in response.text


def test_a_registry_without_credentials_rejects_everything(
    registry: httpx.Client, creds: dict[str, Any]
) -> None:
    # nbg has none; fra's valid credentials and tokens are no key to it either.
    token = _token(registry, creds)
    refused = registry.get(
        f"https://{NBG}/token", params={"service": NBG}, auth=(creds["username"], creds["password"])
    )
    assert refused.status_code == 401
    assert registry.get(f"https://{NBG}/v2/", headers=_bearer(token)).status_code == 401
    basic = registry.get(f"https://{NBG}/v2/", auth=(creds["username"], creds["password"]))
    assert basic.status_code == 401


def test_the_realm_refuses_another_service(registry: httpx.Client, creds: dict[str, Any]) -> None:
    response = registry.get(
        f"https://{FRA}/token", params={"service": NBG}, auth=(creds["username"], creds["password"])
    )
    assert response.status_code == 400
    assert "service='registry.fra.nodion.net'" in response.json()["errors"][0]["message"]


def test_bearer_and_basic_on_v2(registry: httpx.Client, creds: dict[str, Any]) -> None:
    token = _token(registry, creds)
    ok = registry.get(f"https://{FRA}/v2/", headers=_bearer(token))
    assert ok.status_code == 200
    assert ok.json() == {}
    assert ok.headers["Docker-Distribution-API-Version"] == "registry/2.0"
    missing = registry.get(f"https://{FRA}/v2/app/tags/list", headers=_bearer(token))
    assert missing.status_code == 404
    assert _error_codes(missing) == ["NAME_UNKNOWN"]
    forged = registry.get(f"https://{FRA}/v2/", headers=_bearer(token + "x"))
    assert forged.status_code == 401
    assert CHALLENGE.match(forged.headers["WWW-Authenticate"])
    # Some clients skip the realm and send Basic straight to /v2/.
    basic = registry.get(f"https://{FRA}/v2/", auth=(creds["username"], creds["password"]))
    assert basic.status_code == 200
    wrong = registry.get(f"https://{FRA}/v2/", auth=(creds["username"], "nope"))
    assert wrong.status_code == 401
    assert CHALLENGE.match(wrong.headers["WWW-Authenticate"])


def test_other_paths_on_a_registry_host_are_404(registry: httpx.Client) -> None:
    assert registry.get(f"https://{FRA}/").status_code == 404
    assert registry.post(f"https://{FRA}/token", data={"grant_type": "password"}).status_code == 405


def test_tokens_expire() -> None:
    store = Store(None, "3f2a9c1d-7b4e-4e26-9d58-0a6b1c2d3e4f")
    now = [1000.0]
    try:
        api = RegistryApi(store, "3f2a9c1d-7b4e-4e26-9d58-0a6b1c2d3e4f")
        api.seed(["fra"])
        with store.write() as tx:
            row, password = api.mint_credentials(tx, tx.rows()[0])
        realm = RegistryRealm(store, RegistryRequestLog(), clock=lambda: now[0])
        pair = base64.b64encode(f"{row.username}:{password}".encode()).decode()
        basic = f"Basic {pair}"
        granted = realm.handle(FRA, "GET", f"/token?service={FRA}", basic)
        assert granted.status == 200
        assert isinstance(granted.payload, dict)
        bearer = f"Bearer {granted.payload['token']}"
        now[0] += TOKEN_SECONDS - 1
        assert realm.handle(FRA, "GET", "/v2/", bearer).status == 200
        now[0] += 1
        assert realm.handle(FRA, "GET", "/v2/", bearer).status == 401
    finally:
        store.close()


# -- out-of-band changes -----------------------------------------------------------------------


def test_regenerating_credentials_locks_out_the_old_password_and_tokens(
    registries: Emulator, registry: httpx.Client, creds: dict[str, Any]
) -> None:
    token = _token(registry, creds)
    registry_id = registries.nodion_registry_id("fra")
    view = registries.admin.regenerate_credentials(registry_id)
    assert view["id"] == registry_id
    assert view["has_credentials"] is True
    assert "password" not in view
    assert "username" not in view
    old = registry.get(
        f"https://{FRA}/token", params={"service": FRA}, auth=(creds["username"], creds["password"])
    )
    assert old.status_code == 401
    assert registry.get(f"https://{FRA}/v2/", headers=_bearer(token)).status_code == 401
    # The API still refuses a second set: the regenerated one exists, only nobody holds it.
    again = httpx.post(
        f"{registries.url}/container_registries/{registry_id}/credentials",
        headers={"Authorization": f"Bearer {TOKEN}"},
        trust_env=False,
    )
    assert again.status_code == 400


def test_regenerate_keeps_the_api_username_scheme(registries: Emulator) -> None:
    registry_id = registries.nodion_registry_id("nbg")
    registries.admin.regenerate_credentials(registry_id)  # works without a set to replace
    state = registries.export_state()["registries"]
    row = next(r for r in state if r["id"] == registry_id)
    assert row["username"] == f"robot$project-{registries.project_id[:8]}"
    assert row["secret_digest"].startswith("sha256$")


def test_dropping_credentials_invalidates_tokens(
    registries: Emulator, registry: httpx.Client, creds: dict[str, Any]
) -> None:
    token = _token(registry, creds)
    registries.admin.drop_credentials(registries.nodion_registry_id("fra"))
    assert registry.get(f"https://{FRA}/v2/", headers=_bearer(token)).status_code == 401


def test_regenerate_refuses_external_and_unknown_registries(registries: Emulator) -> None:
    external = httpx.post(
        f"{registries.url}/container_registries",
        json={"name": "hub", "registry_type": "docker_hub"},
        headers={"Authorization": f"Bearer {TOKEN}"},
        trust_env=False,
    ).json()["container_registry"]
    with pytest.raises(EmulatorAdminError) as refused:
        registries.admin.regenerate_credentials(external["id"])
    assert refused.value.status == 400
    assert refused.value.errors == ["Registry is not a Nodion registry"]
    with pytest.raises(EmulatorAdminError) as unknown:
        registries.admin.regenerate_credentials("00000000-0000-0000-0000-000000000000")
    assert unknown.value.status == 404


# -- the proxy ---------------------------------------------------------------------------------


@pytest.mark.parametrize("target", [f"{FRA}:80", "registry.waw.nodion.net:443", f"{NBG}.:8443"])
def test_connect_to_an_unserved_nodion_registry_is_refused_naming_the_served_hosts(
    registries: Emulator, target: str
) -> None:
    """Relaying these would reach the real Nodion from a shell set up for the emulated one."""
    answer = _raw_proxy_exchange(
        registries, f"CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n\r\n".encode()
    )
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 403 ")
    text = body.decode()
    assert text.count("\n") == 1
    assert f"refusing CONNECT {target} rather than sending it to the real Nodion" in text
    for slug in registries.regions:
        assert f"registry.{slug}.nodion.net:443" in text


@pytest.mark.parametrize("target", ["127.0.0.1", "127.0.0.1:0", "127.0.0.1:https", ":443"])
def test_connect_without_host_and_port_is_a_bad_request(registries: Emulator, target: str) -> None:
    answer = _raw_proxy_exchange(
        registries, f"CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n\r\n".encode()
    )
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400 ")
    assert body.decode() == f"CONNECT needs host:port, got {target!r}\n"


def test_a_plain_proxy_request_is_told_to_use_connect(registries: Emulator) -> None:
    answer = _raw_proxy_exchange(
        registries, f"GET http://{FRA}/v2/ HTTP/1.1\r\nHost: {FRA}\r\n\r\n".encode()
    )
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 405 ")
    assert b"\r\nAllow: CONNECT\r\n" in head
    assert f"HTTPS_PROXY={registries.registry_proxy_url}".encode() in body


def test_the_certificate_verifies_for_the_registry_hostnames_with_the_ca_file(
    registries: Emulator,
) -> None:
    trusting = ssl.create_default_context(cafile=str(registries.ca_cert_path))
    for slug in registries.regions:
        host = f"registry.{slug}.nodion.net"
        with trusting.wrap_socket(_tunnel(registries, host), server_hostname=host) as tls:
            assert tls.version() in ("TLSv1.2", "TLSv1.3")
            assert tls.selected_alpn_protocol() in (None, "http/1.1")
    # Another name on the same certificate's server fails, as does a client without the CA.
    with pytest.raises(ssl.SSLCertVerificationError, match="mismatch"):
        trusting.wrap_socket(_tunnel(registries, FRA), server_hostname="registry.example.com")
    untrusting = ssl.create_default_context()
    with pytest.raises(ssl.SSLCertVerificationError):
        untrusting.wrap_socket(_tunnel(registries, FRA), server_hostname=FRA)
    pem = registries.ca_cert_path.read_text()
    assert pem.startswith("-----BEGIN CERTIFICATE-----")
    assert "PRIVATE KEY" not in pem


def test_the_standard_environment_is_enough(
    registries: Emulator, creds: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """What the provider's verifier does: httpx with trust_env and nothing else configured."""
    for name in ("HTTP_PROXY", "ALL_PROXY", "http_proxy", "all_proxy", "https_proxy", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    for name, value in registries.registry_environment().items():
        monkeypatch.setenv(name, value)
    with httpx.Client(trust_env=True, timeout=10.0) as client:
        assert client.get(f"https://{FRA}/v2/").status_code == 401
        token = _token(client, creds)
        assert client.get(f"https://{FRA}/v2/", headers=_bearer(token)).status_code == 200
        # NO_PROXY keeps the emulator's own API off the proxy.
        listed = client.get(
            f"{registries.url}/container_registries", headers={"Authorization": f"Bearer {TOKEN}"}
        )
        assert listed.status_code == 200


def test_the_registry_log_is_apart_and_holds_no_secret(
    registries: Emulator, registry: httpx.Client, creds: dict[str, Any]
) -> None:
    registries.admin.clear_requests()
    registry.get(f"https://{FRA}/v2/")
    token = _token(registry, creds)
    registry.get(f"https://{FRA}/v2/", headers=_bearer(token))
    registry.get(f"https://{NBG}/v2/", auth=(creds["username"], "wrong"))
    entries = registries.admin.registry_requests()
    shapes = [(e["host"], e["method"], e["path"], e["status"], e["auth"]) for e in entries]
    assert shapes == [
        (FRA, "GET", "/v2/", 401, "none"),
        (FRA, "GET", "/token", 200, "basic"),
        (FRA, "GET", "/v2/", 200, "bearer"),
        (NBG, "GET", "/v2/", 401, "basic"),
    ]
    dumped = json.dumps(entries)
    for secret in (creds["password"], token, "wrong", "scope", "account"):
        assert secret not in dumped
    assert registries.admin.requests() == []  # none of them is a Nodion API call
    registries.admin.clear_registry_requests()
    assert registries.admin.registry_requests() == []


# -- lifecycle ---------------------------------------------------------------------------------


def test_registry_properties_need_serve_registries(emulator: Emulator) -> None:
    for get in (
        lambda: emulator.registry_proxy_url,
        lambda: emulator.ca_cert_path,
        emulator.registry_environment,
    ):
        with pytest.raises(RuntimeError, match="pass serve_registries=True"):
            get()
    assert emulator.admin.registry_requests() == []


def test_environment_and_cleanup(tmp_path: Path) -> None:
    emulator = Emulator(token=TOKEN, serve_registries=True)
    with pytest.raises(RuntimeError, match="not running"):
        emulator.registry_environment()
    with emulator:
        env = emulator.registry_environment()
        assert env == {
            "HTTPS_PROXY": emulator.registry_proxy_url,
            "SSL_CERT_FILE": str(emulator.trust_bundle_path),
            "NO_PROXY": "127.0.0.1,localhost,::1",
        }
        assert emulator.trust_bundle_path.parent == emulator.ca_cert_path.parent
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+", env["HTTPS_PROXY"])
        assert env["HTTPS_PROXY"] != emulator.root_url
        ca = emulator.ca_cert_path
        assert ca.is_file()
    assert not ca.parent.exists()


def test_stop_ends_open_tunnels_promptly() -> None:
    emulator = Emulator(serve_registries=True).start()
    context = ssl.create_default_context(cafile=str(emulator.ca_cert_path))
    with httpx.Client(
        proxy=emulator.registry_proxy_url, verify=context, trust_env=False, timeout=5.0
    ) as client:
        assert client.head(f"https://{FRA}/v2/").status_code == 401  # kept alive in the pool
        started = time.monotonic()
        emulator.stop()
        assert time.monotonic() - started < 2.0
        with pytest.raises(httpx.TransportError):
            client.get(f"https://{FRA}/v2/")


def test_without_trustme_start_says_what_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "trustme", None)  # makes `import trustme` fail
    emulator = Emulator(data_path=tmp_path / "e.db", serve_registries=True)
    with pytest.raises(RuntimeError, match=re.escape("pip install 'nodion-pulumi[emulator]'")):
        emulator.start()
    assert not emulator.running
    # The store was closed and can be reopened; nothing is left half-started.
    with Emulator(data_path=tmp_path / "e.db") as plain:
        assert plain.running


def test_trustme_is_imported_only_for_served_registries() -> None:
    probe = (
        "import sys\n"
        "from nodion_pulumi.emulator import Emulator\n"
        "Emulator().start().stop()\n"
        "print('trustme' in sys.modules, 'cryptography' in sys.modules)\n"
    )
    proc = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert proc.stdout.strip() == "False False"


# -- a realm that refuses with 403 -------------------------------------------------------------


def _realm(emulator: Emulator) -> RegistryRealm:
    """The running proxy's realm (the admin API does not offer this switch)."""
    proxy = emulator._proxy
    assert proxy is not None
    return proxy.realm


def test_a_realm_told_to_answer_403_does_so_for_good_credentials_and_only_on_its_host(
    registries: Emulator, registry: httpx.Client, creds: dict[str, Any]
) -> None:
    _realm(registries).answer_logins_with(FRA, 403)
    login = {"service": FRA, "account": creds["username"]}
    denied = registry.get(
        f"https://{FRA}/token", params=login, auth=(creds["username"], creds["password"])
    )
    assert denied.status_code == 403
    assert denied.json()["errors"][0]["code"] == "DENIED"
    assert registry.get(f"https://{FRA}/v2/").status_code == 401, "the challenge is unchanged"
    nbg = _mint(registries, "nbg")
    assert _token(registry, nbg, NBG)

    _realm(registries).answer_logins_with(FRA, None)
    assert _token(registry, creds)


def test_a_realm_answers_logins_with_error_statuses_only(registries: Emulator) -> None:
    with pytest.raises(ValueError, match="error status only"):
        _realm(registries).answer_logins_with(FRA, 200)


def test_the_verifier_keeps_credentials_its_realm_answers_403_to(
    registries: Emulator, creds: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in registries.registry_environment().items():
        monkeypatch.setenv(name, value)
    _realm(registries).answer_logins_with(FRA, 403)

    result = verify_credentials(FRA, creds["username"], creds["password"])

    assert result.verdict is Verdict.UNKNOWN
    assert "HTTP 403" in result.reason
    _realm(registries).answer_logins_with(FRA, None)
    assert verify_credentials(FRA, creds["username"], creds["password"]).verdict is Verdict.VALID
