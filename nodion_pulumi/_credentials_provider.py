"""The provider of ``RegistryCredentials``: generate, check, verify and revoke the
credentials of a Nodion registry.

Moved out of :mod:`nodion_pulumi.registry_credentials`, which keeps the resource and
re-exports :class:`RegistryCredentialsProvider` for ever: state written by 0.1.0 names it
there (``nodion_pulumi.state``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from pulumi.dynamic import CheckFailure, CheckResult, CreateResult, DiffResult, ReadResult

from nodion_pulumi._config import CONFIG_VERIFY_CREDENTIALS
from nodion_pulumi._errors import (
    MethodNotAllowedError,
    NoCredentialsError,
    NodionError,
    NotFoundError,
)
from nodion_pulumi._facts import REFRESH_WITH_PROGRAM
from nodion_pulumi._ownership import Owners, RegistryRef, revoke_command, ways_on
from nodion_pulumi._provider import NodionProvider
from nodion_pulumi._recovery import create_credentials
from nodion_pulumi._runtime import current
from nodion_pulumi._unknowns import is_unknown
from nodion_pulumi._validation import check_credentials_inputs
from nodion_pulumi._warnings import warn

if TYPE_CHECKING:
    from nodion_pulumi._models import Registry
    from nodion_pulumi._session import Session
    from nodion_pulumi._verify import Verification

__all__ = ["RegistryCredentialsProvider"]

INPUTS = ("registry_id", "triggers")


def _registry_failures(session: Session, owners: Owners, registry_id: Any) -> list[CheckFailure]:
    """For credentials about to be created: is there a Nodion registry to create them for,
    and would they be its only owner (DESIGN 3b)? One list call, shared by the run, and only
    on creation (no old inputs), so an `up` without changes still makes no request.

    A registry created by the same program has no id yet at preview: its checks wait for
    the `up`, where a create that meets existing credentials fails with
    :class:`CredentialsAlreadyExistError`."""
    if not isinstance(registry_id, str) or is_unknown(registry_id):
        return []
    registry = session.registry_identity(registry_id)
    if registry is None:
        reason = (
            f"there is no registry {registry_id} in this Nodion project. Use the id of a "
            'Nodion registry, e.g. nodion.get_nodion_registry("fra").id'
        )
    elif not registry.is_nodion:
        reason = (
            f"registry {registry_id} ({registry.name}, {registry.hostname}) is an external "
            "registry; Nodion generates credentials for its own registries only. Use "
            'nodion.get_nodion_registry("fra").id; an external registry\'s login is the '
            "username and password of its ContainerRegistry"
        )
    else:
        second_owner = owners.claim(
            RegistryRef(registry.id, registry.hostname), has_credentials=registry.has_credentials
        )
        if second_owner is None:
            return []
        reason = second_owner
    return [CheckFailure("registry_id", reason)]


class RegistryCredentialsProvider(NodionProvider):
    """Generates, tracks and revokes the credentials of one Nodion registry."""

    kind = "credentials"  # in the state: nodion_pulumi.state.provider("credentials")

    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        inputs = {key: news.get(key) for key in INPUTS if news.get(key) is not None}
        checked, failures = check_credentials_inputs(inputs, is_unknown)
        found = [CheckFailure(f.field, f.reason) for f in failures]
        found += self.configuration_failures(olds, news)
        registry_id = checked.get("registry_id")
        if olds:
            owned = olds.get("registry_id")
            if isinstance(owned, str) and not is_unknown(owned):
                self.owners.holds(owned)
        elif not found:
            found += self.failures_from_nodion(
                lambda session: _registry_failures(session, self.owners, registry_id)
            )
        return CheckResult(checked, found)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        changed = [
            key
            for key in INPUTS
            if is_unknown(news.get(key)) or _comparable(olds.get(key)) != _comparable(news.get(key))
        ]
        registry_id = news.get("registry_id")
        if changed and isinstance(registry_id, str) and registry_id == olds.get("registry_id"):
            # The engine checks the replacement next, in this process: it is no second owner.
            self.owners.replacing(registry_id)
        return DiffResult(
            changes=bool(changed),
            replaces=changed,
            stables=[key for key in INPUTS if key not in changed],
            # Nodion allows one set of credentials per registry: revoke, then generate.
            delete_before_replace=True,
        )

    def create(self, props: dict[str, Any]) -> CreateResult:
        registry_id = props["registry_id"]
        session = self.session
        credentials = create_credentials(session, registry_id)
        outs = {
            "registry_id": registry_id,
            "triggers": props.get("triggers"),
            "hostname": credentials.hostname,
            "username": credentials.username,
            "password": credentials.password.get_secret_value(),
            "docker_config_json": credentials.docker_config_json(),
        }
        return CreateResult(registry_id, outs)

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        registry_id = props.get("registry_id") or id_
        if not props.get("password"):
            raise NodionError(
                f"credentials of registry {registry_id} cannot be imported: Nodion shows "
                "their password only once, when they are generated. Declare a "
                "RegistryCredentials without importing it; if the registry already has "
                f"credentials, revoke them first with `{revoke_command(RegistryRef(registry_id))}`."
            )
        session = self.session
        registry = session.registry_as_listed(registry_id)
        if registry is None:
            return ReadResult("", {})  # the registry is gone, and its credentials with it
        if not registry.has_credentials:
            warn(
                f"the credentials of registry {registry_id} ({registry.hostname}) were revoked "
                "outside this stack; they are removed from the state, and the next `pulumi up` "
                "generates new ones"
            )
            return ReadResult("", {})
        if session.settings.verify_credentials and not _still_valid(registry, props):
            return ReadResult("", {})
        outs = {**props, "hostname": registry.hostname}
        inputs = {key: props[key] for key in INPUTS if props.get(key) is not None}
        return ReadResult(id_, outs, inputs)

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        registry_id = props.get("registry_id") or id_
        session = self.session
        try:
            session.revoke_credentials(registry_id)
        except NoCredentialsError:
            pass  # already revoked outside Pulumi
        except NotFoundError:
            if session.registry_now(registry_id) is not None:
                self._warn_manual_revocation(registry_id)
        except MethodNotAllowedError:
            self._warn_manual_revocation(registry_id)

    @staticmethod
    def _warn_manual_revocation(registry_id: str) -> None:
        warn(
            f"Nodion did not accept revoking the credentials of registry {registry_id} "
            "through the API; they were removed from the Pulumi state but stay valid until "
            "you revoke them in the Nodion dashboard."
        )


def _still_valid(registry: Registry, props: Mapping[str, Any]) -> bool:
    """Whether the registry accepts the captured credentials, or cannot say.

    Nodion reports ``has_credentials`` for any set, including one regenerated in the dashboard
    or by another stack; only the registry knows whether the captured password still works.
    Only a refusal (a 401) drops the credentials: a registry that cannot be reached, or a 403
    from a firewall or a rate limit, says nothing about them, and dropping working
    credentials would make the next `up` fail needlessly.
    """
    from nodion_pulumi._verify import Verdict

    verification = _verification(registry, props)
    if verification.verdict is Verdict.REJECTED:
        # The registry still has credentials (has_credentials was true): someone else's.
        warn(
            f"the registry refused the credentials of registry {registry.id} captured in this "
            f"stack ({verification.reason}): they were revoked or regenerated outside this "
            "stack, in the Nodion dashboard or by another stack, and are removed from the "
            "state. Until the set the registry holds now is dealt with, the next preview "
            f"refuses to capture new ones. {ways_on(RegistryRef(registry.id, registry.hostname))}"
        )
        return False
    if verification.verdict is Verdict.UNKNOWN:
        warn(
            f"could not verify the credentials of registry {registry.id} against "
            f"{registry.hostname}: {verification.reason}. They stay in the state. If the "
            "registry is reached through a proxy, check HTTPS_PROXY and NO_PROXY; to skip "
            f"this check, set {CONFIG_VERIFY_CREDENTIALS} to false and run "
            f"`{REFRESH_WITH_PROGRAM}` (a plain refresh uses the configuration of the last "
            "`pulumi up`)."
        )
    return True


def _verification(registry: Registry, props: Mapping[str, Any]) -> Verification:
    """The registry's verdict on the captured credentials; never raises, since a traceback
    would fail the whole refresh: a client that cannot even be built (a missing
    ``SSL_CERT_FILE``, say) is an unknown verdict too."""
    from nodion_pulumi._redact import redact
    from nodion_pulumi._verify import VERIFY_TIMEOUT, Verdict, Verification, verify_credentials

    runtime = current()
    password = str(props["password"])
    with runtime.verification_slot():
        try:
            client = runtime.verifier_client(VERIFY_TIMEOUT)
        except Exception as exc:  # an unknown verdict, never a traceback (DESIGN 3a)
            failure = redact(f"{type(exc).__name__}: {exc}", (password,))
            return Verification(
                Verdict.UNKNOWN,
                f"no client could be built to ask it ({failure}); check SSL_CERT_FILE and "
                "SSL_CERT_DIR",
            )
        return verify_credentials(
            registry.hostname, str(props.get("username") or ""), password, client=client
        )


def _comparable(triggers_or_id: Any) -> Any:
    """Compare mappings by content (the engine may hand them over as different types), and
    no triggers like empty triggers, so that writing ``triggers={}`` rotates nothing."""
    if isinstance(triggers_or_id, Mapping):
        return {str(k): _comparable(v) for k, v in triggers_or_id.items()} or None
    return triggers_or_id


_PROVIDER = RegistryCredentialsProvider()
