"""The request log tests use to see exactly which calls a client made.

It records shapes only (method, path, status, top-level body keys) and never a value, so a test
can assert that no secret was sent where it should not be without the log itself leaking one.
"""

from __future__ import annotations

import itertools
import threading
from collections import deque
from typing import Any


class _Log:
    """A bounded, thread-safe list of entries, each numbered in the order it came."""

    def __init__(self, limit: int = 100_000) -> None:
        self._lock = threading.Lock()
        self._entries: deque[dict[str, Any]] = deque(maxlen=limit)
        self._seq = itertools.count(1)

    def _append(self, **entry: Any) -> None:
        with self._lock:
            self._entries.append({"seq": next(self._seq), **entry})

    def entries(self) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(e) for e in self._entries]

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


class RequestLog(_Log):
    """The Nodion API calls the emulator served."""

    def record(
        self,
        *,
        method: str,
        path: str,
        status: int | None,
        fault: str | None,
        body: object,
        project: str | None,
        duration_ms: float,
    ) -> None:
        keys = sorted(str(k) for k in body) if isinstance(body, dict) else []
        self._append(
            method=method,
            path=path,
            status=status,
            fault=fault,
            body_keys=keys,
            project=project,
            duration_ms=round(duration_ms, 3),
        )


class RegistryRequestLog(_Log):
    """What the served registries were asked, kept apart from the Nodion API's log.

    Registry requests are not Nodion API calls (a benchmark counts them apart), and they carry
    passwords and tokens: an entry says which kind of credential came ("none", "basic",
    "bearer"), never the credential, and holds the path without its query.
    """

    def record(self, *, host: str, method: str, path: str, status: int, auth: str) -> None:
        self._append(host=host, method=method, path=path, status=status, auth=auth)
