"""What the two dynamic providers share: configuration, one session per process, reads.

Pulumi pickles a dynamic provider into every resource's state and unpickles it in the
provider process. A provider pickles as ``nodion_pulumi.state.provider(kind)``, the state
contract (see that module): a call of an installed function with a short name, holding
nothing of the instance (no client, no token, no dictionary). ``configure()`` runs in the
provider process with the stack's configuration; the HTTP client is created on first use
and shared by every provider instance of the process (and by the lookups, should they run
in the same process), so connections are reused across resources.

The resources register through the SDK's public ``pulumi.dynamic.Resource.__init__``,
which serializes the provider once per resource. The source position the SDK records for a
resource is therefore the line in our resource module that calls it (the SDK takes the
caller of the third ``__init__`` on the stack), not the program's line, though the stack
trace it records still contains the program's line. Each of those serializations also wraps
pickle's dictionary writer once more, in every SDK of the supported range; our providers
pickle no dictionary, so they never walk that chain (docs/limits.md).

Reads during ``pulumi refresh`` come from one list call shared by all resources of the run
instead of a GET per resource. The snapshot is dropped whenever this process writes to
Nodion, so a read never returns what was there before our own write; a registry missing
from the snapshot is confirmed with a GET before it is reported gone.
"""

from __future__ import annotations

import functools
import sys
import threading
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar, cast

import pulumi
from pulumi.dynamic import CheckFailure, ConfigureRequest, ResourceProvider
from pulumi.output import Unknown

from nodion_pulumi._clients import client_for
from nodion_pulumi._config import CONFIG_KEYS, MISSING_TOKEN_MESSAGE, Settings, resolve_settings
from nodion_pulumi._errors import (
    ConfigurationError,
    NodionConnectionError,
    NodionError,
    NodionTimeoutError,
    NotFoundError,
    ServerError,
)
from nodion_pulumi._ownership import Owners
from nodion_pulumi.state import provider

if TYPE_CHECKING:
    # httpx and pydantic load on the first API call, not when the engine unpickles a
    # provider: a preview or an `up` without changes never pays for them.
    from nodion_pulumi._client import NodionClient
    from nodion_pulumi._models import Registry

__all__ = [
    "RECOVERY_ATTEMPTS",
    "UNKNOWN",
    "NodionProvider",
    "Session",
    "is_ambiguous",
    "is_unknown",
    "output",
    "settle",
    "warn",
]

# How the engine marks a value that is not known yet (during preview).
UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"

# A snapshot older than this is not used: refresh reads all resources within seconds.
SNAPSHOT_MAX_AGE = 30.0


def is_unknown(value: Any) -> bool:
    """Whether ``value`` is (or contains) a value the engine does not know yet.

    The SDK hands a provider's ``check`` and ``diff`` unknowns as ``pulumi.output.Unknown``
    objects; the wire sentinel string is accepted too.
    """
    if isinstance(value, Unknown):
        return True
    if isinstance(value, str):
        return value == UNKNOWN
    if isinstance(value, Mapping):
        return any(is_unknown(v) for v in value.values())
    if isinstance(value, list | tuple):
        return any(is_unknown(v) for v in value)
    return False


def is_ambiguous(error: NodionError) -> bool:
    """Whether a failed write may nevertheless have been carried out by Nodion.

    True when the request went out and no answer came back, or a gateway answered 500, 502
    or 504 (the backend may have committed before the gateway gave up). A 503 is taken as
    "not processed", which is also why the client retries it.
    """
    if isinstance(error, NodionConnectionError):
        return error.request_sent
    return isinstance(error, ServerError) and error.status_code in (500, 502, 504)


T = TypeVar("T")
SETTLE_POLL_INTERVAL = 1.0
# How often a create whose answer was lost is looked for and sent again, within one `up`.
RECOVERY_ATTEMPTS = 3


def settle(error: NodionError, seconds: float, look: Callable[[], T]) -> T:
    """``look()`` now, and after a timed-out write keep looking for up to ``seconds``
    until it finds something: Nodion may still be carrying out the request we gave up on.

    Other lost answers (a reset or dropped connection, a gateway error) mean the server is
    done with the request, so one look tells the truth.
    """
    deadline = time.monotonic() + (seconds if isinstance(error, NodionTimeoutError) else 0.0)
    while True:
        found = look()
        if found or time.monotonic() >= deadline:
            return found
        time.sleep(SETTLE_POLL_INTERVAL)


def output(resource: pulumi.Resource, key: str) -> pulumi.Output[Any]:
    """The output the SDK stored on ``resource`` for the property ``key``, typed.

    The SDK keeps a dynamic resource's outputs in its instance dictionary under the keys of
    the registered properties; ``pulumi.get`` reads them there but is typed ``Any``.
    """
    return cast("pulumi.Output[Any]", pulumi.get(resource, key))


def warn(message: str) -> None:
    """Show a warning in the engine's output.

    A dynamic provider process has no engine connection of its own; what it writes to
    stderr is shown by the CLI, prefixed like Pulumi's own warnings.
    """
    print(f"warning: {message}", file=sys.stderr, flush=True)


class Session:
    """Per settings and process: the client (the process's one, from ``client_for``), the
    refresh snapshot and the registries that recoveries claimed."""

    def __init__(self, client: NodionClient) -> None:
        self.client = client
        self._lock = threading.Lock()
        self._generation = 0
        self._snapshot: dict[str, Registry] | None = None
        self._snapshot_generation = -1
        self._snapshot_time = 0.0
        # Registries this process created or recovered: a recovery never picks one twice.
        self.claimed: set[str] = set()
        self._reached = False
        # Every registry any list of this process showed: what a registry is (its id, whether
        # it is Nodion's, its type) never changes, so checks need no list after each write.
        self._seen: dict[str, Registry] = {}

    def wrote(self) -> None:
        """Forget the snapshot: it may predate a write of ours."""
        with self._lock:
            self._generation += 1
            self._snapshot = None

    def listed(self, registry_id: str) -> Registry | None:
        """The registry in the list Nodion gives (one call shared by the run), if it is."""
        with self._lock:
            fresh = (
                self._snapshot is not None
                and self._snapshot_generation == self._generation
                and time.monotonic() - self._snapshot_time < SNAPSHOT_MAX_AGE
            )
            if not fresh:
                generation = self._generation
                registries = self.client.list_registries()
                self._snapshot = {r.id: r for r in registries}
                self._snapshot_generation = generation
                self._snapshot_time = time.monotonic()
                self._seen.update(self._snapshot)
                self._reached = True
            assert self._snapshot is not None
            return self._snapshot.get(registry_id)

    def known(self, registry_id: str) -> Registry | None:
        """The registry as a list of this run showed it, for checks of what it is (that it
        exists, whether it is Nodion's, its type), not of what it holds now. Asks Nodion only
        for an id no list has shown yet, e.g. a registry created earlier in the same `up`."""
        with self._lock:
            seen = self._seen.get(registry_id)
        return seen if seen is not None else self.listed(registry_id)

    def reach(self) -> None:
        """Ask Nodion once per process, unless a list call already answered: proves at
        preview that the URL and the token work, so an `up` does not learn it from its first
        write. Later creations in the run cost no request."""
        if not self._reached:
            self.listed("")

    def read_registry(self, registry_id: str) -> Registry | None:
        """The registry as Nodion has it now, or None when it no longer exists."""
        found = self.listed(registry_id)
        if found is not None:
            return found
        try:
            return self.client.get_registry(registry_id)
        except NotFoundError:
            return None


_sessions: dict[Settings, Session] = {}
_sessions_lock = threading.Lock()
_missing_token_reported = False
# What this process saw of the program's credentials; needs no settings, since a check with
# old inputs records its owner without asking Nodion (and so without a token).
_owners = Owners()


def _session_for(config: Mapping[str, Any]) -> Session:
    global _missing_token_reported
    try:
        settings = resolve_settings(config)
    except ConfigurationError as error:
        if str(error) != MISSING_TOKEN_MESSAGE:
            raise
        with _sessions_lock:
            first = not _missing_token_reported
            _missing_token_reported = True
        if first:
            raise
        raise ConfigurationError(
            "No Nodion API token is configured (see the first error for how to set it)."
        ) from None
    with _sessions_lock:
        session = _sessions.get(settings)
        if session is None:
            session = _sessions[settings] = Session(client_for(settings))
        return session


# The methods the engine calls, through the SDK's provider host.
_OPERATIONS = ("check", "diff", "create", "read", "update", "delete")
_F = TypeVar("_F", bound=Callable[..., Any])


def _message_last(operation: _F) -> _F:
    """Raise our errors without the frames that led to them.

    The SDK's provider host prints the whole traceback of a failed operation, and the CLI
    shows it above the message: a dozen lines of our client's internals before the one line
    that says what to do. Our errors carry everything in their message, so they leave with
    the traceback cut and no chained cause; anything else (a bug) keeps its full traceback.
    """

    @functools.wraps(operation)
    def run(*args: Any, **kwargs: Any) -> Any:
        try:
            return operation(*args, **kwargs)
        except NodionError as error:
            raise error.with_traceback(None) from None

    return cast("_F", run)


class NodionProvider(ResourceProvider):
    """Base of the package's dynamic providers."""

    # The pickled provider holds no secret, so it need not be stored encrypted; this keeps
    # every resource's state small.
    serialize_as_secret_always = False

    # The name this provider is stored under in every resource's state: one of
    # nodion_pulumi.state.KINDS, permanent.
    kind: ClassVar[str]

    _config: dict[str, Any] | None = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        for name in _OPERATIONS:
            if name in cls.__dict__:
                setattr(cls, name, _message_last(cls.__dict__[name]))

    def configure(self, req: ConfigureRequest) -> None:
        self._config = {key: req.config.get(key) for key in CONFIG_KEYS}

    @property
    def session(self) -> Session:
        return _session_for(self._config or {})

    @property
    def owners(self) -> Owners:
        """The process's record of which registries' credentials the run creates."""
        return _owners

    def configuration_failures(
        self, olds: Mapping[str, Any], news: Mapping[str, Any]
    ) -> list[CheckFailure]:
        """A missing token or a bad setting, as a check failure of a resource about to be
        written: the preview reports it before the first write of an `up` instead of the
        `up` stopping halfway. A resource that stays as it is needs no request, so it
        reports nothing (an `up` without changes works without a token, as before)."""
        if olds and all(olds.get(key) == news.get(key) for key in news):
            return []
        try:
            _ = self.session
        except ConfigurationError as error:
            return [CheckFailure("", str(error))]
        return []

    def api_failures(self, look: Callable[[Session], list[CheckFailure]]) -> list[CheckFailure]:
        """Checks at preview that ask Nodion, for a resource about to be created.

        A Nodion that cannot be reached, or that refuses the token, becomes the check's
        failure: one line naming the URL or the setting to fix, shown at preview, instead of
        an error with the SDK's frames at the first write of an `up`.
        """
        try:
            return look(self.session)
        except NodionError as error:
            return [CheckFailure("", str(error))]

    def __reduce__(self) -> tuple[Callable[[str], NodionProvider], tuple[str]]:
        """Pickle as ``nodion_pulumi.state.provider(kind)``: the permanent state contract,
        so the class may move, and no instance state, so neither the configuration nor a
        dictionary is pickled (the SDK's dictionary writer costs one frame per dynamic
        resource already declared; a provider that writes none costs the same at any
        number of resources)."""
        return (provider, (self.kind,))
