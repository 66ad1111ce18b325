"""Who may use `/_emulator/`: what a request must carry before any admin route sees it.

The admin side can read every registry, mint credentials nobody holds and make the API fail,
and it listens where a browser can reach it. Each rule closes one way in:

- the API's bearer token: a page on another site cannot know it, and an `Authorization`
  header is not something a browser adds to a cross-site request on its own;
- a loopback name in `Host`: a page that rebinds its own name to 127.0.0.1 (DNS rebinding)
  reaches the port as a same-origin request, but its name still arrives in `Host`;
- JSON bodies for changes: a form post (no preflight) cannot have `application/json`, so a
  page has to ask the browser first, and the emulator never says yes.
"""

from __future__ import annotations

import hmac
import re

from nodion_pulumi._facts import is_loopback_host
from nodion_pulumi.emulator._http import Reply

CHANGING_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# A Host header: a bracketed IPv6 address or a name/IPv4 address, then an optional port.
_HOST_AND_PORT = re.compile(r"(\[[^\]]*\]|[^:\[\]]+)(?::[0-9]{1,5})?")
_NEEDS_BEARER = (
    "/_emulator/ needs the emulator's token: send Authorization: Bearer <token>, the token "
    "the /v1 API requires"
)
_NEEDS_LOOPBACK_HOST = (
    "/_emulator/ answers only a loopback Host header (an address in 127.0.0.0/8, localhost or "
    "[::1], with any port), so that a web page cannot reach it through a name of its own: "
    "call it through one of them"
)
_NEEDS_JSON = (
    "/_emulator/ takes changes as JSON only: send Content-Type: application/json with a JSON "
    "object body"
)
_NEEDS_BODY = (
    "/_emulator/ takes changes with a JSON object body: send {} when there is nothing to say"
)


def bearer_accepted(header: str | None, token: str | None) -> bool:
    """Whether an `Authorization` header carries `token` (any non-empty bearer when None)."""
    scheme, _, bearer = (header or "").strip().partition(" ")
    bearer = bearer.strip()
    if scheme.lower() != "bearer" or not bearer:
        return False
    if token is None:
        return True
    return hmac.compare_digest(bearer.encode(), token.encode())


def refuse_admin_call(
    *,
    method: str,
    host: str | None,
    authorization: str | None,
    content_type: str | None,
    raw_body: bytes,
    token: str | None,
) -> Reply | None:
    """The reply refusing an admin request, or None when it may go on to its route.

    The `Host` check comes first, so a rebinding page learns nothing from the other answers.
    """
    if not _loopback_host_header(host):
        return Reply(421, {"errors": [_NEEDS_LOOPBACK_HOST]})
    if not bearer_accepted(authorization, token):
        return Reply(401, {"errors": [_NEEDS_BEARER]}, headers=(("WWW-Authenticate", "Bearer"),))
    if method in CHANGING_METHODS:
        media_type = (content_type or "").partition(";")[0].strip().lower()
        if media_type != "application/json":
            return Reply(415, {"errors": [_NEEDS_JSON]})
        if not raw_body.strip():
            return Reply(400, {"errors": [_NEEDS_BODY]})
    return None


def _loopback_host_header(host: str | None) -> bool:
    """Whether a `Host` header names this machine, by the package's one definition of
    loopback (``_facts.is_loopback_host``), with any port."""
    match = _HOST_AND_PORT.fullmatch((host or "").strip())
    return match is not None and is_loopback_host(match.group(1))
