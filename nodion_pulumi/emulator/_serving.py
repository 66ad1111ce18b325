"""What the API server and the registry proxy share as loopback HTTP servers.

Both serve many short-lived client threads, keep quiet unless asked to be verbose, and must be
able to end every open connection at stop: a pooled keep-alive connection (or a tunnel) would
otherwise keep a thread serving after the store behind it is closed.
"""

from __future__ import annotations

import socket
import threading
from contextlib import suppress
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class LoopbackServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    # The stdlib default backlog of 5 drops SYNs under a burst of parallel clients, which
    # then stall for a second in TCP retransmission: a benchmark would measure that, not us.
    request_queue_size = 128

    def __init__(
        self,
        address: tuple[str, int],
        handler: type[BaseHTTPRequestHandler],
        *,
        ipv6: bool = False,
    ) -> None:
        if ipv6:
            self.address_family = socket.AF_INET6
        self.verbose = False
        # A Condition, so that a subclass can also wait on what the lock guards.
        self._lock = threading.Condition()
        self._live: set[socket.socket] = set()
        super().__init__(address, handler)

    def track(self, conn: socket.socket) -> None:
        with self._lock:
            self._live.add(conn)

    def untrack(self, conn: socket.socket) -> None:
        with self._lock:
            self._live.discard(conn)

    def close_connections(self) -> None:
        with self._lock:
            live = list(self._live)
        for conn in live:
            with suppress(OSError):
                # The plain socket method: on a TLS socket, SSLSocket.shutdown would tear down
                # TLS state that the connection's own thread may be using right now.
                socket.socket.shutdown(conn, socket.SHUT_RDWR)

    def handle_error(self, request: Any, client_address: Any) -> None:
        if self.verbose:
            super().handle_error(request, client_address)


class QuietHandler(BaseHTTPRequestHandler):
    """HTTP/1.1 keep-alive, replies without Nagle's delay, no stderr line unless verbose."""

    protocol_version = "HTTP/1.1"
    sys_version = ""
    # Headers and body go out in two writes; without NODELAY Nagle adds ~40 ms per reply.
    disable_nagle_algorithm = True
    server: LoopbackServer

    def log_message(self, format: str, *args: Any) -> None:
        if self.server.verbose:
            super().log_message(format, *args)


class TrackedHandler(QuietHandler):
    """A handler whose connection `LoopbackServer.close_connections` can end."""

    def setup(self) -> None:
        super().setup()
        self.server.track(self.connection)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.untrack(self.connection)
