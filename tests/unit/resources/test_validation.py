"""The input rules of both resources: what is refused, why, and what is accepted as is."""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from typing import Any

import pytest

from nodion_pulumi._facts import DEFAULT_HOSTNAMES, REGISTRY_ID_RULE
from nodion_pulumi._unknowns import UNKNOWN, is_unknown
from nodion_pulumi._validation import (
    MAX_NAME_LENGTH,
    Failure,
    check_credentials_inputs,
    check_registry_inputs,
    hostname_problem,
)
from nodion_pulumi.container_registry import ContainerRegistryProvider

ApiLog = Callable[[], list[tuple[str, str, list[str]]]]
CreateRegistry = Callable[..., tuple[str, dict[str, Any]]]

PASSWORD = "Hunter2-s3cret-PW"
GOOD_REGISTRY: dict[str, Any] = {"name": "mirror", "registry_type": "docker_hub"}
CUSTOM: dict[str, Any] = {"name": "mirror", "registry_type": "custom"}
GOOD_ID = "a1b2c3d4-e5f6-7890-abcd-ef1234567890"


def without(key: str) -> dict[str, Any]:
    return {k: v for k, v in GOOD_REGISTRY.items() if k != key}


def host(value: Any) -> dict[str, Any]:
    return {**CUSTOM, "hostname": value}


# (case id, inputs, failing field, phrase of the reason)
BAD_REGISTRY_INPUTS: list[tuple[str, dict[str, Any], str, str]] = [
    ("name-missing", without("name"), "name", "is required"),
    ("name-none", {**GOOD_REGISTRY, "name": None}, "name", "is required"),
    ("name-int", {**GOOD_REGISTRY, "name": 42}, "name", "must be a string (got int)"),
    ("name-list", {**GOOD_REGISTRY, "name": ["a"]}, "name", "must be a string (got list)"),
    ("name-empty", {**GOOD_REGISTRY, "name": ""}, "name", "must not be blank"),
    ("name-blank", {**GOOD_REGISTRY, "name": " \u00a0 "}, "name", "must not be blank"),
    ("name-huge", {**GOOD_REGISTRY, "name": "n" * 10_000}, "name", "at most 255 characters"),
    ("name-newline", {**GOOD_REGISTRY, "name": "two\nlines"}, "name", "control characters"),
    ("name-tab", {**GOOD_REGISTRY, "name": "a\tb"}, "name", "control characters"),
    ("name-nul", {**GOOD_REGISTRY, "name": "a\x00b"}, "name", "control characters"),
    ("name-escape", {**GOOD_REGISTRY, "name": "\x1b[31mred"}, "name", "control characters"),
    ("name-del", {**GOOD_REGISTRY, "name": "a\x7f"}, "name", "control characters"),
    ("name-c1-nel", {**GOOD_REGISTRY, "name": "a\x85b"}, "name", "control characters"),
    ("name-line-sep", {**GOOD_REGISTRY, "name": "a\u2028b"}, "name", "control characters"),
    # Unicode format characters (category Cf) make a name display as something it is not.
    ("name-bidi-override", {**GOOD_REGISTRY, "name": "prod\u202edev"}, "name", "U+202E"),
    ("name-bidi-isolate", {**GOOD_REGISTRY, "name": "a\u2067b\u2069"}, "name", "U+2067"),
    ("name-zero-width", {**GOOD_REGISTRY, "name": "mir\u200bror"}, "name", "invisible"),
    ("name-zero-width-joiner", {**GOOD_REGISTRY, "name": "a\u200db"}, "name", "U+200D"),
    ("name-bom", {**GOOD_REGISTRY, "name": "\ufeffmirror"}, "name", "U+FEFF"),
    ("name-soft-hyphen", {**GOOD_REGISTRY, "name": "mir\u00adror"}, "name", "U+00AD"),
    ("type-missing", without("registry_type"), "registry_type", "'docker_hub', 'ghcr', 'custom'"),
    (
        "type-nodion",
        {**GOOD_REGISTRY, "registry_type": "nodion"},
        "registry_type",
        "get_nodion_registry",
    ),
    (
        "type-unknown",
        {**GOOD_REGISTRY, "registry_type": "gitlab"},
        "registry_type",
        "must be one of 'docker_hub', 'ghcr', 'custom'",
    ),
    (
        "type-case",
        {**GOOD_REGISTRY, "registry_type": "Docker_Hub"},
        "registry_type",
        "(got 'Docker_Hub'); did you mean 'docker_hub'?",
    ),
    (
        "type-near-miss",
        {**GOOD_REGISTRY, "registry_type": "dockerhub"},
        "registry_type",
        "must be one of 'docker_hub', 'ghcr', 'custom' (got 'dockerhub'); did you mean "
        "'docker_hub'?",
    ),
    ("type-typo", {**GOOD_REGISTRY, "registry_type": "ghrc"}, "registry_type", "mean 'ghcr'?"),
    ("type-int", {**GOOD_REGISTRY, "registry_type": 3}, "registry_type", "(got 'int')"),
    ("custom-no-host", CUSTOM, "hostname", "required for registry_type 'custom'"),
    (
        "host-https",
        host("https://registry.example.com"),
        "hostname",
        "without a scheme: drop 'https://'",
    ),
    ("host-http-port", host("http://localhost:5000"), "hostname", "without a scheme"),
    ("host-path", host("registry.example.com/team/app"), "hostname", "use 'registry.example.com'"),
    ("host-space", host("registry example.com"), "hostname", "must not contain spaces"),
    ("host-newline", host("registry.example.com\n"), "hostname", "must not contain spaces"),
    # Refused, not trimmed as a name is: a host is typed, so a space in it is a mistake.
    ("host-trailing", host("registry.example.com "), "hostname", "must not contain spaces"),
    ("host-wide-space", host("\u3000registry.example.com"), "hostname", "must not contain"),
    ("host-control", host("registry\x07.example.com"), "hostname", "control characters"),
    ("host-empty", host(""), "hostname", "must not be blank"),
    ("host-int", host(5000), "hostname", "must be a string (got int)"),
    (
        "host-port-0",
        host("registry.example.com:0"),
        "hostname",
        "a port is a number from 1 to 65535",
    ),
    ("host-port-65536", host("registry.example.com:65536"), "hostname", "from 1 to 65535"),
    ("host-port-abc", host("registry.example.com:abc"), "hostname", "invalid port 'abc'"),
    ("host-port-empty", host("registry.example.com:"), "hostname", "from 1 to 65535"),
    (
        "host-port-unicode-digits",
        host("registry.example.com:\u0665\u0660"),
        "hostname",
        "from 1 to 65535",
    ),
    (
        "host-unicode",
        host("r\u00e9gistry.example.com"),
        "hostname",
        "letters, digits, dots and hyphens",
    ),
    # Look-alikes: each displays as an ASCII host name that belongs to someone else.
    (
        "host-cyrillic-a",
        host("registry.ex\u0430mple.com"),
        "hostname",
        "U+0430 CYRILLIC SMALL LETTER A",
    ),
    (
        "host-fullwidth-dot",
        host("registry\uff0eexample.com"),
        "hostname",
        "U+FF0E FULLWIDTH FULL STOP",
    ),
    ("host-fullwidth-letters", host("\uff52eg.example.com"), "hostname", "in its IDNA form"),
    ("host-zero-width", host("registry.example.com\u200b"), "hostname", "U+200B ZERO WIDTH"),
    ("host-bidi", host("moc.elpmaxe\u202e"), "hostname", "U+202E RIGHT-TO-LEFT OVERRIDE"),
    ("host-underscore", host("my_registry.example.com"), "hostname", "DNS name or IP address"),
    ("host-leading-hyphen", host("-registry.example.com"), "hostname", "DNS name"),
    ("host-empty-label", host("registry..example.com"), "hostname", "DNS name"),
    ("host-huge", host("a" * 254), "hostname", "at most 253 characters"),
    ("host-ipv6-unbracketed", host("2001:db8::1"), "hostname", "DNS name or IP address"),
    ("host-login", host("me@registry.example.com"), "hostname", "must not contain a login"),
    (
        "host-ipv6-bad-chars",
        host("[2001:db8::zz]:5000"),
        "hostname",
        "valid bracketed IPv6 address such as '[2001:db8::1]:5000'",
    ),
    ("host-ipv6-unclosed", host("[2001:db8::1"), "hostname", "'[ipv6]' or '[ipv6]:port'"),
    ("host-ipv6-no-colon", host("[::1]5000"), "hostname", "'[ipv6]' or '[ipv6]:port'"),
    ("host-ipv6-bad-port", host("[::1]:70000"), "hostname", "from 1 to 65535"),
    ("host-ipv6-empty", host("[]"), "hostname", "valid bracketed IPv6"),
    (
        "username-only",
        {**GOOD_REGISTRY, "username": "me"},
        "password",
        "required when username is set: give both or neither",
    ),
    (
        "password-only",
        {**GOOD_REGISTRY, "password": PASSWORD},
        "username",
        "required when password is set: give both or neither",
    ),
    (
        "username-blank",
        {**GOOD_REGISTRY, "username": " ", "password": PASSWORD},
        "username",
        "must not be blank",
    ),
    (
        "username-int",
        {**GOOD_REGISTRY, "username": 7, "password": PASSWORD},
        "username",
        "must be a string (got int)",
    ),
    (
        "password-empty",
        {**GOOD_REGISTRY, "username": "me", "password": ""},
        "password",
        "must not be blank; give the password or access token",
    ),
    (
        "password-int",
        {**GOOD_REGISTRY, "username": "me", "password": 1234},
        "password",
        "must be a string (got int)",
    ),
    (
        "password-huge",
        {**GOOD_REGISTRY, "username": "me", "password": PASSWORD * 300},
        "password",
        "at most 4096 characters",
    ),
    (
        "password-newline",
        {**GOOD_REGISTRY, "username": "me", "password": PASSWORD + "\n"},
        "password",
        "control characters",
    ),
    ("adopt-id-slash", {**GOOD_REGISTRY, "adopt_id": "a/b"}, "adopt_id", REGISTRY_ID_RULE),
    ("adopt-id-int", {**GOOD_REGISTRY, "adopt_id": 7}, "adopt_id", "get_container_registries()"),
]

BAD_CREDENTIALS_INPUTS: list[tuple[str, dict[str, Any], str, str]] = [
    ("id-missing", {}, "registry_id", "is required: the id of a Nodion registry"),
    ("id-none", {"registry_id": None}, "registry_id", "get_nodion_registry('fra').id"),
    ("id-int", {"registry_id": 12}, "registry_id", "must be a Nodion registry id"),
    ("id-empty", {"registry_id": ""}, "registry_id", REGISTRY_ID_RULE),
    ("id-slash", {"registry_id": "abc/credentials"}, "registry_id", "must be a Nodion registry id"),
    (
        "triggers-list",
        {"registry_id": GOOD_ID, "triggers": ["v1"]},
        "triggers",
        "must be a mapping of names to values (got list)",
    ),
    ("triggers-str", {"registry_id": GOOD_ID, "triggers": "v1"}, "triggers", "(got str)"),
    (
        "triggers-int",
        {"registry_id": GOOD_ID, "triggers": 1},
        "triggers",
        "rotates the credentials",
    ),
]


def fields(failures: list[Failure]) -> list[str]:
    return [f.field for f in failures]


@pytest.mark.parametrize(
    ("inputs", "field", "phrase"),
    [pytest.param(*case[1:], id=case[0]) for case in BAD_REGISTRY_INPUTS],
)
def test_bad_registry_inputs_name_the_field_and_what_is_valid(
    inputs: dict[str, Any], field: str, phrase: str
) -> None:
    _checked, failures = check_registry_inputs(inputs, is_unknown)
    assert fields(failures) == [field], failures
    assert phrase in failures[0].reason
    assert PASSWORD not in failures[0].reason
    # A reason reaches the terminal: it never carries a control or format character.
    assert not any(unicodedata.category(c) in ("Cc", "Cf") for c in failures[0].reason)


@pytest.mark.parametrize(
    ("inputs", "field", "phrase"),
    [pytest.param(*case[1:], id=case[0]) for case in BAD_CREDENTIALS_INPUTS],
)
def test_bad_credentials_inputs_name_the_field_and_what_is_valid(
    inputs: dict[str, Any], field: str, phrase: str
) -> None:
    _checked, failures = check_credentials_inputs(inputs, is_unknown)
    assert fields(failures) == [field], failures
    assert phrase in failures[0].reason


def test_nodion_type_points_to_the_lookup_and_credentials() -> None:
    _checked, failures = check_registry_inputs({**GOOD_REGISTRY, "registry_type": "nodion"})
    reason = failures[0].reason
    assert "nodion.get_nodion_registry(region)" in reason
    assert "nodion.RegistryCredentials" in reason
    assert "Valid types here: 'docker_hub', 'ghcr', 'custom'" in reason


def test_several_problems_are_reported_together() -> None:
    _checked, failures = check_registry_inputs(
        {"name": "", "registry_type": "custom", "hostname": "ftp://x", "username": "me"}
    )
    assert sorted(fields(failures)) == ["hostname", "name", "password"]


@pytest.mark.parametrize(
    "hostname",
    [
        f"me:{PASSWORD}@registry.example.com",
        f"me:{PASSWORD}@registry.example.com:5000",
        f"me:{PASSWORD}@registry.example.com/team",
        f"https://me:{PASSWORD}@registry.example.com",
        f"{PASSWORD}@registry.example.com",
    ],
)
def test_a_login_inside_the_hostname_is_refused_without_echoing_it(hostname: str) -> None:
    _checked, failures = check_registry_inputs(
        {**CUSTOM, "hostname": hostname, "username": "me", "password": PASSWORD}
    )
    assert fields(failures) == ["hostname"]
    assert "must not contain a login" in failures[0].reason
    assert "set username and password instead" in failures[0].reason
    assert PASSWORD not in failures[0].reason


def test_no_secret_value_appears_in_any_reason() -> None:
    cases: list[dict[str, Any]] = [
        {**GOOD_REGISTRY, "password": PASSWORD},
        {**GOOD_REGISTRY, "username": PASSWORD},
        {**GOOD_REGISTRY, "username": "me", "password": PASSWORD * 1000},
        {**GOOD_REGISTRY, "username": "me", "password": f"{PASSWORD}\t"},
        {**GOOD_REGISTRY, "username": "me", "password": f"\x00{PASSWORD}"},
        {"name": 1, "registry_type": None, "username": 2, "password": PASSWORD},
    ]
    for inputs in cases:
        _checked, failures = check_registry_inputs(inputs)
        assert failures, inputs
        for failure in failures:
            assert PASSWORD not in failure.reason
            assert PASSWORD not in repr(failure)


@pytest.mark.parametrize(
    ("inputs", "hostname"),
    [
        pytest.param(GOOD_REGISTRY, DEFAULT_HOSTNAMES["docker_hub"], id="docker-hub-default"),
        pytest.param(
            {**GOOD_REGISTRY, "registry_type": "ghcr"},
            DEFAULT_HOSTNAMES["ghcr"],
            id="ghcr-default",
        ),
        pytest.param(
            {**GOOD_REGISTRY, "adopt_id": GOOD_ID},
            DEFAULT_HOSTNAMES["docker_hub"],
            id="adopt-id",
        ),
        pytest.param(
            {**GOOD_REGISTRY, "hostname": "registry-1.docker.io"},
            "registry-1.docker.io",
            id="docker-hub-explicit",
        ),
        pytest.param(host("registry.example.com"), "registry.example.com", id="custom"),
        pytest.param(host("registry.example.com:5000"), "registry.example.com:5000", id="port"),
        pytest.param(host("localhost:1"), "localhost:1", id="port-1"),
        pytest.param(host("10.0.0.7:65535"), "10.0.0.7:65535", id="ipv4-port-65535"),
        pytest.param(host("[2001:db8::1]:5000"), "[2001:db8::1]:5000", id="ipv6-port"),
        pytest.param(host("[::1]"), "[::1]", id="ipv6"),
        pytest.param(host("a" * 63 + ".example.com"), "a" * 63 + ".example.com", id="long-label"),
    ],
)
def test_good_registry_inputs_pass_with_default_hostnames(
    inputs: dict[str, Any], hostname: str
) -> None:
    checked, failures = check_registry_inputs(inputs, is_unknown)
    assert failures == []
    assert checked["hostname"] == hostname
    assert checked["name"] == inputs["name"]


def test_good_registry_inputs_with_a_login_and_unicode_name_pass() -> None:
    inputs = {
        "name": "Spiegel f\u00fcr B\u00fcro \u2013 \u93e1\u50cf",
        "registry_type": "ghcr",
        "username": "octocat",
        "password": PASSWORD,
    }
    checked, failures = check_registry_inputs(inputs)
    assert failures == []
    assert checked == {**inputs, "hostname": "ghcr.io"}


def test_a_name_of_the_maximum_length_passes() -> None:
    _checked, failures = check_registry_inputs({**GOOD_REGISTRY, "name": "n" * MAX_NAME_LENGTH})
    assert failures == []


def test_check_does_not_change_the_callers_mapping() -> None:
    inputs = dict(GOOD_REGISTRY)
    check_registry_inputs(inputs)
    assert inputs == GOOD_REGISTRY


@pytest.mark.parametrize(
    "inputs",
    [
        pytest.param({"name": UNKNOWN, "registry_type": "ghcr"}, id="name"),
        pytest.param({"name": "m", "registry_type": UNKNOWN}, id="type"),
        pytest.param({"name": "m", "registry_type": UNKNOWN, "hostname": UNKNOWN}, id="type-host"),
        pytest.param({**CUSTOM, "hostname": UNKNOWN}, id="hostname"),
        pytest.param({**GOOD_REGISTRY, "username": UNKNOWN, "password": UNKNOWN}, id="login"),
        pytest.param({**GOOD_REGISTRY, "username": "me", "password": UNKNOWN}, id="password"),
        pytest.param({**GOOD_REGISTRY, "username": UNKNOWN, "password": PASSWORD}, id="username"),
    ],
)
def test_unknown_registry_values_pass_at_preview(inputs: dict[str, Any]) -> None:
    checked, failures = check_registry_inputs(inputs, is_unknown)
    assert failures == []
    assert checked["name"] == inputs["name"]


def test_unknown_registry_type_gets_no_default_hostname() -> None:
    checked, failures = check_registry_inputs({"name": "m", "registry_type": UNKNOWN}, is_unknown)
    assert failures == []
    assert "hostname" not in checked


def test_unknown_values_are_checked_as_text_without_is_unknown() -> None:
    # Without the engine's marker check the placeholder is an ordinary (bad) hostname.
    _checked, failures = check_registry_inputs({**CUSTOM, "hostname": "a b"})
    assert fields(failures) == ["hostname"]
    _checked, failures = check_registry_inputs({**CUSTOM, "hostname": UNKNOWN}, is_unknown)
    assert failures == []


@pytest.mark.parametrize(
    "inputs",
    [
        pytest.param({"registry_id": GOOD_ID}, id="uuid"),
        pytest.param({"registry_id": "Ab-9._~"}, id="unreserved"),
        pytest.param({"registry_id": "a" * 128}, id="max-length"),
        pytest.param({"registry_id": GOOD_ID, "triggers": {}}, id="empty-triggers"),
        pytest.param({"registry_id": GOOD_ID, "triggers": {"v": 1, "n": [1]}}, id="triggers"),
        pytest.param({"registry_id": UNKNOWN}, id="unknown-id"),
        pytest.param({"registry_id": GOOD_ID, "triggers": UNKNOWN}, id="unknown-triggers"),
        pytest.param({"registry_id": GOOD_ID, "triggers": {"v": UNKNOWN}}, id="unknown-inside"),
    ],
)
def test_good_credentials_inputs_pass(inputs: dict[str, Any]) -> None:
    checked, failures = check_credentials_inputs(inputs, is_unknown)
    assert failures == []
    assert checked == inputs


@pytest.mark.parametrize(
    ("hostname", "problem"),
    [
        ("registry.example.com", None),
        ("registry.example.com:443", None),
        ("[fe80::1%25eth0]", "valid bracketed IPv6"),
        (" ", "must not be blank"),
        ("a/b", "use 'a'"),
    ],
)
def test_hostname_problem(hostname: str, problem: str | None) -> None:
    found = hostname_problem(hostname)
    if problem is None:
        assert found is None
    else:
        assert found is not None
        assert problem in found


# What Nodion stores must be what the state holds, or every `up` finds a change to PATCH.
# The emulator trims a name's surrounding whitespace (Unicode whitespace included), so
# check does: a trimmed name is stored as sent whether Nodion trims or not.
@pytest.mark.parametrize(
    ("given", "stored"),
    [
        pytest.param("0 ", "0", id="trailing-space"),
        pytest.param("\u3000wide", "wide", id="ideographic-space"),
        pytest.param("nbsp\xa0", "nbsp", id="no-break-space"),
        pytest.param(" in  between ", "in  between", id="inner-space-kept"),
    ],
)
def test_a_name_is_checked_as_nodion_stores_it(given: str, stored: str) -> None:
    checked, failures = check_registry_inputs({**GOOD_REGISTRY, "name": given})
    assert failures == []
    assert checked["name"] == stored


@pytest.mark.parametrize("name", ["0 ", "\u3000wide", "nbsp\xa0"])
def test_a_name_with_surrounding_whitespace_converges_after_create(
    name: str, registries: ContainerRegistryProvider, create_registry: CreateRegistry
) -> None:
    registry_id, outs = create_registry(name=name)
    news = registries.check(outs, {**GOOD_REGISTRY, "name": name})
    assert news.failures == []
    assert registries.diff(registry_id, outs, news.inputs).changes is False


LONE_SURROGATE = "\ud800"


@pytest.mark.parametrize(
    ("inputs", "field"),
    [
        pytest.param({**GOOD_REGISTRY, "name": f"a{LONE_SURROGATE}"}, "name", id="name"),
        pytest.param(host(f"reg{LONE_SURROGATE}.example.com/x"), "hostname", id="hostname"),
        pytest.param(
            {**GOOD_REGISTRY, "username": LONE_SURROGATE, "password": PASSWORD},
            "username",
            id="username",
        ),
        pytest.param(
            {**GOOD_REGISTRY, "username": "me", "password": PASSWORD + LONE_SURROGATE},
            "password",
            id="password",
        ),
        pytest.param(
            {**GOOD_REGISTRY, "registry_type": LONE_SURROGATE}, "registry_type", id="type"
        ),
        pytest.param({**GOOD_REGISTRY, "adopt_id": LONE_SURROGATE}, "adopt_id", id="adopt-id"),
    ],
)
def test_registry_text_that_cannot_be_encoded_is_refused(
    inputs: dict[str, Any], field: str
) -> None:
    _checked, failures = check_registry_inputs(inputs, is_unknown)
    assert fields(failures) == [field], failures
    # The reason itself must be sendable: it reaches the engine over gRPC as UTF-8.
    failures[0].reason.encode()
    assert PASSWORD not in failures[0].reason


@pytest.mark.parametrize(
    ("inputs", "field"),
    [
        pytest.param({"registry_id": LONE_SURROGATE}, "registry_id", id="registry-id"),
        pytest.param(
            {"registry_id": GOOD_ID, "triggers": {"v": LONE_SURROGATE}}, "triggers", id="value"
        ),
        pytest.param(
            {"registry_id": GOOD_ID, "triggers": {LONE_SURROGATE: 1}}, "triggers", id="key"
        ),
        pytest.param(
            {"registry_id": GOOD_ID, "triggers": {"v": [{"w": LONE_SURROGATE}]}},
            "triggers",
            id="nested",
        ),
    ],
)
def test_credentials_text_that_cannot_be_encoded_is_refused(
    inputs: dict[str, Any], field: str
) -> None:
    _checked, failures = check_credentials_inputs(inputs, is_unknown)
    assert fields(failures) == [field], failures
    failures[0].reason.encode()


def test_a_name_that_cannot_be_encoded_never_reaches_create(
    registries: ContainerRegistryProvider, api_log: ApiLog
) -> None:
    result = registries.check({}, {**GOOD_REGISTRY, "name": f"x{LONE_SURROGATE}"})
    assert [f.property for f in result.failures] == ["name"]
    assert "UTF-8" in result.failures[0].reason
    assert not [entry for entry in api_log() if entry[0] != "GET"]
