"""HTTP/1.1 front end: body reading, auth, fault injection, request logging and resets.

Replies are logged before they are written so a client that has just seen a response (or a
reset) can read the log and find its own request there without racing the server.
"""

from __future__ import annotations

import socket
import struct
import time
from collections.abc import Iterator
from contextlib import contextmanager
from email.message import Message
from typing import Any
from urllib.parse import urlsplit

from nodion_pulumi.emulator._admin_guard import bearer_accepted, refuse_admin_call
from nodion_pulumi.emulator._api import RegistryApi
from nodion_pulumi.emulator._control import ControlApi
from nodion_pulumi.emulator._faults import FaultSet, Firing, status_fault_reply
from nodion_pulumi.emulator._http import Reply, Request, parse_body, status_reply, write_reply
from nodion_pulumi.emulator._log import RequestLog
from nodion_pulumi.emulator._routes import Bound, Route, resolve
from nodion_pulumi.emulator._serving import LoopbackServer, TrackedHandler

MAX_BODY = 1024 * 1024
_NO_FIRING = Firing()


class App:
    """What the emulator does with a request, minus the socket."""

    def __init__(
        self,
        api: RegistryApi,
        control: ControlApi,
        faults: FaultSet,
        log: RequestLog,
        token: str | None,
        project_id: str,
    ) -> None:
        self.faults = faults
        self.log = log
        self._api_routes: list[Route] = api.routes()
        self._control_routes: list[Route] = control.routes()
        self._token = token
        self._project_id = project_id

    def handle_api(self, request: Request, authorization: str | None, project: str | None) -> Reply:
        target = resolve(self._api_routes, request.method, request.path)
        if isinstance(target, Reply):
            return target
        if not bearer_accepted(authorization, self._token):
            return status_reply(401)
        if project is not None and project.strip().lower() != self._project_id.lower():
            return status_reply(403)
        return _guarded(target, request)

    def handle_control(self, request: Request, headers: Message, raw_body: bytes) -> Reply:
        hosts = headers.get_all("Host") or []
        refused = refuse_admin_call(
            method=request.method,
            host=hosts[0] if len(hosts) == 1 else None,
            authorization=headers.get("Authorization"),
            content_type=headers.get("Content-Type"),
            raw_body=raw_body,
            token=self._token,
        )
        if refused is not None:
            return refused
        target = resolve(self._control_routes, request.method, request.path)
        return target if isinstance(target, Reply) else _guarded(target, request)


def _guarded(target: Bound, request: Request) -> Reply:
    try:
        return target(request)
    except Exception:
        # A bug or a store closed during shutdown must not kill the connection silently.
        return status_reply(500)


class EmulatorServer(LoopbackServer):
    def __init__(self, address: tuple[str, int], app: App, *, ipv6: bool = False) -> None:
        self.app = app
        self._abort: set[socket.socket] = set()
        self._busy = 0
        super().__init__(address, _Handler, ipv6=ipv6)

    def abort_on_close(self, conn: socket.socket) -> None:
        with self._lock:
            self._abort.add(conn)

    @contextmanager
    def busy(self) -> Iterator[None]:
        with self._lock:
            self._busy += 1
        try:
            yield
        finally:
            with self._lock:
                self._busy -= 1
                self._lock.notify_all()

    def wait_idle(self, timeout: float) -> None:
        with self._lock:
            self._lock.wait_for(lambda: self._busy == 0, timeout)

    def shutdown_request(self, request: Any) -> None:
        with self._lock:
            abort = request in self._abort
            self._abort.discard(request)
        if abort:
            # No shutdown(SHUT_WR) first: that would send a FIN, and the point is an RST.
            request.close()
        else:
            super().shutdown_request(request)


class _Handler(TrackedHandler):
    server_version = "nodion-emulator"
    timeout = 300
    server: EmulatorServer

    def do_GET(self) -> None:
        self._dispatch()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = do_GET

    def _dispatch(self) -> None:
        with self.server.busy():
            self._serve()

    def _serve(self) -> None:
        started = time.perf_counter()
        method = self.command.upper()
        path = urlsplit(self.path).path or "/"
        raw, problem = self._read_body()
        if path == "/_emulator" or path.startswith("/_emulator/"):
            if problem is not None:
                self._send(problem)
                return
            body, body_error = parse_body(raw)
            request = Request(method, path, body, body_error)
            self._send(self.server.app.handle_control(request, self.headers, raw))
            return

        app = self.server.app
        project = self.headers.get("X-Nodion-Project")
        body, body_error = parse_body(raw) if problem is None else (None, None)

        def record(status: int | None, fault: str | None) -> None:
            app.log.record(
                method=method,
                path=path,
                status=status,
                fault=fault,
                body=body,
                project=project,
                duration_ms=(time.perf_counter() - started) * 1000,
            )

        is_api = path == "/v1" or path.startswith("/v1/")
        firing = app.faults.select(method, path) if is_api else _NO_FIRING
        if firing.delay:
            time.sleep(firing.delay)
        terminal = firing.terminal
        if terminal is not None and terminal.kind == "reset_before":
            record(None, firing.kind)
            self._reset()
            return
        if terminal is not None and terminal.kind == "status":
            reply = status_fault_reply(terminal)
        elif problem is not None:
            reply = problem
        else:
            request = Request(method, path, body, body_error)
            reply = app.handle_api(request, self.headers.get("Authorization"), project)
        if terminal is not None and terminal.kind == "drop_after":
            record(None, firing.kind)
            self._reset()
            return
        record(reply.status, firing.kind)
        if firing.answer_delay:
            # Logged above, when the change was made: the log orders what Nodion did.
            time.sleep(firing.answer_delay)
        self._send(reply)

    def _read_body(self) -> tuple[bytes, Reply | None]:
        """Read the whole body so the connection stays usable; refuse what cannot be read."""
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            return self._read_chunked()
        length_header = self.headers.get("Content-Length")
        if not length_header:
            return b"", None
        try:
            length = int(length_header)
        except ValueError:
            length = -1
        if length < 0:
            self.close_connection = True
            return b"", Reply(400, {"errors": ["Invalid Content-Length"]})
        if length > MAX_BODY:
            self.close_connection = True
            return b"", status_reply(413)
        return self.rfile.read(length), None

    def _read_chunked(self) -> tuple[bytes, Reply | None]:
        parts: list[bytes] = []
        size = 0
        while True:
            line = self.rfile.readline(1024)
            try:
                chunk = int(line.split(b";", 1)[0].strip() or b"x", 16)
            except ValueError:
                self.close_connection = True
                return b"", Reply(400, {"errors": ["Invalid chunked body"]})
            if chunk == 0:
                while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                    pass
                return b"".join(parts), None
            size += chunk
            if size > MAX_BODY:
                self.close_connection = True
                return b"", status_reply(413)
            parts.append(self.rfile.read(chunk))
            self.rfile.readline(1024)

    def _send(self, reply: Reply) -> None:
        write_reply(self, reply)

    def _reset(self) -> None:
        """Make the socket close with an RST instead of a FIN, as a crashed peer would."""
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.close_connection = True
        self.server.abort_on_close(self.connection)
