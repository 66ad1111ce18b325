"""One owner per registry's credentials: telling a second owner from a rotation at preview.

Nodion keeps one set of credentials per registry, and only the stack that minted them knows
the password. A second ``RegistryCredentials`` for a registry can therefore never succeed:
its create meets the first one's credentials. Refusing it at preview, before any write,
spares the user an `up` that stops halfway.

A dynamic provider's ``check`` receives no URN, so "a new resource for this registry" and
"the replacement of this stack's own credentials" look the same: inputs without old inputs.
The engine tells them apart for us by the order of its calls within one provider process: a
rotation by ``triggers`` is ``check(olds, news)``, then a ``diff`` that answers "replace",
then ``check({}, news)`` for the replacement. :class:`Owners` remembers, per registry, the
replacements that diffs announced and the new owners that checks claimed, under one lock,
because the engine runs checks of different resources concurrently.

A targeted ``pulumi up --replace <urn>`` makes no diff: its check is indistinguishable from a
new owner's, so it is refused with a message that names ``triggers`` as the way to rotate.

Standard library only: the engine's provider process imports this when it unpickles a
provider.
"""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass

from nodion_pulumi._facts import region_slug_of

__all__ = ["REVOKE_COMMAND", "Owners", "RegistryRef", "revoke_command", "ways_on"]

REVOKE_COMMAND = "nodion-pulumi credentials revoke"


@dataclass(frozen=True)
class RegistryRef:
    """What messages name a registry by: its id, and its hostname when a list showed it."""

    id: str
    hostname: str | None = None

    @property
    def handle(self) -> str:
        """The shortest name ``nodion-pulumi credentials revoke`` accepts: the region slug,
        else the id."""
        slug = region_slug_of(self.hostname) if self.hostname else None
        return slug or self.id

    def __str__(self) -> str:
        return f"{self.id} ({self.hostname})" if self.hostname else self.id


def revoke_command(registry: RegistryRef) -> str:
    """The command that revokes the registry's existing credentials."""
    return f"{REVOKE_COMMAND} {registry.handle}"


def ways_on(registry: RegistryRef) -> str:
    """The two ways past a registry whose credentials someone else holds, as the sentence
    every message about ownership ends with."""
    return (
        "Either use the owner's credentials (its outputs in this stack; a "
        "pulumi.StackReference from another stack), or make this stack the owner: "
        f"`{revoke_command(registry)}` (whoever uses the set loses access), then `pulumi up`."
    )


class Owners:
    """Per provider process: which registries' credentials this run is about to create.

    The state is counts, not sets: two resources of one program may rotate credentials of
    two different registries, and each diff that answered "replace" admits exactly one
    creation check for its registry.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._held: set[str] = set()
        self._replacing: Counter[str] = Counter()
        self._claimed: Counter[str] = Counter()

    def holds(self, registry_id: str) -> None:
        """A check with old inputs: a resource of this stack owns the registry's credentials."""
        with self._lock:
            self._held.add(registry_id)

    def replacing(self, registry_id: str) -> None:
        """A diff answered "replace": the next creation check for the registry is the
        replacement, which the engine creates after deleting the old credentials."""
        with self._lock:
            self._replacing[registry_id] += 1

    def claim(self, registry: RegistryRef, *, has_credentials: bool) -> str | None:
        """A check without old inputs, about to create credentials: why it would be a second
        owner of ``registry``'s credentials, or None when it is the only one."""
        with self._lock:
            if self._replacing[registry.id] > 0:
                self._replacing[registry.id] -= 1
                return None
            self._claimed[registry.id] += 1
            rotate = ""
            if self._claimed[registry.id] > 1:
                why = "another RegistryCredentials of this program is about to capture them"
            elif registry.id in self._held:
                why = "a RegistryCredentials already in this stack owns them"
            elif has_credentials:
                why = (
                    "Nodion reports it already has credentials (another stack's, the "
                    "dashboard's, ones this stack lost, or those of a resource this program "
                    "renamed without `aliases`) and shows a password only once"
                )
                rotate = (
                    " To rotate this stack's own credentials, change their `triggers`: "
                    "`pulumi up --replace` looks the same as a second owner here."
                )
            else:
                return None
        return (
            f"registry {registry} cannot get a second owner of its push/pull credentials: "
            f"{why}. {ways_on(registry)}{rotate}"
        )
