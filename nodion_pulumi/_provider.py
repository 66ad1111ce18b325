"""The base of the package's dynamic providers: configuration, the session, preview checks,
and how a provider is stored in the state.

Pulumi pickles a dynamic provider into every resource's state and unpickles it in the
provider process. A provider pickles as ``nodion_pulumi.state.provider(kind)``, the state
contract (see that module): a call of an installed function with a short name, holding
nothing of the instance (no client, no token, no dictionary). ``configure()`` runs in the
provider process with the stack's configuration; everything the provider keeps between
calls (settings, the client, the session, the owners) belongs to the process's runtime
(``nodion_pulumi._runtime``), so connections are reused across resources.

The SDK serializes the provider once per resource it registers (``nodion_pulumi._resource``),
and each serialization wraps pickle's dictionary writer once more, in every SDK of the
supported range; our providers pickle no dictionary, so they never walk that chain
(docs/limits.md).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, ClassVar

from pulumi.dynamic import CheckFailure, ConfigureRequest, ResourceProvider

from nodion_pulumi._config import CONFIG_KEYS
from nodion_pulumi._errors import ConfigurationError, NodionError
from nodion_pulumi._operations import OPERATIONS, report_to_the_engine
from nodion_pulumi._runtime import current
from nodion_pulumi.state import provider

if TYPE_CHECKING:
    from nodion_pulumi._ownership import Owners
    from nodion_pulumi._session import Session

__all__ = ["NodionProvider"]


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
        for name in OPERATIONS:
            if name in cls.__dict__:
                setattr(cls, name, report_to_the_engine(cls.__dict__[name]))

    def configure(self, req: ConfigureRequest) -> None:
        self.use_configuration({key: req.config.get(key) for key in CONFIG_KEYS})

    def use_configuration(self, config: Mapping[str, Any]) -> None:
        """Take the provider's ``nodion:*`` settings (key to value as the stack's
        configuration holds it); the dynamic host's ``configure`` and the provider plugin's
        both end here."""
        self._config = {key: config.get(key) for key in CONFIG_KEYS}

    @property
    def session(self) -> Session:
        """The process's session for this provider's configuration; raises the
        configuration's error (e.g. no token) the same way on every call."""
        return current().session(self._config or {})

    @property
    def owners(self) -> Owners:
        """The process's record of which registries' credentials the run creates."""
        return current().owners

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
            current().settings(self._config or {})
        except ConfigurationError as error:
            return [CheckFailure("", str(error))]
        return []

    def failures_from_nodion(
        self, ask: Callable[[Session], list[CheckFailure]]
    ) -> list[CheckFailure]:
        """Run checks that ask Nodion, for a resource about to be created, at preview.

        A Nodion that cannot be reached, or that refuses the token, becomes the check's
        failure: one line naming the URL or the setting to fix, shown at preview, instead of
        an error with the SDK's frames at the first write of an `up`.
        """
        from nodion_pulumi._advice import advise

        try:
            return ask(self.session)
        except NodionError as error:
            return [CheckFailure("", str(advise(error)))]

    def __reduce__(self) -> tuple[Callable[[str], NodionProvider], tuple[str]]:
        """Pickle as ``nodion_pulumi.state.provider(kind)``: the permanent state contract,
        so the class may move, and no instance state, so neither the configuration nor a
        dictionary is pickled (the SDK's dictionary writer costs one frame per dynamic
        resource already declared; a provider that writes none costs the same at any
        number of resources)."""
        return (provider, (self.kind,))
