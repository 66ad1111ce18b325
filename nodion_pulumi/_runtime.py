"""The one owner of this process's state: settings, clients, sessions, owners, verification.

Whatever in a process talks to Nodion (the providers' sessions, the lookups of a program, a
script driving both) asks :func:`current` instead of building its own client, so connections
are reused and a client that was closed is replaced for everyone at once. The engine
configures each provider with the stack's configuration; the settings of one configuration
are resolved once, and a configuration error is stored and raised the same way every time.

Tests get a fresh owner with :func:`isolated` (or :func:`reset`), as stamina's
``set_testing`` does, instead of patching module attributes.

The client module (httpx, pydantic) is imported on the first request for a client, so the
engine's provider process, which imports this when it unpickles a provider, pays nothing.
"""

from __future__ import annotations

import copy
import os
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from nodion_pulumi._config import (
    CONFIG_KEYS,
    ENV_API_TOKEN,
    ENV_API_URL,
    ENV_PROJECT_ID,
    ENV_TIMEOUT,
    ENV_VERIFY_CREDENTIALS,
    Settings,
    resolve_settings,
)
from nodion_pulumi._errors import ConfigurationError
from nodion_pulumi._ownership import Owners
from nodion_pulumi._session import Session

if TYPE_CHECKING:
    import httpx

    from nodion_pulumi._client import NodionClient

__all__ = [
    "Runtime",
    "current",
    "isolated",
    "reset",
]

# The variables settings are read from, after the stack configuration.
_SETTINGS_ENVIRONMENT = (
    ENV_API_TOKEN,
    ENV_API_URL,
    ENV_PROJECT_ID,
    ENV_TIMEOUT,
    ENV_VERIFY_CREDENTIALS,
)


def _hashable(value: Any) -> Any:
    return value if isinstance(value, str | bool | int | float | None) else repr(value)


class Runtime:
    """Everything one process keeps between provider calls.

    ``clock`` and ``sleep`` are what the sessions wait with (looking for the outcome of a
    lost write, aging the run's list); ``environ`` is where settings come from after the
    stack configuration.
    """

    def __init__(
        self,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        self._clock = clock
        self._sleep = sleep
        self._environ: Mapping[str, str] = os.environ if environ is None else environ
        self._lock = threading.Lock()
        self._settings: dict[tuple[Any, ...], Settings | ConfigurationError] = {}
        self._clients: dict[Settings, NodionClient] = {}
        self._sessions: dict[Settings, Session] = {}
        self._verifiers: dict[tuple[Any, ...], httpx.Client] = {}
        self._verification_slots: threading.BoundedSemaphore | None = None
        self._owners = Owners()
        self._warning_sink: Callable[[str], None] | None = None

    @property
    def warning_sink(self) -> Callable[[str], None] | None:
        """Where :func:`nodion_pulumi._warnings.warn` sends a warning, or None for stderr
        (which the engine shows for dynamic providers, and hides for a provider plugin)."""
        return self._warning_sink

    def send_warnings_to(self, sink: Callable[[str], None]) -> None:
        """Send the process's warnings to ``sink``: the provider plugin's engine log."""
        self._warning_sink = sink

    @property
    def owners(self) -> Owners:
        """Which registries' credentials this run holds and is about to create. Needs no
        settings: a check with old inputs records its owner without asking Nodion (and so
        without a token)."""
        return self._owners

    def settings(self, config: Mapping[str, Any]) -> Settings:
        """The settings of a provider configuration (``config`` maps :data:`CONFIG_KEYS` to
        values), then the ``NODION_*`` variables; resolved once per combination. A
        configuration error is kept and raised again, with the same message, on every
        call."""
        key = (
            *(_hashable(config.get(name)) for name in CONFIG_KEYS),
            *(self._environ.get(name) for name in _SETTINGS_ENVIRONMENT),
        )
        with self._lock:
            known = self._settings.get(key)
        if known is None:
            try:
                known = resolve_settings(config, self._environ)
            except ConfigurationError as error:
                known = error
            with self._lock:
                known = self._settings.setdefault(key, known)
        if isinstance(known, ConfigurationError):
            raise copy.copy(known)
        return known

    def client(self, config: Mapping[str, Any]) -> NodionClient:
        """The process's client for a configuration's settings."""
        return self.client_for(self.settings(config))

    def client_for(self, settings: Settings) -> NodionClient:
        """The process's client for ``settings``, created on first use. A client that was
        closed (by a caller tidying up) is replaced, for every session at once."""
        with self._lock:
            client = self._clients.get(settings)
            if client is None or client.closed:
                from nodion_pulumi._client import NodionClient

                client = self._clients[settings] = NodionClient(settings)
            return client

    def session(self, config: Mapping[str, Any]) -> Session:
        """The session of a configuration's settings, shared by every provider of the
        process; it reaches Nodion through :meth:`client_for` on every call."""
        settings = self.settings(config)
        with self._lock:
            session = self._sessions.get(settings)
            if session is None:
                session = self._sessions[settings] = Session(
                    settings,
                    lambda: self.client_for(settings),
                    clock=self._clock,
                    sleep=self._sleep,
                )
            return session

    def verifier_client(self, timeout: float) -> httpx.Client:
        """The HTTP client that asks registries whether credentials work: one per proxy
        and CA environment and timeout, so that a refresh of many credentials reuses
        connections and builds one TLS context."""
        from nodion_pulumi._verify import new_verifier_client, verifier_environment

        key = (*verifier_environment(), timeout)
        with self._lock:
            client = self._verifiers.get(key)
            if client is None or client.is_closed:
                client = self._verifiers[key] = new_verifier_client(timeout)
            return client

    @contextmanager
    def verification_slot(self) -> Iterator[None]:
        """Hold one of ``_verify.MAX_CONCURRENT_VERIFICATIONS`` slots: a refresh of many
        credentials asks a few registries at a time, not all at once."""
        with self._lock:
            if self._verification_slots is None:
                from nodion_pulumi._verify import MAX_CONCURRENT_VERIFICATIONS

                self._verification_slots = threading.BoundedSemaphore(MAX_CONCURRENT_VERIFICATIONS)
            slots = self._verification_slots
        with slots:
            yield

    def close(self) -> None:
        """Close every client this runtime made; the runtime stays usable (new clients are
        made on demand)."""
        with self._lock:
            clients = list(self._clients.values())
            verifiers = list(self._verifiers.values())
            self._verifiers.clear()
        for client in clients:
            client.close()
        for verifier in verifiers:
            verifier.close()


_current = Runtime()
_current_lock = threading.Lock()


def current() -> Runtime:
    """The runtime of this process (or of the enclosing :func:`isolated` block)."""
    return _current


def reset() -> None:
    """Start over: close the current runtime's clients and replace it with a fresh one."""
    global _current
    with _current_lock:
        old, _current = _current, Runtime()
    old.close()


@contextmanager
def isolated(
    *,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
    environ: Mapping[str, str] | None = None,
) -> Iterator[Runtime]:
    """A fresh runtime for the block (for tests): nothing is shared with what came before
    or after, and its clients are closed at the end."""
    global _current
    fresh = Runtime(clock=clock, sleep=sleep, environ=environ)
    with _current_lock:
        previous, _current = _current, fresh
    try:
        yield fresh
    finally:
        with _current_lock:
            _current = previous
        fresh.close()
