"""Input rules for the resources, checked at preview before any API call.

A bad value found by Nodion only at ``pulumi up`` time fails halfway through a deployment;
found here, it fails ``pulumi preview`` with the field named and the valid choices listed.
Values that are still unknown during preview (outputs of other resources) are accepted:
they are checked again when they are known.

The rules are plain functions over plain dictionaries so that the providers, the policy
pack and the tests share one definition.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from nodion_pulumi._facts import (
    DEFAULT_HOSTNAMES,
    EXTERNAL_REGISTRY_TYPES,
    NODION_REGISTRY_TYPE,
    REGISTRY_ID_RULE,
    is_registry_id,
)

__all__ = [
    "MAX_NAME_LENGTH",
    "UNENCODABLE",
    "Failure",
    "check_credentials_inputs",
    "check_registry_inputs",
    "holds_unencodable_text",
    "hostname_problem",
    "normalized_name",
]

MAX_NAME_LENGTH = 255
MAX_SECRET_LENGTH = 4096
MAX_HOSTNAME_LENGTH = 253

_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_HOST = re.compile(rf"^(?:{_LABEL})(?:\.{_LABEL})*$")
_IPV6 = re.compile(r"^\[[0-9A-Fa-f:.]+\]$")
# C0 and C1 controls, DEL, and the Unicode line and paragraph separators.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")

IsUnknown = Callable[[Any], bool]


@dataclass(frozen=True)
class Failure:
    """One invalid input: the field and a sentence saying what would be valid."""

    field: str
    reason: str


def _never_unknown(_value: Any) -> bool:
    return False


def hostname_problem(hostname: str) -> str | None:
    """Why ``hostname`` is not a bare ``host[:port]``, or None when it is fine.

    Nodion stores the hostname as given and Docker clients prepend it to image names, so a
    scheme, a path or a space would produce image references that no client can pull.
    """
    value = hostname
    if holds_unencodable_text(value):
        return UNENCODABLE
    if not value.strip():
        return "must not be blank; give a registry host such as 'registry.example.com'"
    if "@" in value:
        # Not echoed: the part before "@" is a login, often with a password.
        return (
            "must not contain a login ('user:password@'): give the bare host and set "
            "username and password instead"
        )
    if "://" in value:
        scheme = value.split("://", 1)[0]
        return (
            f"must be a bare host without a scheme: drop '{scheme}://' "
            "(e.g. 'registry.example.com' or 'registry.example.com:5000')"
        )
    if any(ch.isspace() for ch in value) or _CONTROL.search(value):
        return "must not contain spaces or control characters (e.g. 'registry.example.com')"
    if "/" in value:
        return (
            "must be a bare host with an optional port, without a path: "
            f"use '{value.split('/', 1)[0]}' and put the path in the image name"
        )
    if len(value) > MAX_HOSTNAME_LENGTH:
        return f"must be at most {MAX_HOSTNAME_LENGTH} characters long"
    host, port = value, None
    if value.startswith("["):
        end = value.find("]")
        host, rest = value[: end + 1], value[end + 1 :]
        if rest:
            if not rest.startswith(":"):
                return "must be '[ipv6]' or '[ipv6]:port'"
            port = rest[1:]
        if not _IPV6.match(host):
            return "must be a valid bracketed IPv6 address such as '[2001:db8::1]:5000'"
    elif ":" in value:
        host, port = value.rsplit(":", 1)
    if port is not None and not (port.isdigit() and port.isascii() and 1 <= int(port) <= 65535):
        return f"has an invalid port {port!r}: a port is a number from 1 to 65535"
    if not host.isascii():
        return (
            "must be a DNS name or IP address written in ASCII letters, digits, dots and "
            f"hyphens: it holds "
            f"{_described(_first_non_ascii(host))}, which can look like an ASCII character "
            "while naming another host. Write an internationalized name in its IDNA form "
            "('xn--...', e.g. 'xn--bcher-kva.example' for b\u00fccher.example)"
        )
    if not host.startswith("[") and not _HOST.match(host):
        return (
            "must be a DNS name or IP address made of letters, digits, dots and hyphens "
            "(e.g. 'registry.example.com')"
        )
    return None


def _first_non_ascii(text: str) -> str:
    return next(char for char in text if not char.isascii())


def _described(char: str) -> str:
    """A character as a message may show it: its code point and Unicode name, never the
    character itself, which may be invisible or reorder the text of a terminal."""
    return f"U+{ord(char):04X} {unicodedata.name(char, 'an unnamed character')}"


def _format_character(text: str) -> str | None:
    """The first Unicode format character (category Cf: bidi controls, zero-width
    characters, the byte order mark, the soft hyphen) of ``text``, or None."""
    return next((char for char in text if unicodedata.category(char) == "Cf"), None)


def holds_unencodable_text(value: Any) -> bool:
    """Whether ``value`` holds a string UTF-8 cannot encode (a lone surrogate, as a
    mis-decoded file or ``os.fsdecode`` of a bad byte yields), keys and nested values
    included. Such a string passes every other rule and then fails the request or the
    engine's gRPC call with a ``UnicodeEncodeError`` halfway through an ``up``."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return True
        return False
    if isinstance(value, Mapping):
        return any(holds_unencodable_text(k) or holds_unencodable_text(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return any(holds_unencodable_text(item) for item in value)
    return False


UNENCODABLE = (
    "must contain only text that UTF-8 can encode, and holds a lone surrogate (half of a "
    "UTF-16 pair, often from a file read with the wrong encoding): fix the text at its source"
)


def normalized_name(name: str) -> str:
    """A registry name without surrounding whitespace (Unicode whitespace such as U+3000
    and U+00A0 included), as the emulator stores it. The state must hold what Nodion
    holds, or every diff finds a change and every ``up`` sends a PATCH that changes
    nothing; a name sent already trimmed is stored as sent whether Nodion trims or not."""
    return name.strip()


def _text_problem(
    value: Any, *, max_length: int, what: str, refuse_format_characters: bool = False
) -> str | None:
    if not isinstance(value, str):
        return f"must be a string (got {type(value).__name__})"
    if holds_unencodable_text(value):
        return UNENCODABLE
    if not value.strip():
        return f"must not be blank; give {what}"
    if len(value) > max_length:
        return f"must be at most {max_length} characters long (got {len(value)})"
    if _CONTROL.search(value):
        return "must not contain control characters such as newlines or tabs"
    if refuse_format_characters and (found := _format_character(value)) is not None:
        return (
            f"must not contain invisible formatting characters: it holds {_described(found)}, "
            "which makes the text display as something it is not; remove it (bidi "
            "controls, zero-width characters and the byte order mark are refused)"
        )
    return None


def _did_you_mean(value: object) -> str:
    """A suggestion for a near miss such as ``"dockerhub"`` or ``"GHCR"``."""
    if not isinstance(value, str):
        return ""
    folded: dict[str, str] = {re.sub(r"[^a-z]", "", t): t for t in EXTERNAL_REGISTRY_TYPES}
    match = folded.get(re.sub(r"[^a-z]", "", value.lower()))
    if match is None:
        close = difflib.get_close_matches(value.lower(), EXTERNAL_REGISTRY_TYPES, n=1)
        match = close[0] if close else None
    return f"; did you mean {match!r}?" if match else ""


def check_registry_inputs(
    inputs: Mapping[str, Any], is_unknown: IsUnknown = _never_unknown
) -> tuple[dict[str, Any], list[Failure]]:
    """Validate and normalise the inputs of a ``ContainerRegistry``.

    Returns the inputs to store (with ``hostname`` defaulted for Docker Hub and GHCR) and
    the failures. Secret values are never quoted in a reason.
    """
    checked = dict(inputs)
    failures: list[Failure] = []

    name = inputs.get("name")
    if name is None:
        failures.append(Failure("name", "is required: a display name for the registry"))
    elif not is_unknown(name):
        problem = _text_problem(
            name, max_length=MAX_NAME_LENGTH, what="a display name", refuse_format_characters=True
        )
        if problem:
            failures.append(Failure("name", problem))
        else:
            checked["name"] = normalized_name(name)

    registry_type = inputs.get("registry_type")
    valid_types = ", ".join(repr(t) for t in EXTERNAL_REGISTRY_TYPES)
    type_known = registry_type is not None and not is_unknown(registry_type)
    if registry_type is None:
        failures.append(Failure("registry_type", f"is required: one of {valid_types}"))
    elif type_known and registry_type == NODION_REGISTRY_TYPE:
        failures.append(
            Failure(
                "registry_type",
                "cannot be 'nodion': Nodion creates one registry per region by itself. "
                "Look it up with nodion.get_nodion_registry(region) and use "
                "nodion.RegistryCredentials for push/pull access. "
                f"Valid types here: {valid_types}",
            )
        )
    elif type_known and registry_type not in EXTERNAL_REGISTRY_TYPES:
        shown = registry_type if isinstance(registry_type, str) else type(registry_type).__name__
        failures.append(
            Failure(
                "registry_type",
                f"must be one of {valid_types} (got {shown!r}){_did_you_mean(registry_type)}",
            )
        )
        type_known = False

    hostname = inputs.get("hostname")
    if hostname is None:
        if type_known and isinstance(registry_type, str) and registry_type in DEFAULT_HOSTNAMES:
            checked["hostname"] = DEFAULT_HOSTNAMES[registry_type]
        elif type_known and registry_type == "custom":
            failures.append(
                Failure(
                    "hostname",
                    "is required for registry_type 'custom': the registry's host with an "
                    "optional port, e.g. 'registry.example.com:5000'",
                )
            )
    elif not is_unknown(hostname):
        if not isinstance(hostname, str):
            failures.append(
                Failure("hostname", f"must be a string (got {type(hostname).__name__})")
            )
        else:
            problem = hostname_problem(hostname)
            if problem:
                failures.append(Failure("hostname", problem))

    failures.extend(_check_login(inputs, is_unknown))
    adopt_id = inputs.get("adopt_id")
    if adopt_id is not None and not is_unknown(adopt_id) and not is_registry_id(adopt_id):
        failures.append(
            Failure(
                "adopt_id",
                f"must be the id of an existing external registry ({REGISTRY_ID_RULE}), as "
                "shown by nodion.get_container_registries()",
            )
        )
    return checked, failures


def _check_login(inputs: Mapping[str, Any], is_unknown: IsUnknown) -> list[Failure]:
    """``username`` and ``password`` come together: Nodion cannot log in with half a pair."""
    failures: list[Failure] = []
    username, password = inputs.get("username"), inputs.get("password")
    for field, value, what in (
        ("username", username, "the registry user or access token name"),
        ("password", password, "the password or access token"),
    ):
        if value is None or is_unknown(value):
            continue
        problem = _text_problem(value, max_length=MAX_SECRET_LENGTH, what=what)
        if problem:
            failures.append(Failure(field, problem))
    if username is not None and password is None:
        failures.append(
            Failure("password", "is required when username is set: give both or neither")
        )
    if password is not None and username is None:
        failures.append(
            Failure("username", "is required when password is set: give both or neither")
        )
    return failures


def check_credentials_inputs(
    inputs: Mapping[str, Any], is_unknown: IsUnknown = _never_unknown
) -> tuple[dict[str, Any], list[Failure]]:
    """Validate the inputs of a ``RegistryCredentials``."""
    failures: list[Failure] = []
    registry_id = inputs.get("registry_id")
    if registry_id is None:
        failures.append(
            Failure(
                "registry_id",
                "is required: the id of a Nodion registry, e.g. "
                "nodion.get_nodion_registry('fra').id",
            )
        )
    elif not is_unknown(registry_id) and not is_registry_id(registry_id):
        failures.append(
            Failure(
                "registry_id",
                f"must be a Nodion registry id ({REGISTRY_ID_RULE}), e.g. "
                "nodion.get_nodion_registry('fra').id",
            )
        )
    triggers = inputs.get("triggers")
    if triggers is not None and not is_unknown(triggers):
        if not isinstance(triggers, Mapping):
            failures.append(
                Failure(
                    "triggers",
                    f"must be a mapping of names to values (got {type(triggers).__name__}); "
                    "changing any value rotates the credentials",
                )
            )
        elif holds_unencodable_text(triggers):
            failures.append(Failure("triggers", UNENCODABLE))
    return dict(inputs), failures
