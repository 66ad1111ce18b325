"""An HTTPS proxy on loopback that leads to the emulated registries, and elsewhere unchanged.

Clients reach Nodion's registries by name (`registry.<slug>.nodion.net`); pointing their standard
`HTTPS_PROXY` here makes those names resolve to the emulator without touching DNS or
`/etc/hosts`. A `CONNECT` to a served hostname is answered `200 Connection Established`, TLS
is terminated with a certificate from the emulator's test CA (trusted through `SSL_CERT_FILE`),
and HTTP/1.1 inside the tunnel goes to `RegistryRealm`.

A `CONNECT` to any other host is relayed as a plain tunnel (`_tunnel`), because the exported
`HTTPS_PROXY` reaches every https client of that shell. The one exception is a Nodion registry
hostname this emulator does not serve (another region, another port): relaying it to the real
Nodion would mix real and emulated registries, so it is refused with a line naming the served
ones, and the misdirected client fails loudly instead.
"""

from __future__ import annotations

import socket
import ssl
from contextlib import suppress
from http.server import BaseHTTPRequestHandler
from typing import Any

from nodion_pulumi._facts import region_slug_of
from nodion_pulumi.emulator._http import Reply, write_reply
from nodion_pulumi.emulator._registry import RegistryRealm
from nodion_pulumi.emulator._serving import LoopbackServer, QuietHandler, TrackedHandler
from nodion_pulumi.emulator._tunnel import failure_reason, from_this_machine, open_upstream, relay

MAX_BODY = 1024 * 1024
SERVER_VERSION = "nodion-emulator-registry"
_HANDSHAKE_SECONDS = 10.0
_TEXT = "text/plain; charset=utf-8"


class RegistryProxy(LoopbackServer):
    """Tunnels are tracked like the API server's connections, so that stop() ends them
    instead of leaving a thread serving a client that keeps its connection open."""

    def __init__(
        self,
        address: tuple[str, int],
        realm: RegistryRealm,
        context: ssl.SSLContext,
        *,
        ipv6: bool = False,
    ) -> None:
        self.realm = realm
        self.context = context
        super().__init__(address, _ConnectHandler, ipv6=ipv6)

    @property
    def url(self) -> str:
        host, port = str(self.server_address[0]), int(self.server_address[1])
        shown = f"[{host}]" if ":" in host else host
        return f"http://{shown}:{port}"


def _send_text(
    handler: BaseHTTPRequestHandler, status: int, text: str, *headers: tuple[str, str]
) -> None:
    raw = f"{text}\n".encode()
    write_reply(handler, Reply(status, raw=raw, content_type=_TEXT, headers=headers))


class _ConnectHandler(TrackedHandler):
    """The proxy side: CONNECT to a served registry, or a plain tunnel to anywhere else."""

    server_version = SERVER_VERSION
    timeout = 60
    # Unbuffered: a client may send its first bytes (a TLS ClientHello) right behind the
    # CONNECT head, and a read-ahead buffer would swallow them before the tunnel starts.
    rbufsize = 0
    server: RegistryProxy

    def do_CONNECT(self) -> None:
        self.close_connection = True
        host, _, port = self.path.rpartition(":")
        host = host.strip("[]").rstrip(".").lower()
        if port == "443" and self.server.realm.serves(host):
            self._established()
            self._tunnel(host)
        elif region_slug_of(host) is not None:
            served = ", ".join(f"{h}:443" for h in self.server.realm.hostnames())
            _send_text(
                self,
                403,
                f"the nodion-pulumi emulator's proxy serves only its registries ({served}); "
                f"refusing CONNECT {self.path} rather than sending it to the real Nodion",
            )
        elif not host or not port.isdigit() or not 0 < int(port) < 65536:
            _send_text(self, 400, f"CONNECT needs host:port, got {self.path!r}")
        elif not from_this_machine(str(self.client_address[0])):
            _send_text(
                self,
                403,
                "the nodion-pulumi emulator's proxy relays other hosts only for clients on "
                f"this machine; refusing CONNECT {self.path}",
            )
        else:
            self._relay(host, int(port))

    def _established(self) -> None:
        self.send_response(200, "Connection Established")
        self.end_headers()

    def _relay(self, host: str, port: int) -> None:
        """A plain TCP tunnel to a host the emulator does not serve, ended by stop() too."""
        try:
            upstream = open_upstream(host, port, send_timeout=self.timeout)
        except OSError as exc:
            _send_text(
                self,
                502,
                f"the nodion-pulumi emulator's proxy cannot reach {self.path}: "
                f"{failure_reason(exc)}",
            )
            return
        self.server.track(upstream)
        try:
            self._established()
            relay(self.connection, upstream)
        finally:
            self.server.untrack(upstream)
            with suppress(OSError):
                upstream.shutdown(socket.SHUT_RDWR)
            upstream.close()

    def _tunnel(self, host: str) -> None:
        raw = self.connection
        raw.settimeout(_HANDSHAKE_SECONDS)
        try:
            tls = self.server.context.wrap_socket(raw, server_side=True)
        except (OSError, ssl.SSLError):
            return  # the client gave up or does not trust the CA; it has its own error
        self.server.untrack(raw)
        self.server.track(tls)
        try:
            _RegistryHandler(tls, self.client_address, self.server, host)
        except OSError:
            pass  # the client went away mid-request, or stop() ended the tunnel
        finally:
            self.server.untrack(tls)
            with suppress(OSError):
                tls.close()

    def do_GET(self) -> None:
        self.close_connection = True
        _send_text(
            self,
            405,
            f"this is the nodion-pulumi emulator's HTTPS proxy for its registries; use it as "
            f"HTTPS_PROXY={self.server.url} with https:// URLs (it serves CONNECT only)",
            ("Allow", "CONNECT"),
        )

    do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = do_GET


class _RegistryHandler(QuietHandler):
    """HTTP/1.1 inside one tunnel, for the registry whose hostname was CONNECTed to. The
    tunnel, not this handler, tracks the TLS connection."""

    server_version = SERVER_VERSION
    timeout = 60
    server: RegistryProxy

    def __init__(
        self, request: ssl.SSLSocket, client_address: Any, server: RegistryProxy, host: str
    ) -> None:
        self.registry_host = host
        super().__init__(request, client_address, server)

    def do_GET(self) -> None:
        if not self._drain_body():
            self.close_connection = True
        reply = self.server.realm.handle(
            self.registry_host, self.command.upper(), self.path, self.headers.get("Authorization")
        )
        write_reply(self, reply)

    do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = do_GET

    def _drain_body(self) -> bool:
        """Read a small body so the connection stays usable; False when it cannot be."""
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            return False
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            return False
        if not 0 <= length <= MAX_BODY:
            return False
        if length:
            self.rfile.read(length)
        return True
