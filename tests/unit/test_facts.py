"""The shared facts, each tested here once; the modules that use them test only that they do."""

from __future__ import annotations

import pytest

import nodion_pulumi
from nodion_pulumi._facts import (
    DEFAULT_HOSTNAMES,
    ExternalRegistryType,
    RegistryType,
    is_loopback_host,
    is_registry_id,
    nodion_registry_hostname,
    region_slug_of,
)


def test_the_type_aliases_are_public() -> None:
    assert nodion_pulumi.ExternalRegistryType is ExternalRegistryType
    assert nodion_pulumi.RegistryType is RegistryType


def test_the_default_hostnames_cannot_be_changed_by_a_caller() -> None:
    with pytest.raises(TypeError):
        DEFAULT_HOSTNAMES["custom"] = "x"  # type: ignore[index]


@pytest.mark.parametrize(
    "value", ["a1b2c3d4-e5f6-7890-abcd-ef1234567890", "abc", "A_b.c~1", "7", "x" * 128]
)
def test_registry_ids(value: str) -> None:
    assert is_registry_id(value)


@pytest.mark.parametrize(
    "value",
    [
        "",
        "a/b",
        "../x",
        "..",
        ".",
        "-a",
        "a b",
        "a?b",
        "a#b",
        "a%2Fb",
        "r\u00e9gistry",
        "x" * 129,
        "abc\n",
        "\n",
        5,
        None,
    ],
)
def test_not_registry_ids(value: object) -> None:
    assert not is_registry_id(value)


def test_a_registry_id_is_at_most_128_characters_of_any_allowed_kind() -> None:
    assert is_registry_id("aZ09-_.~" + "x" * 120)
    assert not is_registry_id("aZ09-_.~" + "x" * 121)


@pytest.mark.parametrize(
    ("hostname", "slug"),
    [
        ("registry.fra.nodion.net", "fra"),
        ("registry.nbg-2.nodion.net", "nbg-2"),
        ("REGISTRY.FRA.NODION.NET", "fra"),
        ("registry.fra.nodion.net.", "fra"),
        (" registry.fra.nodion.net ", "fra"),
        ("registry.nodion.net", None),
        ("registry.a.b.nodion.net", None),
        ("registry.-fra.nodion.net", None),
        ("registry.fra.nodion.net.evil.com", None),
        ("registry.fra.nodion.net\nx", None),
        ("ghcr.io", None),
        ("", None),
    ],
)
def test_region_slug_of(hostname: str, slug: str | None) -> None:
    assert region_slug_of(hostname) == slug


def test_a_regions_hostname_names_the_region() -> None:
    assert nodion_registry_hostname("fra") == "registry.fra.nodion.net"
    assert region_slug_of(nodion_registry_hostname("nbg-2")) == "nbg-2"


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.255.0.1", True),
        ("::1", True),
        ("[::1]", True),
        ("localhost", True),
        ("LOCALHOST", True),
        # Exactly 127.0.0.0/8, localhost and [::1] (DESIGN 3a): a name under .localhost or a
        # trailing dot may be asked of DNS, and a mapped or bracketed IPv4 form is another
        # spelling that a second definition would read differently.
        ("localhost.", False),
        ("api.localhost", False),
        ("x.localhost", False),
        ("[127.0.0.1]", False),
        ("::ffff:127.0.0.1", False),
        ("[::ffff:7f00:1]", False),
        ("127.0.0.1.", False),
        ("0:0:0:0:0:0:0:1", True),
        ("[::1", False),
        ("10.0.0.1", False),
        ("0.0.0.0", False),  # noqa: S104 (a value under test, not a bind address)
        ("192.0.2.10", False),
        ("localhost.example.com", False),
        ("example.com", False),
        ("", False),
    ],
)
def test_is_loopback_host(host: str, loopback: bool) -> None:
    assert is_loopback_host(host) is loopback
