"""A loopback relay in front of the emulator that changes chosen answers on their way back.

Some failures happen between Nodion and the client rather than in either: an answer cut
short (its last bytes lost, the length header rewritten to match, as a broken proxy does),
or a gateway answering a create with a page of its own that echoes the request. The
emulator answers correctly; this relay forwards every request to it unchanged and lets a
test rewrite the answers of the requests it chooses, so the real CLI meets those answers
through the real provider.

Every password the relay sees in a request or an answer is recorded in ``passwords``, so a
test can scan the CLI output and the state for any piece of them.
"""

from __future__ import annotations

import http.client
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

__all__ = ["Answer", "AnswerRelay", "Rewrite", "cut_last_bytes", "echo_request_as_text"]

# Hop-by-hop and framing headers: the relay frames each answer itself.
_NOT_FORWARDED = {"connection", "content-length", "host", "keep-alive", "transfer-encoding"}


@dataclass
class Answer:
    """An answer as the relay forwards it; a rewrite may change any part."""

    status: int
    headers: list[tuple[str, str]]
    body: bytes


@dataclass(frozen=True)
class Rewrite:
    """Change the answers to ``method`` requests whose path ends with ``path_suffix``, the
    first ``times`` of them (None: all)."""

    method: str
    path_suffix: str
    change: Callable[[bytes, Answer], Answer]
    times: int | None = 1


def cut_last_bytes(count: int) -> Callable[[bytes, Answer], Answer]:
    """The answer with its last ``count`` bytes lost (its length header matches the rest)."""

    def change(_request: bytes, answer: Answer) -> Answer:
        return Answer(answer.status, answer.headers, answer.body[:-count])

    return change


def echo_request_as_text(status: int) -> Callable[[bytes, Answer], Answer]:
    """A gateway's plain-text success page that quotes the request it received."""

    def change(request: bytes, _answer: Answer) -> Answer:
        page = b"Request accepted: " + request
        return Answer(status, [("Content-Type", "text/plain")], page)

    return change


@dataclass
class AnswerRelay:
    """Listens on a loopback port and forwards to ``upstream`` (the emulator's API URL)."""

    upstream: str
    rewrites: list[Rewrite] = field(default_factory=list)
    passwords: set[str] = field(default_factory=set)
    rewritten: int = 0
    _server: ThreadingHTTPServer | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        """The URL to give the provider instead of the emulator's (same path)."""
        assert self._server is not None, "the relay is not running"
        port = self._server.server_address[1]
        return f"http://127.0.0.1:{port}{urlsplit(self.upstream).path}"

    def __enter__(self) -> AnswerRelay:
        relay = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _relay(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                answer = relay.forward(self.command, self.path, dict(self.headers), body)
                self.send_response(answer.status)
                for name, value in answer.headers:
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(answer.body)))
                self.end_headers()
                self.wfile.write(answer.body)

            do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _relay

            def log_message(self, format: str, *args: Any) -> None:
                return None  # requests carry the token; nothing is logged

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def forward(self, method: str, path: str, headers: dict[str, str], body: bytes) -> Answer:
        """Send one request on to the emulator and return its answer, rewritten if chosen."""
        upstream = urlsplit(self.upstream)
        connection = http.client.HTTPConnection(
            upstream.hostname or "127.0.0.1", upstream.port, timeout=30
        )
        try:
            kept = {k: v for k, v in headers.items() if k.lower() not in _NOT_FORWARDED}
            connection.request(method, path, body=body or None, headers=kept)
            response = connection.getresponse()
            answer = Answer(
                response.status,
                [(k, v) for k, v in response.getheaders() if k.lower() not in _NOT_FORWARDED],
                response.read(),
            )
        finally:
            connection.close()
        self._record_passwords(body)
        self._record_passwords(answer.body)
        rewrite = self._take_rewrite(method, path)
        return rewrite.change(body, answer) if rewrite else answer

    def _take_rewrite(self, method: str, path: str) -> Rewrite | None:
        with self._lock:
            for index, rewrite in enumerate(self.rewrites):
                if rewrite.method == method and path.split("?")[0].endswith(rewrite.path_suffix):
                    if rewrite.times is not None:
                        remaining = rewrite.times - 1
                        if remaining:
                            self.rewrites[index] = Rewrite(
                                rewrite.method, rewrite.path_suffix, rewrite.change, remaining
                            )
                        else:
                            del self.rewrites[index]
                    self.rewritten += 1
                    return rewrite
        return None

    def _record_passwords(self, body: bytes) -> None:
        try:
            document = json.loads(body)
        except ValueError:
            return
        found: list[str] = []
        _collect_passwords(document, found)
        with self._lock:
            self.passwords.update(found)


def _collect_passwords(value: Any, found: list[str]) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "password" and isinstance(item, str) and item:
                found.append(item)
            else:
                _collect_passwords(item, found)
    elif isinstance(value, list):
        for item in value:
            _collect_passwords(item, found)
