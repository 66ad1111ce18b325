"""The Nodion policy pack's policies, importable without starting a policy server.

Guard rails that teams run before anything is created (``pulumi preview --policy-pack``):

- ``nodion-one-credentials-per-registry`` (stack, mandatory): two ``RegistryCredentials`` for
  one Nodion registry. Nodion keeps one set of credentials per registry and shows its password
  once, so the second would fail to create or, on replacement, revoke the first.
- ``nodion-allowed-registry-hosts`` (resource, mandatory once ``allowedHosts`` is configured):
  a ``ContainerRegistry`` whose host matches none of the configured patterns.
- ``nodion-docker-hub-authenticated`` (resource, advisory): a Docker Hub registry without a
  username and password; anonymous pulls are rate-limited per IP address.
- ``nodion-credentials-protected`` (resource, advisory): a ``RegistryCredentials`` without the
  ``protect`` resource option.

The pack that serves them is ``nodion_pulumi/policy_pack`` (``nodion-pulumi policy-pack``
prints its path). This module needs ``pulumi-policy`` (``pip install 'nodion-pulumi[policy]'``);
``import nodion_pulumi`` does not.

Values that are unknown during preview (outputs of resources not created yet) are never
guessed: a policy whose answer depends on one lets pulumi-policy's ``UnknownValueError``
through, which the engine shows as "can't run policy ... during preview", and the policy runs
again with the real values during ``pulumi up``. The stack policy still reports the duplicates
it can prove from known values before doing so.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Mapping
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    Policy,
    PolicyConfigSchema,
    PolicyResource,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Secret,
    StackValidationArgs,
    StackValidationPolicy,
    proxy,
)
from pulumi_policy.proxy import UnknownValueError

from nodion_pulumi._facts import (
    CONTAINER_REGISTRY_TYPE,
    DEFAULT_HOSTNAMES,
    REGISTRY_CREDENTIALS_TYPE,
)

__all__ = [
    "ALLOWED_REGISTRY_HOSTS",
    "CONTAINER_REGISTRY_TYPE",
    "CREDENTIALS_PROTECTED",
    "DOCKER_HUB_AUTHENTICATED",
    "DOCKER_HUB_HOSTS",
    "ONE_CREDENTIALS_PER_REGISTRY",
    "PACK_DESCRIPTION",
    "PACK_NAME",
    "REGISTRY_CREDENTIALS_TYPE",
    "host_allowed",
    "policies",
    "registry_host",
]

PACK_NAME = "nodion"
PACK_DESCRIPTION = (
    "Guard rails for Nodion container registries: one set of credentials per registry, "
    "approved registry hosts only, no anonymous Docker Hub pulls, protected credentials."
)

#: Hosts that are Docker Hub whatever ``registry_type`` says (a ``custom`` registry may point
#: at one of them).
DOCKER_HUB_HOSTS = frozenset(
    {
        DEFAULT_HOSTNAMES["docker_hub"],
        "index.docker.io",
        "registry-1.docker.io",
        "registry.hub.docker.com",
    }
)

_UNKNOWN_SENTINELS = frozenset(
    {
        proxy.UNKNOWN_ARCHIVE_VALUE,
        proxy.UNKNOWN_ARRAY_VALUE,
        proxy.UNKNOWN_ASSET_VALUE,
        proxy.UNKNOWN_BOOLEAN_VALUE,
        proxy.UNKNOWN_NUMBER_VALUE,
        proxy.UNKNOWN_OBJECT_VALUE,
        proxy.UNKNOWN_STRING_VALUE,
    }
)


class _Unknown:
    """A value that is not known yet, remembering the error that says which one."""

    def __init__(self, error: UnknownValueError) -> None:
        self.error = error


def _read(props: Mapping[str, Any], key: str) -> Any:
    """``props[key]`` (None when absent), or an ``_Unknown`` when not known during preview.

    The engine hands policies a proxy that raises ``UnknownValueError`` on unknown values;
    a plain mapping holding the raw sentinel strings is treated the same way.
    """
    try:
        value = props.get(key)
    except UnknownValueError as error:
        return _Unknown(error)
    if isinstance(value, Secret):
        value = value.value
    if isinstance(value, str) and value in _UNKNOWN_SENTINELS:
        return _Unknown(UnknownValueError(value, [key]))
    return value


def registry_host(props: Mapping[str, Any]) -> str | None:
    """The host (with any port) a ``ContainerRegistry`` points at, lower-cased.

    A missing ``hostname`` means the registry type's default (``docker.io``, ``ghcr.io``),
    exactly as the provider fills it in. None when there is no host to speak of (a
    ``custom`` registry without one, which the provider itself refuses).

    :raises UnknownValueError: when the host depends on a value unknown during preview.
    """
    hostname = _read(props, "hostname")
    if isinstance(hostname, _Unknown):
        raise hostname.error
    if isinstance(hostname, str) and hostname.strip():
        return hostname.strip().lower()
    registry_type = _read(props, "registry_type")
    if isinstance(registry_type, _Unknown):
        raise registry_type.error
    if isinstance(registry_type, str) and registry_type in DEFAULT_HOSTNAMES:
        return DEFAULT_HOSTNAMES[registry_type]
    return None


def host_allowed(host: str, patterns: Iterable[str]) -> bool:
    """Whether ``host`` (``name[:port]``) matches one of the fnmatch-style ``patterns``.

    Case-insensitive. The port is part of what is matched: ``*.example.com`` does not match
    ``registry.example.com:5000``, ``*.example.com:*`` does.
    """
    host = host.strip().lower()
    return any(fnmatch.fnmatchcase(host, pattern.strip().lower()) for pattern in patterns)


def _allowed_patterns(config: Mapping[str, Any]) -> list[str] | None:
    """The configured ``allowedHosts``, or None when not configured (everything allowed)."""
    value = config.get("allowedHosts")
    if value is None:
        return None
    if isinstance(value, str):
        return [value]
    return [str(pattern) for pattern in value]


def _validate_allowed_hosts(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type != CONTAINER_REGISTRY_TYPE:
        return
    patterns = _allowed_patterns(args.get_config())
    if patterns is None:
        return
    host = registry_host(args.props)
    if host is None or host_allowed(host, patterns):
        return
    allowed = ", ".join(repr(p) for p in patterns) if patterns else "none (the list is empty)"
    report(
        f"ContainerRegistry '{args.name}' uses registry host '{host}', which matches none "
        f"of the allowed hosts: {allowed}. Use an approved registry, or have the host added "
        "to allowedHosts in the policy pack configuration.",
        None,
    )


def _validate_docker_hub_authenticated(
    args: ResourceValidationArgs, report: ReportViolation
) -> None:
    if args.resource_type != CONTAINER_REGISTRY_TYPE:
        return
    username, password = _read(args.props, "username"), _read(args.props, "password")
    if isinstance(username, str) and username and isinstance(password, str) and password:
        return  # authenticated, whatever the registry is
    registry_type = _read(args.props, "registry_type")
    if registry_type != "docker_hub":
        host = registry_host(args.props)
        if host is None or host not in DOCKER_HUB_HOSTS:
            return
    for value in (username, password):
        if isinstance(value, _Unknown):
            raise value.error
    report(
        f"ContainerRegistry '{args.name}' pulls from Docker Hub without credentials. Docker "
        "Hub rate-limits anonymous pulls per IP address, so deployments can fail with "
        "'toomanyrequests'. Set username and password (a Docker Hub access token), e.g. "
        "password=pulumi.Config().require_secret('dockerHubToken').",
        None,
    )


def _validate_credentials_protected(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type != REGISTRY_CREDENTIALS_TYPE or args.opts.protect:
        return
    report(
        f"RegistryCredentials '{args.name}' is not protected. Nodion shows the password only "
        "once: deleting this resource (pulumi destroy, or removing it from the program) "
        "revokes the credentials, and everything that pulls with them must be given new "
        "ones. Add opts=pulumi.ResourceOptions(protect=True).",
        None,
    )


def _validate_one_credentials_per_registry(
    args: StackValidationArgs, report: ReportViolation
) -> None:
    by_registry: dict[str, list[PolicyResource]] = {}
    unknown: UnknownValueError | None = None
    count = 0
    for resource in args.resources:
        if resource.resource_type != REGISTRY_CREDENTIALS_TYPE:
            continue
        count += 1
        registry_id = _read(resource.props, "registry_id")
        if isinstance(registry_id, _Unknown):
            unknown = unknown or registry_id.error
        elif isinstance(registry_id, str) and registry_id:
            by_registry.setdefault(registry_id, []).append(resource)
    for registry_id, resources in by_registry.items():
        # The engine lists resources in no fixed order: report on all but the first by name.
        first, *others = sorted(resources, key=lambda r: (r.name, r.urn))
        for other in others:
            report(
                f"RegistryCredentials '{other.name}' is for Nodion registry {registry_id}, "
                f"like RegistryCredentials '{first.name}'. Nodion keeps one set of push/pull "
                "credentials per registry and shows its password only once, so a second one "
                "fails to create (or, when replaced, revokes the other's). Declare one "
                "RegistryCredentials per registry and share its outputs (export them; other "
                "stacks read them with pulumi.StackReference).",
                other.urn,
            )
    if unknown is not None and count > 1:
        # Some registry ids are known only after `up` creates what they depend on: they cannot
        # be compared now, so say so instead of passing silently.
        raise unknown


ONE_CREDENTIALS_PER_REGISTRY = StackValidationPolicy(
    name="nodion-one-credentials-per-registry",
    description="Each Nodion registry has at most one RegistryCredentials in the stack.",
    validate=_validate_one_credentials_per_registry,
    enforcement_level=EnforcementLevel.MANDATORY,
)

ALLOWED_REGISTRY_HOSTS = ResourceValidationPolicy(
    name="nodion-allowed-registry-hosts",
    description=(
        "ContainerRegistry hosts match the configured allowedHosts (everything is allowed "
        "while allowedHosts is not configured)."
    ),
    validate=_validate_allowed_hosts,
    enforcement_level=EnforcementLevel.MANDATORY,
    config_schema=PolicyConfigSchema(
        properties={
            "allowedHosts": {
                "type": "array",
                "items": {"type": "string", "minLength": 1},
                "description": (
                    "Registry hosts (name[:port]) that a ContainerRegistry may use; "
                    "fnmatch-style patterns such as '*.example.com' or 'registry.example.com:*', "
                    "case-insensitive."
                ),
            },
        },
    ),
)

DOCKER_HUB_AUTHENTICATED = ResourceValidationPolicy(
    name="nodion-docker-hub-authenticated",
    description=(
        "Docker Hub registries have a username and password: anonymous pulls are rate-limited."
    ),
    validate=_validate_docker_hub_authenticated,
    enforcement_level=EnforcementLevel.ADVISORY,
)

CREDENTIALS_PROTECTED = ResourceValidationPolicy(
    name="nodion-credentials-protected",
    description=(
        "RegistryCredentials are protected: their password is shown once and deleting "
        "them revokes it."
    ),
    validate=_validate_credentials_protected,
    enforcement_level=EnforcementLevel.ADVISORY,
)


def policies() -> list[Policy]:
    """The policies of the Nodion pack, in the order the engine reports them."""
    return [
        ONE_CREDENTIALS_PER_REGISTRY,
        ALLOWED_REGISTRY_HOSTS,
        DOCKER_HUB_AUTHENTICATED,
        CREDENTIALS_PROTECTED,
    ]
