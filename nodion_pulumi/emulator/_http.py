"""Transport-neutral request and reply values.

The API and admin logic return these instead of writing to a socket, so they stay testable and
the server alone decides about keep-alive, resets and fault injection.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler

JSON_TYPE = "application/json; charset=utf-8"


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    body: object = field(default_factory=dict)
    body_error: str | None = None


@dataclass(frozen=True)
class Reply:
    status: int
    payload: object = None
    raw: bytes | None = None
    content_type: str | None = JSON_TYPE
    headers: tuple[tuple[str, str], ...] = ()

    def encode(self) -> bytes:
        if self.raw is not None:
            return self.raw
        if self.payload is None:
            return b""
        return json.dumps(self.payload, ensure_ascii=False).encode("utf-8")


def write_reply(handler: BaseHTTPRequestHandler, reply: Reply) -> None:
    """Send ``reply`` on ``handler``'s connection, with its length and, when the handler is
    about to close the connection, ``Connection: close``."""
    data = reply.encode()
    handler.send_response(reply.status)
    if reply.content_type:
        handler.send_header("Content-Type", reply.content_type)
    handler.send_header("Content-Length", str(len(data)))
    for name, value in reply.headers:
        handler.send_header(name, value)
    if handler.close_connection:
        handler.send_header("Connection", "close")
    handler.end_headers()
    if handler.command != "HEAD" and data:
        handler.wfile.write(data)


def json_reply(status: int, payload: object, headers: tuple[tuple[str, str], ...] = ()) -> Reply:
    return Reply(status, payload, headers=headers)


def status_reply(status: int, headers: tuple[tuple[str, str], ...] = ()) -> Reply:
    """The `{"status": n, "error": phrase}` shape Nodion uses for non-validation errors."""
    return Reply(status, {"status": status, "error": reason(status)}, headers=headers)


def errors_reply(*messages: str) -> Reply:
    """The Rails-style validation shape: 400 with a list of full messages."""
    return Reply(400, {"errors": list(messages)})


def reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def parse_body(raw: bytes) -> tuple[object, str | None]:
    """Decode a JSON object body; an empty body means "no parameters", not an error."""
    if not raw.strip():
        return {}, None
    try:
        value = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None, "Request body is not valid JSON"
    except RecursionError:
        # 100,000 `[` fit well under the size limit; the parser's stack does not.
        return None, "Request body is nested too deeply"
    if not isinstance(value, dict):
        return value, "Request body must be a JSON object"
    return value, None
