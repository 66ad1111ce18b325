"""Advice for Pulumi users, added to an error at the Pulumi boundary.

The client's exceptions state facts (what failed, the status, Nodion's messages); what a
Pulumi user should do about them (``pulumi refresh``, the configuration key to change, the
other stack that owns a registry's credentials) belongs to the Pulumi layer. :func:`advise`
is the one place that renders that advice, from the error's type and fields. It is called
where an error leaves this package towards Pulumi: the providers' operation wrapper and the
lookups. A plain :class:`~nodion_pulumi._client.NodionClient` user never gets it.
"""

from __future__ import annotations

from typing import TypeVar

from nodion_pulumi._config import DEFAULT_API_URL
from nodion_pulumi._errors import (
    AuthenticationError,
    CredentialsAlreadyExistError,
    NodionConnectionError,
    NodionError,
    NoNodionAPIError,
    NotNodionRegistryError,
    PermissionDeniedError,
)
from nodion_pulumi._facts import REFRESH_WITH_PROGRAM
from nodion_pulumi._ownership import RegistryRef, ways_on

__all__ = ["URL_SETTING", "advice_for", "advise"]

# Where to change the API URL, named by every message about reaching the wrong place.
URL_SETTING = "`nodion:apiUrl` (or NODION_API_URL)"

_E = TypeVar("_E", bound=NodionError)


def advise(error: _E) -> _E:
    """Set ``error.advice`` for a Pulumi user and return the same error.

    Calling it twice is harmless: the advice is computed from the error, not appended.
    """
    error.advice = advice_for(error)
    return error


def advice_for(error: NodionError) -> str | None:
    """What a Pulumi user should do about ``error``, or None when its facts say it all."""
    if isinstance(error, NodionConnectionError):
        if error.request_sent and error.method == "POST":
            return "Check the current state, e.g. with `pulumi refresh`, before retrying"
        if not error.request_sent:
            # Nothing answered at all: the URL is the usual suspect, then a stopped server.
            return (
                f"Check {URL_SETTING}, and that the API (or `nodion-pulumi emulator`) is "
                "running there"
            )
        return None
    if isinstance(error, NoNodionAPIError):
        if not error.api_url.endswith("/v1"):
            return f"The URL lacks the API version: set {URL_SETTING} to {error.api_url}/v1"
        return f"Check {URL_SETTING}; the default is {DEFAULT_API_URL}"
    if isinstance(error, AuthenticationError):
        return (
            "Check the API token in `nodion:apiToken` or NODION_API_TOKEN; after changing "
            f"`nodion:apiToken`, refresh with `{REFRESH_WITH_PROGRAM}` (a plain refresh uses "
            "the configuration of the last `pulumi up`)"
        )
    if isinstance(error, PermissionDeniedError):
        return (
            "The API token is not allowed to do this; check that it belongs to the project "
            "(`nodion:projectId` / NODION_PROJECT_ID)"
        )
    if isinstance(error, CredentialsAlreadyExistError):
        return (
            "Usually another RegistryCredentials owns them, in this stack or another one (a "
            "registry has one set of credentials); the preview could not see it, e.g. because "
            f"both were created at once. {ways_on(RegistryRef(error.registry_id or '?'))}"
        )
    if isinstance(error, NotNodionRegistryError):
        return (
            'Set registry_id to a Nodion registry, e.g. `nodion.get_nodion_registry("fra").id`;'
            " an external registry's login is the username and password of its "
            "ContainerRegistry"
        )
    return None
