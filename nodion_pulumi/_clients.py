"""One :class:`NodionClient` per settings and process, shared by providers and lookups.

A client owns a connection pool. Whatever in a process talks to the same Nodion project
with the same token (the providers' sessions, the lookups of a program, a test or a script
driving both) therefore asks here instead of building its own client, and reuses the
connections the first one opened. The client module (httpx, pydantic) is imported on the
first request for a client, so importing this module costs nothing.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from nodion_pulumi._client import NodionClient
    from nodion_pulumi._config import Settings

__all__ = ["client_for"]

_clients: dict[Settings, NodionClient] = {}
_lock = threading.Lock()


def client_for(settings: Settings) -> NodionClient:
    """The process's client for ``settings``, created on first use.

    A client that was closed (by a caller tidying up) is replaced, not handed out: it
    would refuse every request.
    """
    with _lock:
        client = _clients.get(settings)
        if client is None or client.closed:
            from nodion_pulumi._client import NodionClient

            client = _clients[settings] = NodionClient(settings)
        return client
