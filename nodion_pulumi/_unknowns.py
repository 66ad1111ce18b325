"""Values the engine does not know yet: how a provider tells them apart at preview.

During a preview the engine hands a provider's ``check`` and ``diff`` the outputs of
resources that do not exist yet as placeholders. A check that took a placeholder for a real
value would refuse a valid program or ask Nodion about an id that is not there; so every
check and diff asks :func:`is_unknown` first.

Standard library and the SDK only: the engine's provider process imports this when it
unpickles a provider.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pulumi.output import Unknown

__all__ = ["UNKNOWN", "is_unknown"]

# How the engine marks a value that is not known yet, on the wire.
UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"


def is_unknown(value: Any) -> bool:
    """Whether ``value`` is (or contains) a value the engine does not know yet.

    The SDK hands a provider's ``check`` and ``diff`` unknowns as ``pulumi.output.Unknown``
    objects; the wire sentinel string is accepted too.
    """
    if isinstance(value, Unknown):
        return True
    if isinstance(value, str):
        return value == UNKNOWN
    if isinstance(value, Mapping):
        return any(is_unknown(v) for v in value.values())
    if isinstance(value, list | tuple):
        return any(is_unknown(v) for v in value)
    return False
