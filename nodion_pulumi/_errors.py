"""Exceptions raised by the Nodion client.

Every failure a user can meet is a :class:`NodionError`, so a Pulumi program or provider can
catch one class; the subclasses let code react to the cases that need different handling
(a vanished registry, a bad token, throttling)::

    NodionError
    ├── ConfigurationError          missing token, invalid URL or project id
    ├── InvalidRegistryIdError      an id that cannot be used in a URL path
    ├── NodionConnectionError       no HTTP answer (DNS, refused, reset, TLS)
    │   └── NodionTimeoutError
    └── APIError                    Nodion answered with a non-2xx status
        ├── BadRequestError         400
        ├── AuthenticationError     401
        ├── PermissionDeniedError   403
        ├── NotFoundError           404
        ├── RateLimitError          429
        ├── ServerError             5xx
        └── UnexpectedResponseError a 2xx whose body is not what the API documents

Messages read as one line a Pulumi user can act on, e.g.
``create container registry failed: HTTP 400 from POST /v1/container_registries: Name
can't be blank``. Secrets known to the client are scrubbed before they reach a message.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, ClassVar

from nodion_pulumi._redact import redact

if TYPE_CHECKING:
    import httpx

__all__ = [
    "APIError",
    "AuthenticationError",
    "BadRequestError",
    "ConfigurationError",
    "InvalidRegistryIdError",
    "NodionConnectionError",
    "NodionError",
    "NodionTimeoutError",
    "NotFoundError",
    "PermissionDeniedError",
    "RateLimitError",
    "ServerError",
    "UnexpectedResponseError",
    "error_from_response",
    "extract_messages",
]

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


class NodionError(Exception):
    """Base class of every error raised by this package."""

    def __reduce__(self) -> tuple[Any, ...]:
        # Keyword-only constructors defeat Exception's default pickling, and errors do
        # cross process boundaries (pytest-xdist, multiprocessing in user programs).
        return (_rebuild, (type(self), self.args, self.__dict__))


class ConfigurationError(NodionError):
    """The provider configuration is missing or invalid; the message names the setting."""


class InvalidRegistryIdError(NodionError, ValueError):
    """A registry id that cannot be placed in a URL path (slashes, spaces, empty).

    Refused before any request is made, so a stray value cannot address another endpoint.
    """


class NodionConnectionError(NodionError):
    """No HTTP answer was received: DNS failure, refused or reset connection, TLS error.

    ``request_sent`` tells whether the request may have reached Nodion before the failure,
    which matters for a ``POST``: the registry or credentials may then exist.
    """

    def __init__(
        self,
        reason: str,
        *,
        operation: str,
        method: str,
        path: str,
        request_sent: bool = False,
    ) -> None:
        self.reason = reason
        self.operation = operation
        self.method = method
        self.path = path
        self.request_sent = request_sent
        super().__init__(reason)

    _what: ClassVar[str] = "could not reach Nodion for"

    def __str__(self) -> str:
        text = f"{self.operation} failed: {self._what} {self.method} {self.path}: {self.reason}"
        if self.request_sent and self.method == "POST":
            text += (
                " (the request may have reached Nodion before the connection failed; "
                "check the current state, e.g. with `pulumi refresh`, before retrying)"
            )
        return text

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(operation={self.operation!r}, method={self.method!r}, "
            f"path={self.path!r}, reason={self.reason!r}, request_sent={self.request_sent!r})"
        )


class NodionTimeoutError(NodionConnectionError):
    """Nodion did not answer within the configured timeout."""

    _what: ClassVar[str] = "timed out waiting for"


class APIError(NodionError):
    """Nodion answered with a status this client cannot treat as success.

    ``messages`` holds Nodion's own error texts (already scrubbed of secrets); it is empty
    when the body carried none, and the message then falls back to the HTTP reason.
    """

    hint: ClassVar[str] = ""

    def __init__(
        self,
        *,
        operation: str,
        method: str,
        path: str,
        status_code: int,
        messages: Iterable[str] = (),
    ) -> None:
        self.operation = operation
        self.method = method
        self.path = path
        self.status_code = status_code
        self.messages: tuple[str, ...] = tuple(messages)
        super().__init__(self.detail)

    @property
    def detail(self) -> str:
        """Nodion's messages joined, or the HTTP reason phrase when there were none."""
        if self.messages:
            return "; ".join(self.messages)
        import httpx  # imported here: the provider modules load without httpx

        reason = httpx.codes.get_reason_phrase(self.status_code)
        return reason or "no error details in the response"

    def __str__(self) -> str:
        text = (
            f"{self.operation} failed: HTTP {self.status_code} from "
            f"{self.method} {self.path}: {self.detail}"
        )
        return f"{text}. {self.hint}" if self.hint else text

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(operation={self.operation!r}, method={self.method!r}, "
            f"path={self.path!r}, status_code={self.status_code!r}, "
            f"messages={self.messages!r})"
        )


class BadRequestError(APIError):
    """400: Nodion rejected the request; ``messages`` says which field and why."""


class AuthenticationError(APIError):
    """401: the API token is missing, wrong or revoked."""

    hint = "Check the API token in `nodion:apiToken` or NODION_API_TOKEN"


class PermissionDeniedError(APIError):
    """403: the token is valid but not for this project or action."""

    hint = (
        "The API token is not allowed to do this; check that it belongs to the project "
        "(`nodion:projectId` / NODION_PROJECT_ID)"
    )


class NotFoundError(APIError):
    """404: the registry does not exist (any more) in this project."""


class RateLimitError(APIError):
    """429: Nodion is throttling; ``retry_after`` is its advised wait in seconds, if given."""

    def __init__(
        self,
        *,
        operation: str,
        method: str,
        path: str,
        status_code: int = 429,
        messages: Iterable[str] = (),
        retry_after: float | None = None,
    ) -> None:
        self.retry_after = retry_after
        super().__init__(
            operation=operation,
            method=method,
            path=path,
            status_code=status_code,
            messages=messages,
        )

    def __str__(self) -> str:
        text = super().__str__()
        if self.retry_after is not None:
            text += f" (retry after {self.retry_after:g} s)"
        return text


class ServerError(APIError):
    """5xx: a fault on Nodion's side; usually transient."""


class UnexpectedResponseError(APIError):
    """A successful status whose body does not match the documented shape.

    Raised instead of a validation traceback so that an API change reads as what it is.
    """

    def __str__(self) -> str:
        return (
            f"{self.operation} failed: unexpected response (HTTP {self.status_code}) from "
            f"{self.method} {self.path}: {self.detail}"
        )


def _rebuild(cls: type[NodionError], args: tuple[Any, ...], state: dict[str, Any]) -> NodionError:
    error = cls.__new__(cls)
    error.args = args
    error.__dict__.update(state)
    return error


_STATUS_CLASSES: dict[int, type[APIError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    429: RateLimitError,
}


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


def error_from_response(
    response: httpx.Response,
    *,
    operation: str,
    secrets: Iterable[str | None] = (),
    content: bytes | None = None,
) -> APIError:
    """Build the :class:`APIError` subclass matching a failed response.

    ``content`` is the body when the caller read it itself (e.g. capped); by default the
    response's own content is used. ``secrets`` are removed from every message.
    """
    from nodion_pulumi._retry import parse_retry_after  # here: _retry imports httpx

    body = response.content if content is None else content
    request = response.request
    messages = extract_messages(body, secrets)
    status = response.status_code
    common: dict[str, Any] = {
        "operation": operation,
        "method": request.method,
        "path": request.url.path,
        "status_code": status,
        "messages": messages,
    }
    if status == 429:
        return RateLimitError(
            **common, retry_after=parse_retry_after(response.headers.get("Retry-After"))
        )
    cls = _STATUS_CLASSES.get(status)
    if cls is None:
        cls = ServerError if 500 <= status <= 599 else APIError
    return cls(**common)
