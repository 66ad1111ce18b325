"""The provider of ``ContainerRegistry``: create, adopt, read, update and delete external
registries through Nodion's Container Registries API.

Moved out of :mod:`nodion_pulumi.container_registry`, which keeps the resource and
re-exports :class:`ContainerRegistryProvider` for ever: state written by 0.1.0 names it
there (``nodion_pulumi.state``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pulumi.dynamic import (
    CheckFailure,
    CheckResult,
    CreateResult,
    DiffResult,
    ReadResult,
    UpdateResult,
)

from nodion_pulumi._errors import NodionError, NotFoundError
from nodion_pulumi._provider import NodionProvider
from nodion_pulumi._recovery import create_registry
from nodion_pulumi._unknowns import is_unknown
from nodion_pulumi._validation import check_registry_inputs

if TYPE_CHECKING:
    from nodion_pulumi._models import Registry
    from nodion_pulumi._session import Session

__all__ = ["ContainerRegistryProvider"]

INPUTS = ("name", "registry_type", "hostname", "username", "password")
# Only used by create; changing or removing it later changes nothing.
ADOPT_ID = "adopt_id"
# Nodion's PATCH changes these in place; a new registry_type needs a new registry.
UPDATABLE = ("name", "hostname", "username", "password")


def _timestamp(value: Any) -> str:
    return str(value.isoformat(timespec="milliseconds"))


def _creation_failures(session: Session, checked: dict[str, Any]) -> list[CheckFailure]:
    """For a registry about to be created: Nodion answers with this URL and token, and an
    ``adopt_id`` names a registry it can take over (adoption happens at creation only). One
    list call, shared by the run."""
    adopt_id = checked.get(ADOPT_ID)
    if not isinstance(adopt_id, str) or is_unknown(adopt_id):
        session.prove_access()
        return []
    existing = session.registry_identity(adopt_id)
    problem = _adoption_problem(adopt_id, existing, checked.get("registry_type"))
    return [CheckFailure(ADOPT_ID, problem)] if problem else []


def _adoption_problem(registry_id: str, existing: Registry | None, wanted: Any) -> str | None:
    """Why ``adopt_id`` cannot take over ``existing``, or None when it can."""
    if existing is None:
        return (
            f"there is no registry {registry_id} to adopt; remove adopt_id to create a new "
            "registry, or list registries with nodion.get_container_registries()"
        )
    if existing.is_nodion:
        return (
            f"registry {registry_id} is a Nodion registry ({existing.hostname}), which "
            "ContainerRegistry cannot manage or adopt. Remove this resource; read the "
            "registry with nodion.get_nodion_registry(region) and get its login from a "
            "nodion.RegistryCredentials"
        )
    if not is_unknown(wanted) and existing.registry_type != wanted:
        return (
            f"registry {registry_id} is of type {existing.registry_type!r}, but "
            f"registry_type is {wanted!r}; set registry_type={existing.registry_type!r} "
            "to adopt it"
        )
    return None


def _outputs(registry: Registry, username: Any, password: Any) -> dict[str, Any]:
    return {
        "name": registry.name,
        "registry_type": registry.registry_type,
        "hostname": registry.hostname,
        "username": username,
        "password": password,
        "status": registry.status,
        "has_credentials": registry.has_credentials,
        "region_id": registry.region_id,
        "created_at": _timestamp(registry.created_at),
        "updated_at": _timestamp(registry.updated_at),
    }


class ContainerRegistryProvider(NodionProvider):
    """CRUD of external registries through Nodion's Container Registries API."""

    kind = "registry"  # in the state: nodion_pulumi.state.provider("registry")

    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        inputs = {key: news.get(key) for key in (*INPUTS, ADOPT_ID) if news.get(key) is not None}
        checked, failures = check_registry_inputs(inputs, is_unknown)
        found = [CheckFailure(f.field, f.reason) for f in failures]
        found += self.configuration_failures(olds, news)
        if not found and not olds:
            found += self.failures_from_nodion(lambda session: _creation_failures(session, checked))
        return CheckResult(checked, found)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        changed = [
            key for key in INPUTS if is_unknown(news.get(key)) or olds.get(key) != news.get(key)
        ]
        replaces = [key for key in changed if key == "registry_type"]
        # PATCH can set a login but not remove one: dropping it needs a new registry.
        replaces += [
            key
            for key in ("username", "password")
            if olds.get(key) is not None and news.get(key) is None
        ]
        return DiffResult(
            changes=bool(changed),
            replaces=replaces,
            stables=[key for key in INPUTS if key not in changed],
            delete_before_replace=False,
        )

    def create(self, props: dict[str, Any]) -> CreateResult:
        if props.get(ADOPT_ID):
            return self._adopt(props[ADOPT_ID], props)
        session = self.session
        registry = create_registry(session, {key: props.get(key) for key in INPUTS})
        return CreateResult(
            registry.id, _outputs(registry, props.get("username"), props.get("password"))
        )

    def _adopt(self, registry_id: str, props: dict[str, Any]) -> CreateResult:
        """Take over an existing external registry and PATCH what differs from the inputs."""
        session = self.session
        existing = session.registry_now(registry_id)
        problem = _adoption_problem(registry_id, existing, props["registry_type"])
        if problem or existing is None:
            raise NodionError(f"adopt_id: {problem}")
        current = {"name": existing.name, "hostname": existing.hostname}
        # The login cannot be read back, so a declared one is always sent.
        changes = {
            key: props.get(key)
            for key in UPDATABLE
            if props.get(key) is not None and current.get(key) != props.get(key)
        }
        registry = existing
        if changes:
            registry = session.update_registry(registry_id, **changes)
        return CreateResult(
            registry.id, _outputs(registry, props.get("username"), props.get("password"))
        )

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        changes = {key: news.get(key) for key in UPDATABLE if olds.get(key) != news.get(key)}
        registry = self.session.update_registry(id_, **changes)
        return UpdateResult(_outputs(registry, news.get("username"), news.get("password")))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        registry = self.session.registry_as_listed(id_)
        if registry is None:
            return ReadResult("", {})
        if registry.is_nodion:
            raise NodionError(
                f"registry {id_} is a Nodion registry ({registry.hostname}): ContainerRegistry "
                "manages external registries only. Look Nodion registries up with "
                "nodion.get_nodion_registry(region) and use nodion.RegistryCredentials"
            )
        # On import there is no prior state: Nodion does not reveal the login, so it stays
        # unset until the program sets it (the next update then sends it).
        imported = not props.get("created_at")
        username = None if imported else props.get("username")
        password = None if imported else props.get("password")
        outs = _outputs(registry, username, password)
        inputs = {key: outs[key] for key in INPUTS if outs[key] is not None}
        return ReadResult(id_, outs, inputs)

    def delete(self, id_: str, _props: dict[str, Any]) -> None:
        try:
            self.session.delete_registry(id_)
        except NotFoundError:
            return  # already gone (deleted outside Pulumi, or a retried DELETE that succeeded)


_PROVIDER = ContainerRegistryProvider()
