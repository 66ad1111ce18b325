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

from nodion_pulumi._redact import redact

__all__ = ["MAX_BODY_CHARS", "MAX_MESSAGES", "MAX_MESSAGE_CHARS", "extract_messages"]

MAX_MESSAGE_CHARS = 200  # per message shown to the user
MAX_MESSAGES = 10  # Nodion lists one message per invalid field; more is noise
MAX_BODY_CHARS = 256 * 1024  # of an error body examined at all

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_WHITESPACE = re.compile(r"\s+")
# Openings of parts of a page that are not visible text. Matched by a linear scan rather than
# one regex with a lazy ".*?", which is quadratic on a body full of unclosed openings.
_INVISIBLE_OPEN = re.compile(r"(?i)<!--|<(script|style|head|template|noscript)\b")
# `[^<>]` keeps a stray "<" from scanning to the end of the body.
_TAGS = re.compile(r"<[^<>]*>")


def _clean(text: str, secrets: Iterable[str | None]) -> str:
    """Redact, then flatten and shorten: redacting first means a cut never exposes part
    of a secret."""
    text = redact(text, secrets)
    text = _CONTROL.sub(" ", text)
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


def _as_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, separators=(", ", ": "))


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
    plain text) yields one short excerpt of its visible text.
    """
    secrets = tuple(secrets)
    text = content[: MAX_BODY_CHARS * 4].decode("utf-8", errors="replace")[:MAX_BODY_CHARS]
    if not text.strip():
        return ()
    raw: list[str]
    try:
        payload = json.loads(text)
    except (ValueError, RecursionError):  # RecursionError: absurdly deep nesting
        raw = [_html_to_text(text) if "<" in text else text]
    else:
        raw = _messages_from_json(payload)
    cleaned = [m for m in (_clean(item, secrets) for item in raw) if m]
    if len(cleaned) > MAX_MESSAGES:
        extra = len(cleaned) - MAX_MESSAGES
        cleaned = [*cleaned[:MAX_MESSAGES], f"and {extra} more"]
    return tuple(cleaned)
