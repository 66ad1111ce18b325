"""Each policy of the Nodion pack, called the way the policy server calls it.

Properties are wrapped in pulumi-policy's unknown-checking proxy, as the server does, so a
value unknown during preview raises ``UnknownValueError`` when a policy reads it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest
from pulumi_policy import (
    EnforcementLevel,
    PolicyCustomTimeouts,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Secret,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE, UnknownValueError, unknown_checking_proxy

from nodion_pulumi.policies import (
    ALLOWED_REGISTRY_HOSTS,
    CONTAINER_REGISTRY_TYPE,
    CREDENTIALS_PROTECTED,
    DOCKER_HUB_AUTHENTICATED,
    ONE_CREDENTIALS_PER_REGISTRY,
    REGISTRY_CREDENTIALS_TYPE,
    host_allowed,
    policies,
    registry_host,
)

UNKNOWN = UNKNOWN_STRING_VALUE
FRA = "ae69d332-7231-5c10-a8de-fdaaba3e8b9e"
NBG = "0b6a1f0e-5c1d-5a52-9d55-3c1f2b7e9a10"


def _opts(protect: bool = False) -> PolicyResourceOptions:
    return PolicyResourceOptions(protect, [], None, [], PolicyCustomTimeouts(0, 0, 0), [], None)


def _urn(resource_type: str, name: str) -> str:
    return f"urn:pulumi:test::proj::{resource_type}::{name}"


class Report:
    """Collects what a policy reports."""

    def __init__(self) -> None:
        self.violations: list[tuple[str, str | None]] = []

    def __call__(self, message: str, urn: str | None = None) -> None:
        self.violations.append((message, urn))

    @property
    def messages(self) -> list[str]:
        return [message for message, _ in self.violations]


def validate_resource(
    policy: ResourceValidationPolicy,
    props: dict[str, Any],
    *,
    resource_type: str = CONTAINER_REGISTRY_TYPE,
    name: str = "reg",
    protect: bool = False,
    config: Mapping[str, Any] | None = None,
) -> Report:
    report = Report()
    args = ResourceValidationArgs(
        resource_type,
        unknown_checking_proxy(props),
        _urn(resource_type, name),
        name,
        _opts(protect),
        None,
        config,
    )
    assert policy.validate(args, report) is None
    return report


def _resource(resource_type: str, name: str, props: dict[str, Any]) -> PolicyResource:
    return PolicyResource(
        resource_type,
        unknown_checking_proxy(props),
        _urn(resource_type, name),
        name,
        _opts(),
        None,
        None,
        [],
        {},
    )


def validate_stack(resources: list[PolicyResource]) -> Report:
    report = Report()
    policy = ONE_CREDENTIALS_PER_REGISTRY
    assert policy.validate(StackValidationArgs(resources), report) is None
    return report


def credentials(name: str, registry_id: Any) -> PolicyResource:
    return _resource(REGISTRY_CREDENTIALS_TYPE, name, {"registry_id": registry_id})


# --- the pack ------------------------------------------------------------------------------


def test_the_pack_has_the_four_public_policies_with_their_kinds_and_levels() -> None:
    found = {
        p.name: (type(p), p.enforcement_level)
        for p in policies()  # the public contract of DESIGN section 6
    }
    assert found == {
        "nodion-one-credentials-per-registry": (StackValidationPolicy, EnforcementLevel.MANDATORY),
        "nodion-allowed-registry-hosts": (ResourceValidationPolicy, EnforcementLevel.MANDATORY),
        "nodion-docker-hub-authenticated": (ResourceValidationPolicy, EnforcementLevel.ADVISORY),
        "nodion-credentials-protected": (ResourceValidationPolicy, EnforcementLevel.ADVISORY),
    }


def test_allowed_hosts_is_declared_in_the_config_schema() -> None:
    schema = ALLOWED_REGISTRY_HOSTS.config_schema
    assert schema is not None
    assert schema.properties["allowedHosts"]["type"] == "array"
    assert schema.properties["allowedHosts"]["items"]["type"] == "string"
    assert not schema.required


# --- nodion-allowed-registry-hosts ----------------------------------------------------------


@pytest.mark.parametrize(
    ("host", "patterns", "allowed"),
    [
        ("ghcr.io", ["ghcr.io"], True),
        ("GHCR.IO", ["ghcr.io"], True),
        ("ghcr.io", ["GHCR.io"], True),
        ("registry.corp.example", ["*.corp.example"], True),
        ("a.b.corp.example", ["*.corp.example"], True),
        ("corp.example", ["*.corp.example"], False),
        ("registry.corp.example:5000", ["*.corp.example"], False),
        ("registry.corp.example:5000", ["*.corp.example:*"], True),
        ("registry.corp.example:5000", ["registry.corp.example:5000"], True),
        ("registry.corp.example:5001", ["registry.corp.example:5000"], False),
        ("registry1.corp.example", ["registry?.corp.example"], True),
        ("evil.example", ["ghcr.io", "*.corp.example"], False),
        ("ghcr.io", [], False),
    ],
)
def test_host_allowed_matches_fnmatch_patterns_case_insensitively_including_the_port(
    host: str, patterns: list[str], allowed: bool
) -> None:
    assert host_allowed(host, patterns) is allowed


@pytest.mark.parametrize(
    ("props", "host"),
    [
        ({"registry_type": "docker_hub"}, "docker.io"),
        ({"registry_type": "ghcr"}, "ghcr.io"),
        ({"registry_type": "ghcr", "hostname": "GHCR.example:443"}, "ghcr.example:443"),
        ({"registry_type": "custom", "hostname": "registry.example.com"}, "registry.example.com"),
        ({"registry_type": "custom"}, None),
        ({"registry_type": UNKNOWN, "hostname": "r.example"}, "r.example"),
    ],
)
def test_registry_host_defaults_like_the_provider(props: dict[str, Any], host: str | None) -> None:
    assert registry_host(unknown_checking_proxy(props)) == host


def test_without_allowed_hosts_configured_every_host_is_allowed() -> None:
    props = {"name": "x", "registry_type": "custom", "hostname": "anything.example:5000"}
    assert validate_resource(ALLOWED_REGISTRY_HOSTS, props).violations == []
    assert validate_resource(ALLOWED_REGISTRY_HOSTS, props, config={}).violations == []


def test_a_host_outside_allowed_hosts_is_reported_with_the_host_and_the_list() -> None:
    report = validate_resource(
        ALLOWED_REGISTRY_HOSTS,
        {"name": "x", "registry_type": "custom", "hostname": "Evil.example:5000"},
        name="mirror",
        config={"allowedHosts": ["ghcr.io", "*.corp.example"]},
    )
    [(message, urn)] = report.violations
    assert "'mirror'" in message
    assert "'evil.example:5000'" in message
    assert "'ghcr.io', '*.corp.example'" in message
    assert urn is None  # resource policies are always about the resource itself


def test_a_missing_hostname_is_checked_as_the_default_of_its_type() -> None:
    config = {"allowedHosts": ["ghcr.io"]}
    ghcr = {"name": "g", "registry_type": "ghcr"}
    hub = {"name": "h", "registry_type": "docker_hub"}
    assert validate_resource(ALLOWED_REGISTRY_HOSTS, ghcr, config=config).violations == []
    [message] = validate_resource(ALLOWED_REGISTRY_HOSTS, hub, config=config).messages
    assert "'docker.io'" in message


def test_a_matching_glob_pattern_allows_the_host() -> None:
    report = validate_resource(
        ALLOWED_REGISTRY_HOSTS,
        {"name": "x", "registry_type": "custom", "hostname": "Registry.CORP.example"},
        config={"allowedHosts": ["*.corp.example"]},
    )
    assert report.violations == []


def test_an_empty_allowed_hosts_list_allows_no_host() -> None:
    report = validate_resource(
        ALLOWED_REGISTRY_HOSTS,
        {"name": "x", "registry_type": "ghcr"},
        config={"allowedHosts": []},
    )
    [message] = report.messages
    assert "none (the list is empty)" in message


def test_a_single_string_is_taken_as_one_pattern() -> None:
    props = {"name": "x", "registry_type": "ghcr"}
    report = validate_resource(ALLOWED_REGISTRY_HOSTS, props, config={"allowedHosts": "ghcr.io"})
    assert report.violations == []


@pytest.mark.parametrize(
    "resource_type",
    [REGISTRY_CREDENTIALS_TYPE, "pulumi-python:dynamic:Resource", "aws:ecr/repository:Repository"],
)
def test_allowed_hosts_looks_only_at_container_registries(resource_type: str) -> None:
    report = validate_resource(
        ALLOWED_REGISTRY_HOSTS,
        {"registry_id": FRA, "hostname": "evil.example", "registry_type": "custom"},
        resource_type=resource_type,
        config={"allowedHosts": ["ghcr.io"]},
    )
    assert report.violations == []


def test_a_custom_registry_without_hostname_is_left_to_the_provider() -> None:
    report = validate_resource(
        ALLOWED_REGISTRY_HOSTS,
        {"name": "x", "registry_type": "custom"},
        config={"allowedHosts": ["ghcr.io"]},
    )
    assert report.violations == []


def test_an_unknown_hostname_is_not_passed_but_raised_as_unknown() -> None:
    with pytest.raises(UnknownValueError) as caught:
        validate_resource(
            ALLOWED_REGISTRY_HOSTS,
            {"name": "x", "registry_type": "custom", "hostname": UNKNOWN},
            config={"allowedHosts": ["ghcr.io"]},
        )
    assert caught.value.props == ["hostname"]


def test_an_unknown_type_without_hostname_is_raised_as_unknown() -> None:
    with pytest.raises(UnknownValueError) as caught:
        validate_resource(
            ALLOWED_REGISTRY_HOSTS,
            {"name": "x", "registry_type": UNKNOWN},
            config={"allowedHosts": ["ghcr.io"]},
        )
    assert caught.value.props == ["registry_type"]


def test_an_unknown_type_does_not_matter_when_the_hostname_is_known() -> None:
    props = {"name": UNKNOWN, "registry_type": UNKNOWN, "hostname": "ghcr.io"}
    config = {"allowedHosts": ["ghcr.io"]}
    assert validate_resource(ALLOWED_REGISTRY_HOSTS, props, config=config).violations == []
    bad = {**props, "hostname": "evil.example"}
    assert len(validate_resource(ALLOWED_REGISTRY_HOSTS, bad, config=config).violations) == 1


def test_unknown_values_are_not_read_when_nothing_is_configured() -> None:
    props = {"name": "x", "registry_type": UNKNOWN, "hostname": UNKNOWN}
    assert validate_resource(ALLOWED_REGISTRY_HOSTS, props).violations == []


# --- nodion-docker-hub-authenticated -------------------------------------------------------


def test_docker_hub_without_credentials_is_reported() -> None:
    report = validate_resource(
        DOCKER_HUB_AUTHENTICATED, {"name": "Hub", "registry_type": "docker_hub"}, name="hub"
    )
    [message] = report.messages
    assert "'hub'" in message
    assert "rate-limit" in message
    assert "username and password" in message


def test_docker_hub_with_credentials_passes() -> None:
    props = {
        "name": "Hub",
        "registry_type": "docker_hub",
        "hostname": "docker.io",
        "username": "me",
        "password": "dckr_pat_x",
    }
    assert validate_resource(DOCKER_HUB_AUTHENTICATED, props).violations == []


def test_a_password_marked_secret_counts_as_given() -> None:
    props = {
        "name": "Hub",
        "registry_type": "docker_hub",
        "username": "me",
        "password": Secret("dckr_pat_x"),
    }
    assert validate_resource(DOCKER_HUB_AUTHENTICATED, props).violations == []


@pytest.mark.parametrize(
    "hostname", ["docker.io", "DOCKER.IO", "registry-1.docker.io", "index.docker.io"]
)
def test_a_custom_registry_on_a_docker_hub_host_is_docker_hub(hostname: str) -> None:
    props = {"name": "x", "registry_type": "custom", "hostname": hostname}
    assert len(validate_resource(DOCKER_HUB_AUTHENTICATED, props).violations) == 1


@pytest.mark.parametrize(
    "props",
    [
        {"name": "g", "registry_type": "ghcr"},
        {"name": "c", "registry_type": "custom", "hostname": "registry.example.com"},
        {"name": "c", "registry_type": "custom"},
    ],
)
def test_other_registries_without_credentials_pass(props: dict[str, Any]) -> None:
    assert validate_resource(DOCKER_HUB_AUTHENTICATED, props).violations == []


def test_docker_hub_policy_looks_only_at_container_registries() -> None:
    report = validate_resource(
        DOCKER_HUB_AUTHENTICATED,
        {"registry_type": "docker_hub"},
        resource_type="pulumi-python:dynamic:Resource",
    )
    assert report.violations == []


def test_docker_hub_with_an_unknown_password_is_raised_as_unknown() -> None:
    with pytest.raises(UnknownValueError) as caught:
        validate_resource(
            DOCKER_HUB_AUTHENTICATED,
            {"name": "Hub", "registry_type": "docker_hub", "username": "me", "password": UNKNOWN},
        )
    assert caught.value.props == ["password"]


def test_known_credentials_pass_whatever_the_unknown_type() -> None:
    props = {"name": "x", "registry_type": UNKNOWN, "username": "me", "password": "p"}
    assert validate_resource(DOCKER_HUB_AUTHENTICATED, props).violations == []


def test_an_unknown_type_without_credentials_or_hostname_is_raised_as_unknown() -> None:
    with pytest.raises(UnknownValueError):
        validate_resource(DOCKER_HUB_AUTHENTICATED, {"name": "x", "registry_type": UNKNOWN})


def test_unknown_credentials_of_a_registry_that_is_not_docker_hub_do_not_matter() -> None:
    props = {"name": "g", "registry_type": "ghcr", "username": UNKNOWN, "password": UNKNOWN}
    assert validate_resource(DOCKER_HUB_AUTHENTICATED, props).violations == []


# --- nodion-credentials-protected ----------------------------------------------------------


def test_unprotected_credentials_are_reported() -> None:
    report = validate_resource(
        CREDENTIALS_PROTECTED,
        {"registry_id": FRA},
        resource_type=REGISTRY_CREDENTIALS_TYPE,
        name="fra-push",
    )
    [message] = report.messages
    assert "'fra-push'" in message
    assert "protect=True" in message


def test_protected_credentials_pass() -> None:
    report = validate_resource(
        CREDENTIALS_PROTECTED,
        {"registry_id": UNKNOWN},
        resource_type=REGISTRY_CREDENTIALS_TYPE,
        protect=True,
    )
    assert report.violations == []


def test_protection_is_not_asked_of_other_resources() -> None:
    report = validate_resource(CREDENTIALS_PROTECTED, {"name": "x", "registry_type": "ghcr"})
    assert report.violations == []


def test_unprotected_credentials_with_an_unknown_registry_are_still_reported() -> None:
    report = validate_resource(
        CREDENTIALS_PROTECTED, {"registry_id": UNKNOWN}, resource_type=REGISTRY_CREDENTIALS_TYPE
    )
    assert len(report.violations) == 1


# --- nodion-one-credentials-per-registry ---------------------------------------------------


def test_two_credentials_for_one_registry_are_reported_once_on_the_second() -> None:
    report = validate_stack([credentials("b", FRA), credentials("a", FRA)])
    [(message, urn)] = report.violations
    assert urn == _urn(REGISTRY_CREDENTIALS_TYPE, "b")
    assert "'b'" in message
    assert "'a'" in message
    assert FRA in message


def test_three_credentials_for_one_registry_are_reported_on_each_extra_one() -> None:
    report = validate_stack([credentials("c", FRA), credentials("a", FRA), credentials("b", FRA)])
    assert [urn for _, urn in report.violations] == [
        _urn(REGISTRY_CREDENTIALS_TYPE, "b"),
        _urn(REGISTRY_CREDENTIALS_TYPE, "c"),
    ]


def test_credentials_for_different_registries_pass() -> None:
    assert validate_stack([credentials("a", FRA), credentials("b", NBG)]).violations == []


def test_only_registry_credentials_are_counted() -> None:
    resources = [
        credentials("a", FRA),
        _resource(CONTAINER_REGISTRY_TYPE, "reg", {"registry_id": FRA, "name": "x"}),
        _resource("pulumi-python:dynamic:Resource", "other", {"registry_id": FRA}),
        _resource("pulumi:pulumi:Stack", "proj-test", {}),
    ]
    assert validate_stack(resources).violations == []


def test_an_unknown_registry_id_is_not_a_duplicate_but_is_not_passed_either() -> None:
    report = Report()
    args = StackValidationArgs([credentials("a", FRA), credentials("b", UNKNOWN)])
    with pytest.raises(UnknownValueError) as caught:
        ONE_CREDENTIALS_PER_REGISTRY.validate(args, report)
    assert caught.value.props == ["registry_id"]
    assert report.violations == []


def test_known_duplicates_are_reported_even_when_other_ids_are_unknown() -> None:
    report = Report()
    args = StackValidationArgs(
        [credentials("a", FRA), credentials("b", FRA), credentials("c", UNKNOWN)]
    )
    with pytest.raises(UnknownValueError):
        ONE_CREDENTIALS_PER_REGISTRY.validate(args, report)
    assert [urn for _, urn in report.violations] == [_urn(REGISTRY_CREDENTIALS_TYPE, "b")]


def test_a_single_credentials_with_an_unknown_id_cannot_be_a_duplicate() -> None:
    resources = [credentials("a", UNKNOWN), _resource(CONTAINER_REGISTRY_TYPE, "r", {})]
    assert validate_stack(resources).violations == []


def test_credentials_without_a_registry_id_are_ignored() -> None:
    resources = [
        _resource(REGISTRY_CREDENTIALS_TYPE, "a", {}),
        _resource(REGISTRY_CREDENTIALS_TYPE, "b", {}),
    ]
    assert validate_stack(resources).violations == []


def test_raw_unknown_sentinels_without_the_proxy_are_unknown_too() -> None:
    # Policies may be handed plain mappings (e.g. by other tooling); the sentinel still counts.
    plain = PolicyResource(
        REGISTRY_CREDENTIALS_TYPE,
        {"registry_id": UNKNOWN},
        _urn(REGISTRY_CREDENTIALS_TYPE, "b"),
        "b",
        _opts(),
        None,
        None,
        [],
        {},
    )
    with pytest.raises(UnknownValueError):
        ONE_CREDENTIALS_PER_REGISTRY.validate(
            StackValidationArgs([credentials("a", FRA), plain]), Report()
        )
