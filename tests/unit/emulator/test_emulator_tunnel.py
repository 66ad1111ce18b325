"""The registry proxy relays a `CONNECT` to any other host as a plain tunnel.

Every upstream here is a server of the test's own on 127.0.0.1: nothing leaves the machine.
"""

from __future__ import annotations

import socket
import socketserver
import ssl
import threading
import time
from collections.abc import Iterator
from contextlib import suppress
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
import trustme

from nodion_pulumi.emulator import Emulator
from nodion_pulumi.emulator._tls import _system_ca_file
from nodion_pulumi.emulator._tunnel import from_this_machine, relay


class _EchoHandler(socketserver.BaseRequestHandler):
    server: _EchoServer

    def handle(self) -> None:
        self.server.connected.set()
        while data := self.request.recv(4096):
            self.request.sendall(b"echo:" + data)
        self.server.closed.set()


class _EchoServer(socketserver.ThreadingTCPServer):
    """A plain TCP upstream that answers every chunk and notes when its peer goes away."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self) -> None:
        self.connected = threading.Event()
        self.closed = threading.Event()
        super().__init__(("127.0.0.1", 0), _EchoHandler)

    @property
    def port(self) -> int:
        return int(self.server_address[1])


@pytest.fixture
def echo() -> Iterator[_EchoServer]:
    server = _EchoServer()
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02})
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join(5)


@pytest.fixture
def proxied() -> Iterator[Emulator]:
    with Emulator(serve_registries=True) as emulator:
        yield emulator


def _proxy_address(emulator: Emulator) -> tuple[str, int]:
    parts = urlsplit(emulator.registry_proxy_url)
    assert parts.hostname is not None
    assert parts.port is not None
    return parts.hostname, parts.port


def _connect(
    emulator: Emulator, target: str, after_head: bytes = b""
) -> tuple[socket.socket, bytes]:
    """A socket that sent `CONNECT target` (and `after_head` right behind it), with the head
    of the proxy's answer read byte by byte so nothing of the tunnel is consumed."""
    sock = socket.create_connection(_proxy_address(emulator), timeout=10)
    sock.sendall(f"CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n\r\n".encode() + after_head)
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = sock.recv(1)
        assert chunk, head
        head += chunk
    return sock, head


def _recv_exactly(sock: socket.socket, size: int) -> bytes:
    received = b""
    while len(received) < size:
        chunk = sock.recv(size - len(received))
        assert chunk, received
        received += chunk
    return received


def _free_port() -> int:
    """A loopback port nobody listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_connect_to_another_host_is_a_plain_tunnel(proxied: Emulator, echo: _EchoServer) -> None:
    sock, head = _connect(proxied, f"127.0.0.1:{echo.port}")
    with sock:
        assert head.startswith(b"HTTP/1.1 200 Connection Established\r\n"), head
        for message in (b"ping", b"x" * 200_000):
            sock.sendall(message)
            answer = b""
            while len(answer.replace(b"echo:", b"")) < len(message):
                chunk = sock.recv(65536)
                assert chunk, answer
                answer += chunk
            assert answer.startswith(b"echo:")
            assert answer.replace(b"echo:", b"") == message
    assert echo.closed.wait(5)  # the client closing ends the upstream side too


def test_bytes_sent_right_behind_the_connect_head_reach_the_upstream(
    proxied: Emulator, echo: _EchoServer
) -> None:
    sock, head = _connect(proxied, f"127.0.0.1:{echo.port}", after_head=b"early")
    with sock:
        assert head.startswith(b"HTTP/1.1 200 "), head
        assert _recv_exactly(sock, len(b"echo:early")) == b"echo:early"


def test_https_through_the_tunnel_verifies_against_the_upstream_itself(
    proxied: Emulator, tmp_path: Any
) -> None:
    """httpx as any https client in the exported shell: TLS goes end to end, the proxy only
    carries it, so the upstream's own certificate is what the client sees."""
    ca = trustme.CA()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(context)

    class Hello(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = b"hello from the upstream\n"
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    upstream = HTTPServer(("127.0.0.1", 0), Hello)
    upstream.socket = context.wrap_socket(upstream.socket, server_side=True)
    thread = threading.Thread(target=upstream.serve_forever, kwargs={"poll_interval": 0.02})
    thread.start()
    try:
        trusting = ssl.create_default_context()
        ca.configure_trust(trusting)
        url = f"https://127.0.0.1:{upstream.server_address[1]}/"
        with httpx.Client(
            proxy=proxied.registry_proxy_url, verify=trusting, trust_env=False, timeout=10
        ) as client:
            response = client.get(url)
        assert response.status_code == 200
        assert response.text == "hello from the upstream\n"
        # The test CA of the emulator is not what signed this: only the upstream's CA verifies.
        with (
            httpx.Client(
                proxy=proxied.registry_proxy_url,
                verify=ssl.create_default_context(cafile=str(proxied.ca_cert_path)),
                trust_env=False,
                timeout=10,
            ) as client,
            pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"),
        ):
            client.get(url)
    finally:
        upstream.shutdown()
        upstream.server_close()
        thread.join(5)


def test_connect_to_a_closed_port_is_a_502_with_the_reason(proxied: Emulator) -> None:
    target = f"127.0.0.1:{_free_port()}"
    sock, head = _connect(proxied, target)
    with sock:
        assert head.startswith(b"HTTP/1.1 502 "), head
        assert b"\r\nConnection: close\r\n" in head
        body = b""
        while chunk := sock.recv(4096):
            body += chunk
    assert body.decode() == (
        f"the nodion-pulumi emulator's proxy cannot reach {target}: connection refused\n"
    )


def test_stop_ends_an_open_tunnel_on_both_sides(echo: _EchoServer) -> None:
    emulator = Emulator(serve_registries=True).start()
    try:
        sock, head = _connect(emulator, f"127.0.0.1:{echo.port}")
        assert head.startswith(b"HTTP/1.1 200 "), head
        sock.sendall(b"open")
        assert _recv_exactly(sock, len(b"echo:open")) == b"echo:open"
        started = time.monotonic()
    finally:
        emulator.stop()
    with sock:
        assert time.monotonic() - started < 2.0
        sock.settimeout(5)
        with suppress(ConnectionResetError):  # as ended as an EOF
            assert sock.recv(4096) == b""
    assert echo.closed.wait(5)  # the upstream connection was closed too, not left open


def test_an_upstream_that_closes_ends_the_tunnel_after_its_last_bytes(proxied: Emulator) -> None:
    with socket.create_server(("127.0.0.1", 0)) as listener:

        def answer_and_close() -> None:
            conn, _ = listener.accept()
            with conn:
                conn.sendall(b"bye\n")

        thread = threading.Thread(target=answer_and_close)
        thread.start()
        sock, head = _connect(proxied, f"127.0.0.1:{listener.getsockname()[1]}")
        thread.join(5)
    with sock:
        assert head.startswith(b"HTTP/1.1 200 "), head
        received = b""
        while chunk := sock.recv(4096):
            received += chunk
    assert received == b"bye\n"


def test_relay_gives_up_on_a_tunnel_silent_both_ways() -> None:
    client, client_peer = socket.socketpair()
    upstream, upstream_peer = socket.socketpair()
    try:
        started = time.monotonic()
        relay(client, upstream, idle_seconds=0.2)
        assert 0.15 < time.monotonic() - started < 2.0
    finally:
        for sock in (client, client_peer, upstream, upstream_peer):
            sock.close()


@pytest.mark.parametrize(
    ("address", "relayed"),
    [
        ("127.0.0.1", True),
        ("127.5.6.7", True),
        ("::1", True),
        ("::ffff:127.0.0.1", True),
        ("192.0.2.10", False),
        ("2001:db8::1", False),
        ("::ffff:192.0.2.10", False),
        ("not an address", False),
        ("localhost", False),  # a peer is an address, never a name
        ("::1%lo", True),
    ],
)
def test_only_clients_on_this_machine_are_relayed(address: str, relayed: bool) -> None:
    """So an emulator bound elsewhere with --allow-remote is no open proxy for its network."""
    assert from_this_machine(address) is relayed


def test_ssl_cert_file_trusts_the_test_ca_and_the_system_cas(proxied: Emulator) -> None:
    env = proxied.registry_environment()
    bundle = proxied.trust_bundle_path
    assert env["SSL_CERT_FILE"] == str(bundle)
    text = bundle.read_text()
    assert text.startswith(proxied.ca_cert_path.read_text())
    system = _system_ca_file()
    assert system is not None
    assert system.read_text(errors="replace").strip() in text
    stats = ssl.create_default_context(cafile=str(bundle)).cert_store_stats()
    assert stats["x509_ca"] > 1
    assert "PRIVATE KEY" not in text
