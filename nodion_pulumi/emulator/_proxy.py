"""An HTTPS proxy on loopback that leads to the emulated registries and nowhere else.

Clients reach Nodion's registries by name (`registry.<slug>.nodion.net`); pointing their standard
`HTTPS_PROXY` here makes those names resolve to the emulator without touching DNS or
`/etc/hosts`. A `CONNECT` to a served hostname is answered `200 Connection Established`, TLS
is terminated with a certificate from the emulator's test CA (trusted through `SSL_CERT_FILE`),
and HTTP/1.1 inside the tunnel goes to `RegistryRealm`. Anything else is refused with a line
that says what this proxy is for, so a misdirected client fails loudly instead of hanging.
"""

from __future__ import annotations

import ssl
from contextlib import suppress
from http.server import BaseHTTPRequestHandler
from typing import Any

from nodion_pulumi.emulator._http import Reply, write_reply
from nodion_pulumi.emulator._registry import RegistryRealm
from nodion_pulumi.emulator._serving import LoopbackServer, QuietHandler, TrackedHandler

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
    """The proxy side: CONNECT to a served registry, nothing else."""

    server_version = SERVER_VERSION
    timeout = 60
    server: RegistryProxy

    def do_CONNECT(self) -> None:
        self.close_connection = True
        host, _, port = self.path.rpartition(":")
        host = host.strip("[]").rstrip(".").lower()
        if port != "443" or not self.server.realm.serves(host):
            served = ", ".join(f"{h}:443" for h in self.server.realm.hostnames())
            _send_text(
                self,
                403,
                f"the nodion-pulumi emulator's proxy reaches only its registries ({served}); "
                f"refusing CONNECT {self.path}",
            )
            return
        self.send_response(200, "Connection Established")
        self.end_headers()
        self._tunnel(host)

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
