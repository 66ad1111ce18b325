"""Reading a failed response's body into the few lines a user should see.

Nodion answers errors with JSON in several shapes (``{"errors": [...]}``, Rails-style
``{"errors": {"field": [...]}}``, ``{"error": ...}``); a proxy or gateway in front of it
answers with an HTML page. Both are reduced to short, single-line, secret-free texts, so a
message built from them stays one line however odd the body. Kept apart from the exception
tree (:mod:`nodion_pulumi._errors`) because this is parsing, with its own bounds and its
own adversarial inputs (unclosed tags, deep nesting, huge bodies).
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterable
from typing import Any

from nodion_pulumi._redact import redact, scrub

__all__ = ["MAX_BODY_CHARS", "MAX_MESSAGES", "MAX_MESSAGE_CHARS", "extract_messages"]

MAX_MESSAGE_CHARS = 200  # per message shown to the user
MAX_MESSAGES = 10  # Nodion lists one message per invalid field; more is noise
MAX_BODY_CHARS = 256 * 1024  # of an error body examined at all
# Of a body decoded and scrubbed before it is cut to MAX_BODY_CHARS: whatever is cut off
# at this bound lies far beyond the part that is examined, so no prefix of a secret remains.
_MAX_SCRUBBED_BYTES = 8 * 1024 * 1024
_MAX_DEPTH = 4  # of a nested value written out in a message
_MAX_ITEMS = 20  # of an object or array written out; the message is cut at 200 characters
_WITHHELD = "the error text is not shown because it may contain a secret"

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_WHITESPACE = re.compile(r"\s+")
# Openings of parts of a page that are not visible text. Matched by a linear scan rather than
# one regex with a lazy ".*?", which is quadratic on a body full of unclosed openings.
_INVISIBLE_OPEN = re.compile(r"(?i)<!--|<(script|style|head|template|noscript)\b")
# `[^<>]` keeps a stray "<" from scanning to the end of the body.
_TAGS = re.compile(r"<[^<>]*>")


def _clean(text: str, secrets: tuple[str, ...]) -> str | None:
    """Scrub, then flatten and shorten: scrubbing first means a cut never exposes part of a
    secret. None when the text must not be shown at all (see :func:`scrub`)."""
    scrubbed = scrub(text, secrets)
    if scrubbed is None:
        return None
    text = _CONTROL.sub(" ", scrubbed)
    text = _WHITESPACE.sub(" ", text).strip()
    if len(text) > MAX_MESSAGE_CHARS:
        text = text[: MAX_MESSAGE_CHARS - 1].rstrip() + "…"
    return text


def _remove_invisible(text: str) -> str:
    lowered = text.lower()
    kept: list[str] = []
    position = 0
    while (match := _INVISIBLE_OPEN.search(text, position)) is not None:
        kept.append(text[position : match.start()])
        kept.append(" ")
        if match.group(1) is None:
            end = lowered.find("-->", match.end())
            position = end + 3
        else:
            end = lowered.find(f"</{match.group(1).lower()}", match.end())
            position = lowered.find(">", end) + 1 if end >= 0 else -1
        if end < 0 or position <= 0:
            return "".join(kept)  # unclosed: the rest is not visible either
    kept.append(text[position:])
    return "".join(kept)


def _html_to_text(text: str) -> str:
    return html.unescape(_TAGS.sub(" ", _remove_invisible(text)))


def _as_text(value: Any, depth: int = 0) -> str:
    """A message as text; a nested value is written out JSON-like, shallowly and briefly.

    Strings inside are written with their own characters (``json.dumps`` would escape a
    ``"`` or ``\\`` of a password into a form that no longer matches it), and nesting stops
    at :data:`_MAX_DEPTH` levels, so a 1,000-deep body is text, not a ``RecursionError``.
    """
    if isinstance(value, str):
        return value if depth == 0 else f'"{value}"'
    if depth >= _MAX_DEPTH:
        return "…"
    if isinstance(value, dict):
        items = list(value.items())[:_MAX_ITEMS]
        inner = ", ".join(f'"{key}": {_as_text(item, depth + 1)}' for key, item in items)
        more = ", …" if len(value) > _MAX_ITEMS else ""
        return f"{{{inner}{more}}}"
    if isinstance(value, list):
        inner = ", ".join(_as_text(item, depth + 1) for item in value[:_MAX_ITEMS])
        more = ", …" if len(value) > _MAX_ITEMS else ""
        return f"[{inner}{more}]"
    return json.dumps(value)  # a number, true, false or null


def _messages_from_json(payload: Any) -> list[str]:
    """Nodion's error texts from the body shapes seen on its endpoints."""
    if isinstance(payload, list):
        return [_as_text(item) for item in payload]
    if not isinstance(payload, dict):
        return [_as_text(payload)] if payload not in (None, "") else []
    errors = payload.get("errors")
    if isinstance(errors, list):
        return [_as_text(item) for item in errors]
    if isinstance(errors, dict):
        # Rails-style {"field": ["message", ...]}
        found: list[str] = []
        for field_name, problems in errors.items():
            items = problems if isinstance(problems, list) else [problems]
            found.extend(f"{field_name} {_as_text(p)}" for p in items)
        return found
    if isinstance(errors, str):
        return [errors]
    for key in ("error", "message", "error_description", "detail"):
        value = payload.get(key)
        if isinstance(value, dict) and "message" in value:
            value = value["message"]
        if isinstance(value, str) and value.strip():
            return [value]
        if value not in (None, "", [], {}):
            return [_as_text(value)]
    return []


def extract_messages(content: bytes, secrets: Iterable[str | None] = ()) -> tuple[str, ...]:
    """The human-readable error messages in a response body, scrubbed and shortened.

    JSON bodies yield Nodion's messages; anything else (an HTML error page from a proxy,
    plain text) yields one short excerpt of its visible text. The whole body is scrubbed
    before it is cut or parsed, and every message again once decoded (JSON escapes, HTML
    entities); a message that may hold a short secret is replaced by a note saying so.
    """
    known = tuple(s for s in secrets if s)
    text = content[:_MAX_SCRUBBED_BYTES].decode("utf-8", errors="replace")
    # The body may have been cut short (by the network, by the client's size cap): a secret
    # cut in two at its end is masked too.
    text = redact(text, known, cut_at_end=True)[:MAX_BODY_CHARS]
    if not text.strip():
        return ()
    raw: list[str]
    try:
        payload = json.loads(text)
    except (ValueError, RecursionError):  # RecursionError: absurdly deep nesting
        raw = [_html_to_text(text) if "<" in text else text]
    else:
        raw = _messages_from_json(payload)
    shown: list[str] = []
    withheld = False
    unread = 0  # messages past the ones shown are counted, not scrubbed: nobody reads them
    for item in raw:
        if len(shown) >= MAX_MESSAGES:
            unread += bool(item.strip())
            continue
        cleaned = _clean(item, known)
        withheld = withheld or cleaned is None
        if cleaned:
            shown.append(cleaned)
    if withheld:
        shown.append(_WITHHELD)
    extra = unread + max(0, len(shown) - MAX_MESSAGES)
    if extra:
        shown = [*shown[:MAX_MESSAGES], f"and {extra} more"]
    return tuple(shown)
