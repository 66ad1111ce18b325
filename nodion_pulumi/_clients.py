"""Superseded by :mod:`nodion_pulumi._runtime`, which owns the process's clients; kept only
until the lookups ask the runtime (``current().client(config)``) themselves."""

from __future__ import annotations

from typing import TYPE_CHECKING

from nodion_pulumi._runtime import current

if TYPE_CHECKING:
    from nodion_pulumi._client import NodionClient
    from nodion_pulumi._config import Settings

__all__ = ["client_for"]


def client_for(settings: Settings) -> NodionClient:
    """The process's client for ``settings`` (see :meth:`Runtime.client_for`)."""
    return current().client_for(settings)
