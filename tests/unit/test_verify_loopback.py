"""The registry check against real sockets on loopback: what a scripted transport cannot show.

A proxy that must not be used, a registry that answers one byte at a time, and one that
answers with a body far larger than anything a check needs: each is a small TCP server on
127.0.0.1 that records what reached it.
"""

from __future__ import annotations

import base64
import contextlib
import socket
import socketserver
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import pytest

from nodion_pulumi._verify import (
    VERIFY_READ_LIMIT,
    Verdict,
    new_verifier_client,
    verify_credentials,
)

USER = "nodion-fra-user"
PASSWORD = "pw-8f2c61d0e4b7a395"
BASIC = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()


@dataclass(frozen=True)
class Request:
    line: str
    headers: dict[str, str]


Script = Callable[[Request, socket.socket], None]


@dataclass
class Server:
    """A loopback TCP server that reads one request head per connection and lets
    ``script`` write whatever it likes back."""

    script: Script
    requests: list[Request] = field(default_factory=list)
    connections: int = 0

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> Server:
        owner = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                owner.connections += 1
                head = b""
                while b"\r\n\r\n" not in head:
                    chunk = self.request.recv(4096)
                    if not chunk:
                        return
                    head += chunk
                line, *lines = head.split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n")
                headers = {}
                for item in lines:
                    name, _, value = item.partition(":")
                    headers[name.strip().lower()] = value.strip()
                request = Request(line, headers)
                owner.requests.append(request)
                # The client going away is what several tests want.
                with contextlib.suppress(OSError):
                    owner.script(request, self.request)

        server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        server.block_on_close = False
        self._server = server
        threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture
def serve() -> Iterator[Callable[[Script], Server]]:
    servers: list[Server] = []

    def start(script: Script) -> Server:
        servers.append(Server(script).start())
        return servers[-1]

    yield start
    for server in servers:
        server.stop()


def answer(status: int, headers: dict[str, str] | None = None, body: bytes = b"") -> bytes:
    lines = [f"HTTP/1.1 {status} X", f"Content-Length: {len(body)}", "Connection: close"]
    lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def basic_registry(request: Request, conn: socket.socket) -> None:
    """``/v2/`` with a Basic challenge, accepting exactly USER and PASSWORD."""
    if request.headers.get("authorization") == BASIC:
        conn.sendall(answer(200, body=b"{}"))
    else:
        conn.sendall(answer(401, {"WWW-Authenticate": 'Basic realm="r"'}))


def proxy(request: Request, conn: socket.socket) -> None:
    conn.sendall(answer(200, body=b"{}"))  # would make any check it relays "valid"


@pytest.mark.parametrize("pooled", [False, True])
def test_plain_http_to_a_loopback_registry_never_goes_through_a_proxy(
    serve: Callable[[Script], Server], monkeypatch: pytest.MonkeyPatch, pooled: bool
) -> None:
    registry, relay = serve(basic_registry), serve(proxy)
    for name in ("HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.setenv(name, f"http://{relay.address}")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)

    if pooled:  # the client a provider process pools is no way around it
        with new_verifier_client(2.0) as client:
            result = verify_credentials(registry.address, USER, PASSWORD, client=client)
    else:
        result = verify_credentials(registry.address, USER, PASSWORD, timeout=2.0)

    assert result.verdict is Verdict.VALID
    assert relay.connections == 0, "the password reached a proxy in clear"
    assert [r.headers.get("authorization") for r in registry.requests] == [None, BASIC]


def test_a_registry_answering_a_byte_at_a_time_is_cut_off_by_the_deadline(
    serve: Callable[[Script], Server],
) -> None:
    # Every byte arrives well within the read timeout, so only a deadline on the whole
    # check ends it. Unbounded, this answer would take about 20 s and then prove the
    # credentials valid.
    cut_off = threading.Event()

    def drip(request: Request, conn: socket.socket) -> None:
        if request.headers.get("authorization") == BASIC:
            conn.sendall(answer(200))
            return
        for byte in answer(401, {"WWW-Authenticate": 'Basic realm="r"', "X-Pad": "x" * 200}):
            try:
                conn.sendall(bytes([byte]))
            except OSError:
                cut_off.set()
                raise
            if cut_off.wait(0.1):  # paces the drip; set once the client has gone away
                return

    registry = serve(drip)
    result = verify_credentials(registry.address, USER, PASSWORD, timeout=2.0, deadline=0.5)

    assert result.verdict is Verdict.UNKNOWN
    assert "within the check's deadline of 0.5 s" in result.reason
    assert [r.headers.get("authorization") for r in registry.requests] == [None]
    assert cut_off.wait(10), "the registry went on sending after the check ended"


def test_a_huge_answer_body_is_never_read(serve: Callable[[Script], Server]) -> None:
    size = 64 * 1024 * 1024
    sent = [0]
    done = threading.Event()

    def flood(request: Request, conn: socket.socket) -> None:
        if request.headers.get("authorization") != BASIC:
            conn.sendall(answer(401, {"WWW-Authenticate": 'Basic realm="r"'}))
            return
        try:
            conn.sendall(f"HTTP/1.1 200 OK\r\nContent-Length: {size}\r\n\r\n".encode())
            chunk = b"x" * 65536
            while sent[0] < size:
                conn.sendall(chunk)
                sent[0] += len(chunk)
        finally:
            done.set()

    registry = serve(flood)
    result = verify_credentials(registry.address, USER, PASSWORD, timeout=2.0)

    assert result.verdict is Verdict.VALID
    assert done.wait(10)
    # What the kernel's socket buffers took before the check closed the connection, far
    # from the whole body that a check reading it would have taken.
    assert sent[0] < size // 2


def test_the_deadline_also_ends_a_proxy_that_answers_a_byte_at_a_time(
    serve: Callable[[Script], Server], monkeypatch: pytest.MonkeyPatch
) -> None:
    # An https registry is reached through HTTPS_PROXY; the proxy's connection is the
    # check's too, and the deadline ends it the same way.
    cut_off = threading.Event()

    def drip(request: Request, conn: socket.socket) -> None:
        for byte in b"HTTP/1.1 200 Connection established\r\nX-Pad: " + b"x" * 200:
            try:
                conn.sendall(bytes([byte]))
            except OSError:
                cut_off.set()
                raise
            if cut_off.wait(0.1):
                return

    relay = serve(drip)
    monkeypatch.setenv("HTTPS_PROXY", f"http://{relay.address}")
    for name in ("https_proxy", "ALL_PROXY", "all_proxy", "NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)

    with new_verifier_client(2.0) as client:
        result = verify_credentials(
            "registry.example.com", USER, PASSWORD, client=client, timeout=2.0, deadline=0.5
        )

    assert result.verdict is Verdict.UNKNOWN
    assert "within the check's deadline of 0.5 s" in result.reason
    assert [r.line for r in relay.requests] == ["CONNECT registry.example.com:443 HTTP/1.1"]
    assert cut_off.wait(10), "the proxy went on sending after the check ended"


def test_a_check_reads_at_most_a_few_kib_of_an_answer(serve: Callable[[Script], Server]) -> None:
    # Headers are read whole before a status is known; a registry may make them as large as
    # the HTTP parser allows (100 KiB), which a check has no use for.
    def bloated(request: Request, conn: socket.socket) -> None:
        conn.sendall(answer(401, {"WWW-Authenticate": 'Basic realm="r"', "X-Pad": "x" * 60_000}))

    registry = serve(bloated)
    result = verify_credentials(registry.address, USER, PASSWORD, timeout=2.0)

    assert result.verdict is Verdict.UNKNOWN
    assert f"more than {VERIFY_READ_LIMIT // 1024} KiB" in result.reason
    assert [r.headers.get("authorization") for r in registry.requests] == [None]


def test_a_large_challenge_body_does_not_use_up_the_login_s_share(
    serve: Callable[[Script], Server],
) -> None:
    def page(request: Request, conn: socket.socket) -> None:
        if request.headers.get("authorization") == BASIC:
            conn.sendall(answer(200, body=b"{}"))
        else:
            body = b"<html>" + b"x" * (1024 * 1024) + b"</html>"
            conn.sendall(answer(401, {"WWW-Authenticate": 'Basic realm="r"'}, body))

    registry = serve(page)
    assert verify_credentials(registry.address, USER, PASSWORD, timeout=2.0).verdict is (
        Verdict.VALID
    )
