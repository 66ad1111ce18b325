"""The plugin's property values as the package's providers see them, and back.

The engine speaks to a plugin in camelCase ``PropertyValue`` maps, with secrets and
unknowns marked on each value; the package's provider logic (the dynamic providers) takes
plain snake_case dictionaries, where a value not known yet during preview is the engine's
wire sentinel (:data:`nodion_pulumi._unknowns.UNKNOWN`) and secrecy is the resource's
business. These functions are the whole translation: top-level names only (the keys inside
``triggers`` are the user's and stay as written).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping, Sequence
from typing import Any

from pulumi.provider.experimental.property_value import Computed, PropertyValue

from nodion_pulumi._unknowns import UNKNOWN

__all__ = ["camel", "from_engine", "plain_values", "snake", "to_engine"]

#: Outputs the engine must store encrypted, whatever the inputs were (DESIGN 3).
SECRET_OUTPUTS = frozenset({"password", "docker_config_json"})


def snake(name: str) -> str:
    """``registryType`` -> ``registry_type``."""
    return re.sub(r"[A-Z]", lambda m: "_" + m.group().lower(), name)


def camel(name: str) -> str:
    """``registry_type`` -> ``registryType``."""
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def _plain(value: PropertyValue) -> Any:
    inner = value.value
    if isinstance(inner, Computed):
        return UNKNOWN
    if isinstance(inner, Mapping):
        return {key: _plain(item) for key, item in inner.items()}
    if isinstance(inner, Sequence) and not isinstance(inner, str):
        return [_plain(item) for item in inner]
    if isinstance(inner, float) and inner.is_integer():
        return int(inner)  # the wire has one number type; ids and counts are integers
    return inner


def plain_values(properties: Mapping[str, PropertyValue]) -> dict[str, Any]:
    """The engine's map with plain values, under the names it has. Nulls are left out: to
    the providers a property the program does not set is absent."""
    plain = {key: _plain(value) for key, value in properties.items()}
    return {key: value for key, value in plain.items() if value is not None}


def from_engine(properties: Mapping[str, PropertyValue]) -> dict[str, Any]:
    """The engine's camelCase map as the plain snake_case dictionary the providers take."""
    return {snake(key): value for key, value in plain_values(properties).items()}


def _value(value: Any) -> PropertyValue:
    # A value not known yet leaves as the wire's sentinel string (UNKNOWN), which is how
    # the engine sends it and reads it back: the SDK cannot marshal its own ``Computed``
    # (a preview with ``triggers: {image: ${build.digest}}`` would fail with its stack).
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return PropertyValue(value)
    if isinstance(value, int | float):
        return PropertyValue(float(value))
    if isinstance(value, Mapping):
        return PropertyValue({str(key): _value(item) for key, item in value.items()})
    if isinstance(value, Sequence):
        return PropertyValue([_value(item) for item in value])
    raise TypeError(f"cannot send a {type(value).__name__} to the engine")


def to_engine(
    values: Mapping[str, Any], secret: Collection[str] = SECRET_OUTPUTS
) -> dict[str, PropertyValue]:
    """A providers' snake_case dictionary as the engine's camelCase map, the names in
    ``secret`` (snake_case) marked secret. Nulls are left out, as the engine leaves out
    properties a resource does not have."""
    return {
        camel(key): _value(value).with_secret(key in secret)
        for key, value in values.items()
        if value is not None
    }
