"""Writes whose answer was lost: finding out what Nodion did, for both resources.

A write whose answer never arrived (a timeout, a reset connection, a gateway's 500, 502 or
504: ``_retry.may_have_been_applied``) may have been carried out. Sending it again blindly
would do it twice, and giving up would leave something behind that no state knows about:

- a registry create: the registry may exist; it is recognised by a look at the list and
  kept, or created again when it is not there;
- a credentials mint: the credentials may exist, and nobody can ever know their password;
  they are revoked and minted again;
- a credentials revoke: it may still land, and if it landed after the registry's next mint
  it would revoke the new set. It is settled (seen to have landed, or sent again and
  answered) before that mint may start.

Every lost answer is followed by a look, a bounded number of times; a look that fails says
what may have been left behind and the way out.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, TypeVar

from nodion_pulumi._errors import (
    CredentialsLostError,
    NoCredentialsError,
    NodionError,
    NodionTimeoutError,
    RegistryCreateLostError,
)
from nodion_pulumi._ownership import revoke_command
from nodion_pulumi._warnings import warn

if TYPE_CHECKING:
    from nodion_pulumi._models import Credentials, Registry
    from nodion_pulumi._session import Session

__all__ = [
    "CLOCK_SKEW",
    "LOOK_INTERVAL",
    "LOST_REVOKE_GRACE",
    "RECOVERY_ATTEMPTS",
    "create_credentials",
    "create_registry",
    "look_after_lost_answer",
    "settle_lost_revoke",
]

T = TypeVar("T")
# Seconds between two looks while a timed-out write may still be carried out.
LOOK_INTERVAL = 1.0
# How often a lost write is looked for and sent again, within one operation.
RECOVERY_ATTEMPTS = 3
# How long a timed-out revoke may still land, in request timeouts: it is looked for that
# long before it is sent again, since a late one must never meet the next mint.
LOST_REVOKE_GRACE = 3.0
# How far Nodion's clock may lag ours when recognising a registry we just created.
CLOCK_SKEW = timedelta(minutes=10)


def look_after_lost_answer(
    session: Session, error: NodionError, look: Callable[[], T], *, seconds: float
) -> T:
    """``look()`` now, and after a timed-out write keep looking for up to ``seconds`` until
    it finds something: Nodion may still be carrying out the request we gave up on.

    Other lost answers (a reset or dropped connection, a gateway error) mean the server is
    done with the request, so one look tells the truth.
    """
    waiting = seconds if isinstance(error, NodionTimeoutError) else 0.0
    deadline = session.clock() + waiting
    while True:
        found = look()
        if found or session.clock() >= deadline:
            return found
        session.sleep(LOOK_INTERVAL)


# -- a registry create -----------------------------------------------------------------


def create_registry(session: Session, fields: Mapping[str, str | None]) -> Registry:
    """Create an external registry; when the answer is lost, find the registry the create
    made, or make it (never a duplicate).

    ``fields`` are the create's (name, registry_type, hostname, username, password).
    """
    from nodion_pulumi._retry import may_have_been_applied

    started = datetime.now(timezone.utc) - CLOCK_SKEW
    try:
        return session.create_registry(fields)
    except NodionError as error:
        if not may_have_been_applied(error):
            raise
        return _recover_registry_create(session, fields, started, error)


def _recover_registry_create(
    session: Session,
    fields: Mapping[str, str | None],
    started: datetime,
    error: NodionError,
) -> Registry:
    """After a create whose answer was lost: find the registry it made, or make it.

    ``started`` is a time before the first attempt, allowing for Nodion's clock.
    """
    from nodion_pulumi._retry import may_have_been_applied

    name = str(fields["name"])
    for _ in range(RECOVERY_ATTEMPTS):
        found = _made_by_lost_create(session, fields, started, error)
        if found is not None:
            return found
        try:
            return session.create_registry(fields)  # it was not carried out: now
        except NodionError as again:
            if not may_have_been_applied(again):
                raise
            error = again
    found = _made_by_lost_create(session, fields, started, error)
    if found is not None:
        return found
    raise RegistryCreateLostError(
        f"creating registry {name!r}: the answer was lost {RECOVERY_ATTEMPTS + 1} times in "
        f"a row (last: {error}) and Nodion shows no registry made by these attempts. Run "
        "`pulumi up` again.",
        name=name,
    )


def _made_by_lost_create(
    session: Session, fields: Mapping[str, str | None], started: datetime, error: NodionError
) -> Registry | None:
    """The registry a create whose answer was lost made, or None if it made none.

    Fails with what to do when that cannot be told: the registry may exist, and the next
    `up` would create it again."""
    name = str(fields["name"])
    wanted = (name, fields["registry_type"], fields.get("hostname"))

    def look() -> list[Registry]:
        return session.unclaimed(
            r
            for r in session.registries_now()
            if not r.is_nodion
            and (r.name, r.registry_type, r.hostname) == wanted
            and r.created_at >= started
        )

    try:
        candidates = look_after_lost_answer(session, error, look, seconds=session.settings.timeout)
    except NodionError as listing:
        raise RegistryCreateLostError(
            f"creating registry {name!r}: the answer was lost ({error}), and looking for "
            f"what Nodion made failed too ({listing}). If a registry named {name!r} appears "
            "in the Nodion dashboard, set adopt_id to its id on this resource; otherwise "
            "run `pulumi up` again.",
            name=name,
        ) from listing
    if len(candidates) == 1 and session.claim(candidates[0].id):
        warn(
            f"creating registry {name!r}: the answer was lost ({error}); "
            f"recognised the registry Nodion created ({candidates[0].id}) and kept it"
        )
        return candidates[0]
    if len(candidates) > 1:
        ids = [r.id for r in candidates]
        raise RegistryCreateLostError(
            f"creating registry {name!r}: the answer was lost ({error}) and "
            f"several recent registries match it ({', '.join(ids)}). Delete the extra ones "
            "in the Nodion dashboard, or set adopt_id to the one to keep, and run `pulumi up` "
            "again.",
            name=name,
            candidate_ids=ids,
        )
    if isinstance(error, NodionTimeoutError):
        raise RegistryCreateLostError(
            f"creating registry {name!r} timed out ({error}) and Nodion has not "
            "shown it since: it may still appear. If a registry with this name, type "
            "and hostname shows up in the Nodion dashboard, set adopt_id to its id on "
            "this resource; otherwise run `pulumi up` again.",
            name=name,
        )
    return None


# -- a credentials mint ----------------------------------------------------------------


def create_credentials(session: Session, registry_id: str) -> Credentials:
    """Mint the registry's credentials; when the answer is lost, make sure nobody is left
    holding a set whose password no one knows, and mint one we do see."""
    from nodion_pulumi._retry import may_have_been_applied

    try:
        return session.create_credentials(registry_id)
    except NodionError as error:
        if not may_have_been_applied(error):
            raise
        return _recover_credentials_create(session, registry_id, error)


def _recover_credentials_create(
    session: Session, registry_id: str, error: NodionError
) -> Credentials:
    """After a mint whose answer was lost: if Nodion minted credentials, nobody can ever
    know their password, so revoke them and mint new ones we do see. Bounded: a connection
    that keeps losing answers ends in an error that says what to do."""
    from nodion_pulumi._retry import may_have_been_applied

    for _ in range(RECOVERY_ATTEMPTS):
        if _minted(session, registry_id, error):
            _revoke_unheld(session, registry_id, error)
            warn(
                f"the credentials generated for registry {registry_id} were lost in "
                f"transit ({error}); they were revoked and are generated again"
            )
        try:
            return session.create_credentials(registry_id)
        except NodionError as again:
            if not may_have_been_applied(again):
                raise
            error = again
    # Leave nothing behind that nobody can use: the next `up` then starts clean.
    left = "Nodion shows none generated"
    if _minted(session, registry_id, error):
        _revoke_unheld(session, registry_id, error)
        left = "what Nodion generated was revoked"
    raise CredentialsLostError(
        f"generating credentials for registry {registry_id}: the answer was lost "
        f"{RECOVERY_ATTEMPTS + 1} times in a row (last: {error}); {left}. Run `pulumi up` "
        "again."
    )


def _minted(session: Session, registry_id: str, error: NodionError) -> bool:
    """Whether the mint whose answer was lost generated credentials; fails with the way
    out when Nodion cannot be asked."""

    def has_credentials() -> bool:
        registry = session.registry_now(registry_id)
        return registry is not None and registry.has_credentials

    try:
        return look_after_lost_answer(
            session, error, has_credentials, seconds=session.settings.timeout
        )
    except NodionError as lookup:
        registry = session.registry_ref(registry_id)
        raise CredentialsLostError(
            f"generating credentials for registry {registry}: the answer was lost ({error}), "
            f"and asking Nodion whether it generated them failed too ({lookup}). If it did, "
            "nobody holds their password and the next preview refuses the registry as "
            f"another owner's: revoke them with `{revoke_command(registry)}`, then run "
            "`pulumi up` again."
        ) from lookup


def _revoke_unheld(session: Session, registry_id: str, error: NodionError) -> None:
    """Revoke credentials whose password was lost; fail with the way out if that fails."""
    try:
        session.revoke_credentials(registry_id)
    except NoCredentialsError:
        return  # revoked meanwhile: nothing is left behind
    except NodionError as failure:
        registry = session.registry_ref(registry_id)
        raise CredentialsLostError(
            f"Nodion generated credentials for registry {registry}, but the answer was lost "
            f"({error}), so their password can never be shown again, and revoking them "
            f"through the API failed ({failure}). Revoke them with "
            f"`{revoke_command(registry)}` (or in the Nodion dashboard) and run `pulumi up` "
            "again to generate new ones."
        ) from failure


# -- a credentials revoke --------------------------------------------------------------


def settle_lost_revoke(session: Session, registry_id: str, error: NodionError) -> None:
    """Make sure a revoke whose answer was lost is done, and will not land later.

    Called by :meth:`Session.revoke_credentials`, which holds the registry's credentials
    until this returns, so no mint starts meanwhile. A timed-out revoke is looked for
    (``has_credentials`` false means it landed) for :data:`LOST_REVOKE_GRACE` request
    timeouts before it is sent again, so that the one sent first has had its time to land;
    a revoke that is answered is done.
    """
    from nodion_pulumi._retry import may_have_been_applied

    for _ in range(RECOVERY_ATTEMPTS):
        if _revoked(session, registry_id, error):
            return
        try:
            session.resend_revoke(registry_id)
            return
        except NoCredentialsError:
            return  # the lost one landed meanwhile
        except NodionError as again:
            if not may_have_been_applied(again):
                raise
            error = again
    if _revoked(session, registry_id, error):
        return
    registry = session.registry_ref(registry_id)
    raise NodionError(
        f"revoking the credentials of registry {registry}: the answer was lost "
        f"{RECOVERY_ATTEMPTS + 1} times in a row (last: {error}) and Nodion still shows "
        "credentials. Run `pulumi up` again; if it keeps failing, revoke them with "
        f"`{revoke_command(registry)}`."
    )


def _revoked(session: Session, registry_id: str, error: NodionError) -> bool:
    """Whether the registry shows no credentials (any more), looking for a while after a
    timeout. A look that fails tells nothing: the revoke is then sent again."""

    def gone() -> bool:
        try:
            registry = session.registry_now(registry_id)
        except NodionError:
            return False
        return registry is None or not registry.has_credentials

    grace = LOST_REVOKE_GRACE * session.settings.timeout
    return look_after_lost_answer(session, error, gone, seconds=grace)
