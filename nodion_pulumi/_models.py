"""Typed, read-only views of the objects the Container Registries API returns.

The models are tolerant where the API may grow (unknown fields are ignored, an unknown
``registry_type`` is kept as a string so a read never crashes on a new registry kind) and
strict where a wrong value would mislead (timestamps must carry an offset).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any, TypeVar

from pydantic import AwareDatetime, BaseModel, ConfigDict, SecretStr, ValidationError

from nodion_pulumi._errors import InvalidRegistryIdError
from nodion_pulumi._facts import (
    NODION_REGISTRY_TYPE,
    REGISTRY_ID_RULE,
    is_registry_id,
    region_slug_of,
)

__all__ = [
    "Credentials",
    "Registry",
    "ResponseShapeError",
    "parse_credentials",
    "parse_registry",
    "parse_registry_list",
    "validate_registry_id",
]

M = TypeVar("M", bound=BaseModel)

SINGLE_KEY = "container_registry"
LIST_KEY = "container_registries"


class ResponseShapeError(ValueError):
    """A response body that does not have the documented structure.

    The message lists field locations and problems but never the offending values, which
    may include a freshly generated password, nor the keys of the body, which are the
    server's text as much as its values.
    """


class Registry(BaseModel):
    """A container registry as Nodion reports it (Nodion-managed or external)."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    id: str
    status: str
    registry_type: str
    name: str
    hostname: str
    has_credentials: bool
    region_id: str | None = None
    created_at: AwareDatetime
    updated_at: AwareDatetime

    @property
    def is_nodion(self) -> bool:
        """Whether Nodion manages this registry (one per region; credentials via the API)."""
        return self.registry_type == NODION_REGISTRY_TYPE

    @property
    def region_slug(self) -> str | None:
        """The region slug in a ``registry.<slug>.nodion.net`` hostname, else None: the
        lookups find a region's registry by it, never by its display name."""
        return region_slug_of(self.hostname)

    def known_as(self, wanted: str) -> bool:
        """Whether ``wanted`` names this registry's region: its slug, its region id or its
        hostname, case-insensitively. Never its display name, which differs between
        Nodion's documents."""
        wanted = wanted.strip().lower()
        return bool(wanted) and wanted in {
            (self.region_slug or "").lower(),
            (self.region_id or "").lower(),
            self.hostname.lower(),
        }

    def as_output(self) -> dict[str, Any]:
        """The fields as a lookup's result holds them, in a Python program or from the
        plugin: timestamps as ISO 8601 strings with milliseconds and offset, as Nodion
        writes them (an output holds plain values only)."""
        return {
            key: value.isoformat(timespec="milliseconds") if isinstance(value, datetime) else value
            for key, value in self.model_dump().items()
        }


class Credentials(BaseModel):
    """The push/pull credentials of a Nodion registry, returned exactly once.

    ``password`` is a :class:`~pydantic.SecretStr` so that printing or logging the model
    cannot reveal it; call ``password.get_secret_value()`` deliberately.
    """

    model_config = ConfigDict(frozen=True, extra="ignore")

    id: str
    hostname: str
    username: str
    password: SecretStr

    def docker_config(self) -> dict[str, Any]:
        """The ``.dockerconfigjson`` document (what ``docker login`` writes) for these
        credentials, ready for a Kubernetes pull secret or a CI job."""
        username = self.username
        password = self.password.get_secret_value()
        auth = base64.b64encode(f"{username}:{password}".encode()).decode("ascii")
        return {
            "auths": {self.hostname: {"username": username, "password": password, "auth": auth}}
        }

    def docker_config_json(self) -> str:
        """:meth:`docker_config` serialised, with stable key order."""
        return json.dumps(self.docker_config(), sort_keys=True, separators=(",", ":"))


def validate_registry_id(registry_id: object) -> str:
    """Return ``registry_id`` if it is safe to place in a URL path, else raise.

    Raises :class:`~nodion_pulumi._errors.InvalidRegistryIdError` (a ``ValueError``).
    """
    if not is_registry_id(registry_id):
        shown = repr(registry_id) if len(repr(registry_id)) <= 80 else "the given value"
        raise InvalidRegistryIdError(
            f"invalid registry id {shown}: expected the id of a Nodion container registry "
            f"({REGISTRY_ID_RULE}), e.g. 'a1b2c3d4-e5f6-7890-abcd-ef1234567890'"
        )
    return registry_id


def _describe(error: ValidationError, prefix: str) -> str:
    parts = []
    for item in error.errors(include_input=False, include_url=False):
        location = ".".join(str(p) for p in (prefix, *item["loc"]) if p != "")
        parts.append(f"{location}: {item['msg']}")
    return "; ".join(parts[:5]) + ("; ..." if len(parts) > 5 else "")


def _unwrap(payload: Any, key: str) -> Any:
    if not isinstance(payload, Mapping):
        raise ResponseShapeError(f"expected a JSON object with {key!r}, got {_kind(payload)}")
    if key not in payload:
        # The keys are not listed: they are the server's text, like the values (a body
        # {"<token>": 1} would print the token); how many there are tells enough.
        count = f"{len(payload)} other key{'s' if len(payload) != 1 else ''}"
        raise ResponseShapeError(f"missing {key!r} in the response ({count})")
    return payload[key]


def _kind(value: Any) -> str:
    if isinstance(value, Mapping):
        return "an object"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, str):
        return "a string"
    return "null" if value is None else type(value).__name__


def _validated(model: type[M], item: Any, where: str) -> M:
    try:
        return model.model_validate(item)
    except ValidationError as error:
        # Not chained: pydantic's own message quotes the input, which may hold a password.
        raise ResponseShapeError(_describe(error, where)) from None


def parse_registry(payload: Any) -> Registry:
    """A :class:`Registry` from a ``{"container_registry": {...}}`` body."""
    return _validated(Registry, _unwrap(payload, SINGLE_KEY), SINGLE_KEY)


def parse_registry_list(payload: Any) -> list[Registry]:
    """The registries of a ``{"container_registries": [...]}`` body.

    Extra top-level keys (pagination or other metadata) are ignored.
    """
    items = _unwrap(payload, LIST_KEY)
    if not isinstance(items, list):
        raise ResponseShapeError(f"expected {LIST_KEY!r} to be an array, got {_kind(items)}")
    return [_validated(Registry, item, f"{LIST_KEY}.{i}") for i, item in enumerate(items)]


def parse_credentials(payload: Any) -> Credentials:
    """The :class:`Credentials` of a ``{"container_registry": {...}}`` credentials body."""
    return _validated(Credentials, _unwrap(payload, SINGLE_KEY), SINGLE_KEY)
