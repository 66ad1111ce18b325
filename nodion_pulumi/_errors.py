"""The exceptions of this package, in one tree.

Every failure a user can meet is a :class:`NodionError`, so a Pulumi program or provider can
catch one class; the subclasses let code react to the cases that need different handling
(a vanished registry, a bad token, throttling, credentials that already exist)::

    NodionError (a pulumi.RunError)
    ├── ConfigurationError              missing token, invalid URL or project id
    │   └── NoNodionAPIError            the API URL answers, but no Nodion API is there
    ├── InvalidRegistryIdError          an id that cannot be used in a URL path
    ├── NoSuchRegionError               get_nodion_registry found no registry for the region
    ├── CredentialsLostError            generated credentials whose answer never arrived
    ├── RegistryCreateLostError         a registry create whose outcome could not be settled
    ├── NodionConnectionError           no HTTP answer (DNS, refused, reset, TLS)
    │   └── NodionTimeoutError
    └── APIError                        Nodion answered with a non-2xx status
        ├── BadRequestError             400
        │   ├── CredentialsAlreadyExistError  the registry already has credentials
        │   ├── NoCredentialsError            the registry has no credentials to revoke
        │   └── NotNodionRegistryError        credentials asked of an external registry
        ├── AuthenticationError         401
        ├── PermissionDeniedError       403
        ├── NotFoundError               404
        ├── MethodNotAllowedError       405
        ├── RateLimitError              429
        ├── ServerError                 5xx
        └── UnexpectedResponseError     a 2xx whose body is not what the API documents

``NodionError`` derives from ``pulumi.RunError`` because that is how a Pulumi program ends
with its message alone: the language host prints any other exception with a Python
traceback, which buries the one sentence that says what to do. ``except NodionError`` keeps
working in users' programs; ``except pulumi.RunError`` catches ours too.

The three 400s Nodion documents ("credentials already exist", "no credentials", "not a
Nodion registry") get their own classes here, from Nodion's message, so that the providers
react to a type instead of matching text.

Errors are data: fields (``operation``, ``method``, ``path``, ``status_code``,
``registry_id``, Nodion's ``messages``) and a chained cause. Their message is the facts, as
one line, e.g. ``create container registry failed: HTTP 400 from POST
/v1/container_registries: Name can't be blank``; what a Pulumi user should do about them is
``advice``, which only :mod:`nodion_pulumi._advice` sets, at the Pulumi boundary. Secrets
known to the client are scrubbed before they reach a message; reading the body is
:mod:`nodion_pulumi._error_body`'s job.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, ClassVar

from pulumi.errors import RunError

from nodion_pulumi._error_body import extract_messages
from nodion_pulumi._printable import printable

if TYPE_CHECKING:
    import httpx

__all__ = [
    "APIError",
    "AuthenticationError",
    "BadRequestError",
    "ConfigurationError",
    "CredentialsAlreadyExistError",
    "CredentialsLostError",
    "InvalidRegistryIdError",
    "MethodNotAllowedError",
    "NoCredentialsError",
    "NoNodionAPIError",
    "NoSuchRegionError",
    "NodionConnectionError",
    "NodionError",
    "NodionTimeoutError",
    "NotFoundError",
    "NotNodionRegistryError",
    "PermissionDeniedError",
    "RateLimitError",
    "RegistryCreateLostError",
    "ServerError",
    "UnexpectedResponseError",
    "error_from_response",
]


class NodionError(RunError):
    """Base class of every error raised by this package.

    ``str(error)`` is the facts (:meth:`factual_message`) followed by ``advice`` when
    advice is set, with control and format characters shown as escapes
    (:func:`nodion_pulumi._printable.printable`). Advice is what a Pulumi user should do
    about the failure; it is set only at the Pulumi boundary, by
    :func:`nodion_pulumi._advice.advise`, so that a plain client user reads facts without
    Pulumi instructions.
    """

    advice: str | None = None

    def factual_message(self) -> str:
        """What failed and why, without advice."""
        return super().__str__()

    def __str__(self) -> str:
        # Every message is made printable here, where it is composed: its facts quote names,
        # hostnames and messages that Nodion sent, and a message ends up on terminals.
        facts = self.factual_message()
        return printable(f"{facts}. {self.advice}" if self.advice else facts)

    def __reduce__(self) -> tuple[Any, ...]:
        # Keyword-only constructors defeat Exception's default pickling, and errors do
        # cross process boundaries (pytest-xdist, multiprocessing in user programs).
        return (_rebuild, (type(self), self.args, self.__dict__))


class ConfigurationError(NodionError):
    """The provider configuration is missing or invalid; the message names the setting."""


class NoNodionAPIError(ConfigurationError):
    """The API URL answers, but a 404 to the registry list says no Nodion API is there."""

    def __init__(self, *, operation: str, method: str, api_url: str, path: str) -> None:
        self.operation = operation
        self.method = method
        self.api_url = api_url
        self.path = path
        super().__init__(
            f"{operation} failed: HTTP 404 from {method} {api_url}/{path}: "
            f"there is no Nodion API at {api_url}"
        )


class InvalidRegistryIdError(NodionError, ValueError):
    """A registry id that cannot be placed in a URL path (slashes, spaces, empty).

    Refused before any request is made, so a stray value cannot address another endpoint.
    """


class NoSuchRegionError(NodionError, LookupError):
    """No Nodion registry matches the requested region; the message lists the ones that do."""


class CredentialsLostError(NodionError):
    """Nodion generated credentials but their answer never arrived, so nobody can ever know
    the password; the message says what was revoked and what to do."""


class RegistryCreateLostError(NodionError):
    """A registry create whose answer was lost, and whose outcome could not be settled.

    ``candidate_ids`` are the registries named ``name`` that may be the lost create's
    result (empty when none was found); the raiser gives the message.
    """

    def __init__(self, message: str, *, name: str, candidate_ids: Iterable[str] = ()) -> None:
        self.name = name
        self.candidate_ids: tuple[str, ...] = tuple(candidate_ids)
        super().__init__(message)


class _FailedCall(NodionError):
    """The facts every failure of an API call carries: the operation (e.g. "create
    container registry"), the request's method, path and URL (without its query), and the
    registry the call was about (None for calls about no one registry)."""

    def __init__(
        self,
        message: str,
        *,
        operation: str,
        method: str,
        path: str,
        url: str | None,
        registry_id: str | None,
    ) -> None:
        self.operation = operation
        self.method = method
        self.path = path
        self.url = url
        self.registry_id = registry_id
        super().__init__(message)


class NodionConnectionError(_FailedCall):
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
        url: str | None = None,
        registry_id: str | None = None,
    ) -> None:
        self.reason = reason
        self.request_sent = request_sent
        super().__init__(
            reason,
            operation=operation,
            method=method,
            path=path,
            url=url,
            registry_id=registry_id,
        )

    _what_happened: ClassVar[str] = "could not reach Nodion for"

    def factual_message(self) -> str:
        where = self.url or self.path
        text = (
            f"{self.operation} failed: {self._what_happened} {self.method} {where}: {self.reason}"
        )
        if self.request_sent and self.method == "POST":
            text += " (the request may have reached Nodion before the connection failed)"
        return text

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(operation={self.operation!r}, method={self.method!r}, "
            f"path={self.path!r}, reason={self.reason!r}, request_sent={self.request_sent!r})"
        )


class NodionTimeoutError(NodionConnectionError):
    """Nodion did not answer within the configured timeout."""

    _what_happened: ClassVar[str] = "timed out waiting for"


class APIError(_FailedCall):
    """Nodion answered with a status this client cannot treat as success.

    ``messages`` holds Nodion's own error texts (already scrubbed of secrets); it is empty
    when the body carried none, and the message then falls back to the HTTP reason.
    """

    def __init__(
        self,
        *,
        operation: str,
        method: str,
        path: str,
        status_code: int,
        messages: Iterable[str] = (),
        url: str | None = None,
        registry_id: str | None = None,
    ) -> None:
        self.status_code = status_code
        self.messages: tuple[str, ...] = tuple(messages)
        super().__init__(
            self.detail,
            operation=operation,
            method=method,
            path=path,
            url=url,
            registry_id=registry_id,
        )

    @property
    def detail(self) -> str:
        """Nodion's messages joined, or the HTTP reason phrase when there were none."""
        if self.messages:
            return "; ".join(self.messages)
        import httpx  # imported here: the provider modules load without httpx

        reason = httpx.codes.get_reason_phrase(self.status_code)
        return reason or "no error details in the response"

    def factual_message(self) -> str:
        return (
            f"{self.operation} failed: HTTP {self.status_code} from "
            f"{self.method} {self.path}: {self.detail}"
        )

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(operation={self.operation!r}, method={self.method!r}, "
            f"path={self.path!r}, status_code={self.status_code!r}, "
            f"messages={self.messages!r})"
        )


class BadRequestError(APIError):
    """400: Nodion rejected the request; ``messages`` says which field and why."""


class CredentialsAlreadyExistError(BadRequestError):
    """The registry already has credentials, which Pulumi did not create and cannot read."""

    def factual_message(self) -> str:
        return (
            f"{self.operation} failed: Nodion registry {self.registry_id} already has "
            "push/pull credentials, and Nodion shows a password only once, so they cannot be "
            "captured"
        )


class NoCredentialsError(BadRequestError):
    """The registry has no credentials to revoke (already revoked, or never generated)."""


class NotNodionRegistryError(BadRequestError):
    """Credentials can be generated for Nodion registries only, not for external ones."""

    def factual_message(self) -> str:
        return (
            f"{self.operation} failed: registry {self.registry_id} is an external registry, "
            "not a Nodion registry, and only Nodion registries have credentials generated by "
            "Nodion"
        )


class AuthenticationError(APIError):
    """401: the API token is missing, wrong or revoked."""


class PermissionDeniedError(APIError):
    """403: the token is valid but not for this project or action."""


class NotFoundError(APIError):
    """404: the registry does not exist (any more) in this project."""


class MethodNotAllowedError(APIError):
    """405: the endpoint does not accept this method (e.g. an API without PATCH)."""


class RateLimitError(APIError):
    """429: Nodion is throttling; ``retry_after`` is its advised wait in seconds, if given.

    Takes :class:`APIError`'s fields, with ``status_code`` 429 unless given.
    """

    def __init__(self, *, retry_after: float | None = None, **facts: Any) -> None:
        self.retry_after = retry_after
        super().__init__(**{"status_code": 429, **facts})

    def factual_message(self) -> str:
        text = super().factual_message()
        if self.retry_after is not None:
            text += f" (retry after {self.retry_after:g} s)"
        return text


class ServerError(APIError):
    """5xx: a fault on Nodion's side; usually transient."""


class UnexpectedResponseError(APIError):
    """A successful status whose body does not match the documented shape.

    Raised instead of a validation traceback so that an API change reads as what it is.
    """

    def factual_message(self) -> str:
        return (
            f"{self.operation} failed: unexpected response (HTTP {self.status_code}) from "
            f"{self.method} {self.path}: {self.detail}"
        )


def _rebuild(cls: type[NodionError], args: tuple[Any, ...], state: dict[str, Any]) -> NodionError:
    error = cls.__new__(cls)
    error.args = args
    error.__dict__.update(state)
    return error


# Nodion's texts for the 400s it documents, lower-cased, and the class each one gets.
_KNOWN_BAD_REQUESTS: tuple[tuple[str, type[BadRequestError]], ...] = (
    ("already exist", CredentialsAlreadyExistError),
    ("no credentials", NoCredentialsError),
    ("not a nodion registry", NotNodionRegistryError),
)

_STATUS_CLASSES: dict[int, type[APIError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    405: MethodNotAllowedError,
    429: RateLimitError,
}


def error_from_response(
    response: httpx.Response,
    *,
    operation: str,
    secrets: Iterable[str | None] = (),
    content: bytes | None = None,
    registry_id: str | None = None,
) -> APIError:
    """Build the :class:`APIError` subclass matching a failed response.

    ``content`` is the body when the caller read it itself (e.g. capped); by default the
    response's own content is used. ``secrets`` are removed from every message.
    ``registry_id`` is the registry the call was about, if any.
    """
    # Imported here: both import httpx, which the provider modules load without.
    from nodion_pulumi._http import url_for_messages
    from nodion_pulumi._retry import parse_retry_after

    body = response.content if content is None else content
    request = response.request
    messages = extract_messages(body, secrets)
    status = response.status_code
    common: dict[str, Any] = {
        "operation": operation,
        "method": request.method,
        "path": request.url.path,
        "url": url_for_messages(request.url),
        "status_code": status,
        "messages": messages,
        "registry_id": registry_id,
    }
    if status == 429:
        return RateLimitError(
            **common, retry_after=parse_retry_after(response.headers.get("Retry-After"))
        )
    cls = _STATUS_CLASSES.get(status)
    if cls is BadRequestError:
        # Classified on the unredacted text: a short token can mask letters of Nodion's
        # words ("Creden***ials"); only the redacted messages are kept.
        texts = " ".join(extract_messages(body)).lower()
        cls = next((known for text, known in _KNOWN_BAD_REQUESTS if text in texts), cls)
    if cls is None:
        cls = ServerError if 500 <= status <= 599 else APIError
    return cls(**common)
