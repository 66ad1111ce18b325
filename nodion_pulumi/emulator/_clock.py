"""Timestamps in the format the Nodion API uses (milliseconds and a numeric offset)."""

from __future__ import annotations

from datetime import datetime, timezone, tzinfo


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


def now_iso() -> str:
    return datetime.now(_ZONE).isoformat(timespec="milliseconds")
