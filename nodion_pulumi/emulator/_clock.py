"""Timestamps in the format the Nodion API uses (milliseconds and a numeric offset).

Each emulator reads the time from its own clock, the system's unless one is given: a test
that needs ``updated_at`` to move gives a clock it advances, instead of sleeping until the
next millisecond (or patching the process's clock under the emulator's thread).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone, tzinfo

__all__ = ["Clock", "iso_timestamp", "system_time"]

Clock = Callable[[], datetime]
"""Where an emulator reads the time: a function returning an aware ``datetime``."""


def _zone() -> tzinfo:
    # Nodion answers in Berlin time; without tzdata installed UTC keeps the format valid.
    try:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError
    except ImportError:  # pragma: no cover - zoneinfo exists on every supported Python
        return timezone.utc
    try:
        return ZoneInfo("Europe/Berlin")
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return timezone.utc


_ZONE = _zone()


def system_time() -> datetime:
    return datetime.now(_ZONE)


def iso_timestamp(moment: datetime) -> str:
    """``moment`` as Nodion writes it, e.g. ``2025-01-15T10:00:00.000+01:00``."""
    return moment.astimezone(_ZONE).isoformat(timespec="milliseconds")
