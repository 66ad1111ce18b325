"""The providers' one way to Nodion: reads named by how fresh they are, writes that keep the
reads honest.

Reads during ``pulumi refresh`` come from one list call shared by all resources of the run
instead of a GET per resource. A write of this process drops that list, so no read returns
what was there before our own write; the write methods do it themselves, so no caller can
forget. A registry missing from the list is confirmed with a GET before it is reported gone.

Three freshness levels, each named by what it answers:

- :meth:`Session.registry_identity`: what a registry *is* (it exists, it is Nodion's, its
  type and hostname), which never changes; any list of the run answers it.
- :meth:`Session.registry_as_listed`: the registry as the run's one list shows it, for
  refresh.
- :meth:`Session.registry_now`, :meth:`Session.registries_now`: as Nodion has it now, for
  recoveries that must see the effect of a write whose answer was lost.

A revoke whose answer was lost is settled before anything new is minted for that registry
(``nodion_pulumi._recovery``): the revoke and the mint of one registry never overlap, so a
late revoke cannot hit the new set.

The session takes its client from the process-state owner on every call, so a client that
was closed is replaced everywhere at once; the clock is injected, so tests move time for
the session alone.
"""

from __future__ import annotations

import copy
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING

from nodion_pulumi._errors import NodionError, NotFoundError
from nodion_pulumi._ownership import RegistryRef

if TYPE_CHECKING:
    # httpx and pydantic load on the first API call, not when the engine unpickles a
    # provider: a preview or an `up` without changes never pays for them.
    from nodion_pulumi._client import NodionClient
    from nodion_pulumi._config import Settings
    from nodion_pulumi._models import Credentials, Registry

__all__ = ["SNAPSHOT_MAX_AGE", "Session"]

# A list older than this is not used: refresh reads all resources within seconds.
SNAPSHOT_MAX_AGE = 30.0


class _Listing:
    """One list call in flight, which every reader of the same generation waits for."""

    def __init__(self, generation: int) -> None:
        self.generation = generation
        self.done = threading.Event()
        self.registries: dict[str, Registry] | None = None
        self.error: NodionError | None = None


class Session:
    """Per settings and process: the way to Nodion, the run's list of registries, the
    registries this process created, and the revokes in progress per registry."""

    def __init__(
        self,
        settings: Settings,
        client: Callable[[], NodionClient],
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.settings = settings
        self._client = client
        self.clock = clock
        self.sleep = sleep
        self._lock = threading.Lock()
        self._generation = 0
        self._snapshot: dict[str, Registry] | None = None
        self._snapshot_generation = -1
        self._snapshot_time = 0.0
        self._listing: _Listing | None = None
        self._reached = False
        # Every registry any answer of this process showed: what a registry is never
        # changes, so checks need no list after each write.
        self._seen: dict[str, Registry] = {}
        # Registries this process created or recovered: a recovery never picks one twice.
        self._claimed: set[str] = set()
        # Per registry, held while its credentials are revoked or minted.
        self._credential_locks: dict[str, threading.Lock] = {}
        # Registries whose revoke lost its answer and could not be settled: it may still
        # land, so nothing is minted for them in this process.
        self._unsettled_revokes: set[str] = set()

    # -- reads --------------------------------------------------------------------------

    def registry_identity(self, registry_id: str) -> Registry | None:
        """The registry as any answer of this run showed it, for checks of what it is (that
        it exists, whether it is Nodion's, its type, its hostname), not of what it holds
        now. Asks Nodion only for an id nothing has shown yet, e.g. a registry created
        earlier in the same `up`."""
        with self._lock:
            seen = self._seen.get(registry_id)
        return seen if seen is not None else self._listed().get(registry_id)

    def registry_as_listed(self, registry_id: str) -> Registry | None:
        """The registry as the run's one list shows it, or None when it no longer exists.

        An id missing from the list is confirmed with a GET: it may have been created after
        the list was taken."""
        found = self._listed().get(registry_id)
        return found if found is not None else self.registry_now(registry_id)

    def registry_now(self, registry_id: str) -> Registry | None:
        """The registry as Nodion has it now, or None when it does not exist."""
        try:
            registry = self._client().get_registry(registry_id)
        except NotFoundError:
            return None
        self._remember((registry,))
        return registry

    def registries_now(self) -> list[Registry]:
        """Every registry as Nodion has it now (a list call of its own, not the run's)."""
        registries = self._client().list_registries()
        self._remember(registries)
        return registries

    def prove_access(self) -> None:
        """Ask Nodion once per process, unless a list call already answered: proves at
        preview that the URL and the token work, so an `up` does not learn it from its first
        write. Later creations in the run cost no request."""
        with self._lock:
            reached = self._reached
        if not reached:
            self._listed()

    def registry_ref(self, registry_id: str) -> RegistryRef:
        """How messages name the registry: with its hostname when an answer of this run
        showed it. Asks nothing, so a message about a failing Nodion can still be built."""
        with self._lock:
            seen = self._seen.get(registry_id)
        return RegistryRef(registry_id, seen.hostname if seen is not None else None)

    # -- writes: each one drops the run's list, whatever its outcome ------------------

    def create_registry(self, fields: Mapping[str, str | None]) -> Registry:
        """Create an external registry from a resource's fields (name, registry_type,
        hostname, username, password); the new registry counts as this process's own."""
        with self._writing():
            registry = self._client().create_registry(
                name=str(fields["name"]),
                registry_type=str(fields["registry_type"]),
                hostname=fields.get("hostname"),
                username=fields.get("username"),
                password=fields.get("password"),
            )
        self.claim(registry.id)
        return registry

    def update_registry(self, registry_id: str, **changes: str | None) -> Registry:
        with self._writing():
            return self._client().update_registry(registry_id, **changes)

    def delete_registry(self, registry_id: str) -> None:
        with self._writing():
            self._client().delete_registry(registry_id)

    def create_credentials(self, registry_id: str) -> Credentials:
        """Mint the registry's credentials; waits for a revoke of the same registry that is
        still being settled, and refuses after one that could not be, so that a late
        revoke cannot hit the new set."""
        with self._credentials_of(registry_id):
            with self._lock:
                unsettled = registry_id in self._unsettled_revokes
            if unsettled:
                raise NodionError(
                    f"generating credentials for registry {self.registry_ref(registry_id)}: "
                    "a revoke of its credentials sent earlier in this run was never answered "
                    "and may still arrive, which would revoke new credentials too. Run "
                    "`pulumi up` again."
                )
            with self._writing():
                return self._client().create_credentials(registry_id)

    def revoke_credentials(self, registry_id: str) -> None:
        """Revoke the registry's credentials. A revoke whose answer was lost is settled here
        (see ``nodion_pulumi._recovery.settle_lost_revoke``) before the registry's next
        mint may start; ``NoCredentialsError`` means there were none to revoke."""
        from nodion_pulumi._recovery import settle_lost_revoke
        from nodion_pulumi._retry import may_have_been_applied

        with self._credentials_of(registry_id), self._writing():
            try:
                self._client().delete_credentials(registry_id, resend_lost_answer=False)
            except NodionError as error:
                if not may_have_been_applied(error):
                    raise
                try:
                    settle_lost_revoke(self, registry_id, error)
                except NodionError:
                    with self._lock:
                        self._unsettled_revokes.add(registry_id)
                    raise

    def resend_revoke(self, registry_id: str) -> None:
        """Send the revoke again without resending a lost answer: for the settlement of a
        lost revoke, which runs inside :meth:`revoke_credentials` and so already keeps the
        registry's mints waiting."""
        with self._writing():
            self._client().delete_credentials(registry_id, resend_lost_answer=False)

    # -- what this process did --------------------------------------------------------

    def claim(self, registry_id: str) -> bool:
        """Count the registry as this process's own; False if it already was, so that two
        recoveries never pick the same registry."""
        with self._lock:
            if registry_id in self._claimed:
                return False
            self._claimed.add(registry_id)
            return True

    def unclaimed(self, registries: Iterable[Registry]) -> list[Registry]:
        """The registries no create or recovery of this process has taken yet."""
        with self._lock:
            return [r for r in registries if r.id not in self._claimed]

    @contextmanager
    def _credentials_of(self, registry_id: str) -> Iterator[None]:
        """Hold the registry's credentials: a revoke and a mint of one registry never run
        at the same time in this process. Reentrant per thread is not needed: a revoke
        never mints and a mint never revokes."""
        with self._lock:
            lock = self._credential_locks.setdefault(registry_id, threading.Lock())
        with lock:
            yield

    # -- the run's list -----------------------------------------------------------------

    @contextmanager
    def _writing(self) -> Iterator[None]:
        """Around a write: forget the run's list afterwards, whether the write succeeded,
        failed or lost its answer (it may have been carried out)."""
        try:
            yield
        finally:
            with self._lock:
                self._generation += 1
                self._snapshot = None

    def _remember(self, registries: Iterable[Registry]) -> None:
        with self._lock:
            self._seen.update((r.id, r) for r in registries)
            self._reached = True

    def _listed(self) -> dict[str, Registry]:
        """The run's list, by id: taken once and shared, dropped by our writes and when
        older than :data:`SNAPSHOT_MAX_AGE`. One call in flight at a time per generation,
        which the other readers wait for without holding the lock."""
        with self._lock:
            if (
                self._snapshot is not None
                and self._snapshot_generation == self._generation
                and self.clock() - self._snapshot_time < SNAPSHOT_MAX_AGE
            ):
                return self._snapshot
            listing = self._listing
            leader = listing is None or listing.generation != self._generation
            if leader:
                listing = self._listing = _Listing(self._generation)
        assert listing is not None
        if not leader:
            listing.done.wait()
            if listing.error is not None:
                raise copy.copy(listing.error)
            if listing.registries is None:  # the leader failed with a bug: try ourselves
                return self._listed()
            return listing.registries
        try:
            registries = {r.id: r for r in self._client().list_registries()}
        except NodionError as error:
            listing.error = error
            raise
        else:
            listing.registries = registries
            with self._lock:
                self._seen.update(registries)
                self._reached = True
                if self._generation == listing.generation:
                    self._snapshot = registries
                    self._snapshot_generation = listing.generation
                    self._snapshot_time = self.clock()
            return registries
        finally:
            with self._lock:
                if self._listing is listing:
                    self._listing = None
            listing.done.set()
