"""Who may use `/_emulator/`: the token holder, through a loopback name, sending JSON.

A browser on this machine can reach a loopback port too: a page could post a form there
(cross-site request forgery) or rebind its own name to 127.0.0.1 (DNS rebinding). The token
keeps the first out, the `Host` check the second, and JSON only forces a browser's preflight.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import httpx
import pytest

from nodion_pulumi.emulator import Emulator, EmulatorAdmin, EmulatorAdminError

TOKEN = "test-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
JSON = {**AUTH, "Content-Type": "application/json"}
README = Path(__file__).resolve().parents[3] / "README.md"


def _admin_url(emulator: Emulator, path: str) -> str:
    return f"{emulator.root_url}/_emulator{path}"


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/state", None),
        ("GET", "/requests", None),
        ("GET", "/health", None),
        ("POST", "/faults", b'{"kind": "reset_before"}'),
        ("DELETE", "/requests", b"{}"),
    ],
)
@pytest.mark.parametrize(
    "authorization", [None, "Bearer wrong-token", "Basic dGVzdC10b2tlbjo=", "Bearer"]
)
def test_every_admin_call_needs_the_token(
    emulator: Emulator,
    anon: httpx.Client,
    method: str,
    path: str,
    body: bytes | None,
    authorization: str | None,
) -> None:
    headers = {"Content-Type": "application/json"}
    if authorization is not None:
        headers["Authorization"] = authorization
    refused = anon.request(method, _admin_url(emulator, path), content=body, headers=headers)
    assert refused.status_code == 401
    assert "token" in refused.json()["errors"][0]
    assert TOKEN not in refused.text
    assert emulator.admin.faults() == []


def test_an_emulator_that_accepts_any_token_still_wants_one(anon: httpx.Client) -> None:
    with Emulator() as em:
        assert anon.get(_admin_url(em, "/state")).status_code == 401
        any_bearer = anon.get(_admin_url(em, "/state"), headers={"Authorization": "Bearer x"})
        assert any_bearer.status_code == 200
        assert em.admin.health() is True


@pytest.mark.parametrize(
    "host",
    [
        "evil.example",
        "evil.example:{port}",
        "127.0.0.1.nip.io:{port}",
        "localhost.evil.example",
        "sub.localhost:{port}",
        "0.0.0.0:{port}",
        "[::ffff:127.0.0.1]:{port}",
        "localhost:{port}@evil.example",
        "localhost:http",
        "",
    ],
)
def test_a_foreign_host_header_is_refused(
    emulator: Emulator, anon: httpx.Client, host: str
) -> None:
    """What DNS rebinding looks like: the right address, reached through someone's name."""
    headers = {**JSON, "Host": host.format(port=emulator.port)}
    refused = anon.post(
        _admin_url(emulator, "/faults"), content=b'{"kind": "reset_before"}', headers=headers
    )
    assert refused.status_code == 421
    assert "Host" in refused.json()["errors"][0]
    read = anon.get(_admin_url(emulator, "/state"), headers=headers)
    assert read.status_code == 421
    assert emulator.admin.faults() == []


@pytest.mark.parametrize(
    "host",
    [
        "127.0.0.1",
        "127.0.0.1:{port}",
        "127.0.0.2:{port}",
        "localhost",
        "LocalHost:{port}",
        "[::1]:{port}",
    ],
)
def test_loopback_host_headers_are_accepted(
    emulator: Emulator, anon: httpx.Client, host: str
) -> None:
    headers = {**AUTH, "Host": host.format(port=emulator.port)}
    assert anon.get(_admin_url(emulator, "/health"), headers=headers).json() == {"ok": True}


def test_the_api_itself_does_not_check_the_host(emulator: Emulator, anon: httpx.Client) -> None:
    """`/v1` is reached through whatever name a user configured (a tunnel, a container name)."""
    headers = {**AUTH, "Host": "emulator.internal:8181"}
    assert anon.get(f"{emulator.url}/container_registries", headers=headers).status_code == 200


@pytest.mark.parametrize(
    "content_type",
    [None, "text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"],
)
@pytest.mark.parametrize(
    ("method", "path"),
    [("POST", "/faults"), ("DELETE", "/faults"), ("PATCH", "/registries/{id}")],
)
def test_changes_need_a_json_body(
    emulator: Emulator,
    anon: httpx.Client,
    content_type: str | None,
    method: str,
    path: str,
) -> None:
    """A form post is what a page can send without asking the browser first: refused."""
    fault = emulator.admin.add_fault("reset_before", path="/never")
    fra = emulator.nodion_registry_id("fra")
    headers = dict(AUTH)
    if content_type is not None:
        headers["Content-Type"] = content_type
    refused = anon.request(
        method,
        _admin_url(emulator, path.format(id=fra)),
        content=b'{"kind": "reset_before", "name": "x"}',
        headers=headers,
    )
    assert refused.status_code == 415
    assert "application/json" in refused.json()["errors"][0]
    assert [f["id"] for f in emulator.admin.faults()] == [fault]


def test_a_change_with_an_empty_body_is_refused(emulator: Emulator, anon: httpx.Client) -> None:
    fra = emulator.nodion_registry_id("fra")
    url = _admin_url(emulator, f"/registries/{fra}/drop_credentials")
    refused = anon.post(url, headers=JSON)
    assert refused.status_code == 400
    assert "{}" in refused.json()["errors"][0]
    accepted = anon.post(
        url, headers={**AUTH, "Content-Type": "application/json; charset=utf-8"}, content=b"{}"
    )
    assert accepted.status_code == 200


def test_the_admin_client_sends_what_the_endpoints_require(anon: httpx.Client) -> None:
    with Emulator(token=TOKEN) as em:
        admin = em.admin
        admin.add_fault("latency", seconds=0.01)
        admin.clear_faults()
        admin.clear_requests()
        admin.drop_credentials(em.nodion_registry_id("fra"))
        assert admin.faults() == []
        # A client that is not given the token is refused, with the reason.
        with EmulatorAdmin(em.root_url) as stranger:
            with pytest.raises(EmulatorAdminError, match="token") as caught:
                stranger.registries()
            assert caught.value.status == 401
            assert stranger.health() is False
        with EmulatorAdmin(em.url, token=TOKEN) as holder:
            assert len(holder.registries()) == 4


def _readme_admin_block() -> str:
    text = README.read_text(encoding="utf-8")
    blocks: list[str] = re.findall(r"```sh\n(.*?)```", text, re.DOTALL)
    (block,) = [b for b in blocks if "/_emulator/" in b]
    return block


def test_readme_out_of_band_commands_work_as_typed(tmp_path: Path) -> None:
    block = _readme_admin_block()
    with Emulator(token=TOKEN) as em:
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(tmp_path),
            "NODION_API_URL": em.url,
            "NODION_API_TOKEN": TOKEN,
        }
        fra = em.nodion_registry_id("fra")
        assert _mint_fra_credentials(em) == 201
        done = subprocess.run(
            ["bash", "-c", block], env=env, capture_output=True, text=True, timeout=60, check=True
        )
        assert fra in done.stdout  # the listing, then the answers
        assert '"has_credentials": false' in done.stdout
        assert "Nodion registries cannot be deleted" in done.stdout
        (row,) = [r for r in em.admin.registries() if r["id"] == fra]
        assert row["has_credentials"] is False
        # The same commands without the token change nothing.
        assert _mint_fra_credentials(em) == 201
        with_token = '-H "Authorization: Bearer $NODION_API_TOKEN" -H'
        assert block.count(with_token) == 3
        bare = block.replace(with_token, "-H")
        refused = subprocess.run(
            ["bash", "-c", bare], env=env, capture_output=True, text=True, timeout=60, check=True
        )
        assert refused.stdout.count("needs the emulator's token") == 3
        (row,) = [r for r in em.admin.registries() if r["id"] == fra]
        assert row["has_credentials"] is True


def _mint_fra_credentials(emulator: Emulator) -> int:
    """Through the API, so that dropping them out of band has something to drop."""
    response = httpx.post(
        f"{emulator.url}/container_registries/{emulator.nodion_registry_id('fra')}/credentials",
        headers=AUTH,
        trust_env=False,
    )
    return response.status_code
