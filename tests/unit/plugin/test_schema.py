"""The committed schema.json against the plugin's behaviour: what the schema promises
(inputs, outputs, secrets, function results, the version) is what the plugin does."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from pulumi.provider.experimental.property_value import PropertyValue
from pulumi.provider.experimental.provider import (
    CheckRequest,
    CreateRequest,
    GetSchemaRequest,
    InvokeRequest,
)

import nodion_pulumi
from nodion_pulumi.emulator import Emulator
from nodion_pulumi.plugin._provider import NodionPlugin

Run = Callable[..., Any]
SCHEMA_FILE = Path(nodion_pulumi.__file__).parent / "plugin" / "schema.json"
SCHEMA: dict[str, Any] = json.loads(SCHEMA_FILE.read_text())
REGISTRY = "nodion:index:ContainerRegistry"
CREDENTIALS = "nodion:index:RegistryCredentials"


def urn(token: str) -> str:
    return f"urn:pulumi:test::proj::{token}::x"


def described(where: str, properties: dict[str, Any]) -> Iterator[str]:
    for name, spec in properties.items():
        if not spec.get("description"):
            yield f"{where}.{name}"


def test_the_plugin_serves_the_committed_schema(plugin: NodionPlugin, run: Run) -> None:
    served = run(plugin.get_schema(GetSchemaRequest(0))).schema
    assert json.loads(served) == SCHEMA


def test_the_schema_carries_the_package_version() -> None:
    assert SCHEMA["version"] == nodion_pulumi.__version__


def test_every_property_has_a_description() -> None:
    missing = [*described("config", SCHEMA["config"]["variables"])]
    for token, resource in SCHEMA["resources"].items():
        assert resource["description"], token
        missing += described(f"{token} input", resource["inputProperties"])
        missing += described(f"{token} output", resource["properties"])
    for token, function in SCHEMA["functions"].items():
        assert function["description"], token
        missing += described(f"{token} input", function.get("inputs", {}).get("properties", {}))
        missing += described(f"{token} output", function["outputs"]["properties"])
    for token, kind in SCHEMA["types"].items():
        missing += described(token, kind["properties"])
    assert missing == []


def test_the_api_token_and_the_passwords_are_secret_in_the_schema() -> None:
    registry = SCHEMA["resources"][REGISTRY]
    credentials = SCHEMA["resources"][CREDENTIALS]
    assert SCHEMA["config"]["variables"]["apiToken"]["secret"] is True
    assert registry["inputProperties"]["password"]["secret"] is True
    assert registry["properties"]["password"]["secret"] is True
    assert credentials["properties"]["password"]["secret"] is True
    assert credentials["properties"]["dockerConfigJson"]["secret"] is True


def test_every_listed_input_is_accepted_and_nothing_else(plugin: NodionPlugin, run: Run) -> None:
    examples = {
        REGISTRY: {
            "name": "m",
            "registryType": "custom",
            "hostname": "r.example.com",
            "username": "u",
            "password": "pw-123456",
        },
        CREDENTIALS: {
            "registryId": PropertyValue.computed(),
            "triggers": {"v": PropertyValue("1")},
        },
    }
    for token, given in examples.items():
        assert set(given) == set(SCHEMA["resources"][token]["inputProperties"]), token
        inputs = {
            k: v if isinstance(v, PropertyValue) else PropertyValue(v) for k, v in given.items()
        }
        checked = run(plugin.check(CheckRequest(urn(token), {}, inputs, b"")))
        assert checked.failures == [], token
        extra = {**inputs, "colour": PropertyValue("blue")}
        refused = run(plugin.check(CheckRequest(urn(token), {}, extra, b"")))
        assert [f.property for f in refused.failures] == ["colour"], token


def secret_outputs(token: str) -> set[str]:
    properties = SCHEMA["resources"][token]["properties"]
    return {name for name, spec in properties.items() if spec.get("secret")}


def test_outputs_are_listed_and_secret_exactly_where_the_schema_says(
    plugin: NodionPlugin, run: Run, emulator: Emulator
) -> None:
    fra = next(r for r in emulator.admin.registries() if r["registry_type"] == "nodion")
    inputs = {
        REGISTRY: {
            "name": PropertyValue("m"),
            "registryType": PropertyValue("ghcr"),
            "username": PropertyValue("u"),
            "password": PropertyValue("pw-123456"),
        },
        CREDENTIALS: {"registryId": PropertyValue(fra["id"])},
    }
    for token, given in inputs.items():
        checked = run(plugin.check(CheckRequest(urn(token), {}, given, b"")))
        made = run(plugin.create(CreateRequest(urn(token), checked.inputs, 60, False)))
        outputs = made.properties
        listed = SCHEMA["resources"][token]
        assert set(outputs) <= set(listed["properties"]), token
        assert set(listed["required"]) <= set(outputs), token
        assert {name for name, value in outputs.items() if value.is_secret} == secret_outputs(token)


def test_function_results_match_their_outputs(plugin: NodionPlugin, run: Run) -> None:
    registry = SCHEMA["types"]["nodion:index:Registry"]
    fra = run(
        plugin.invoke(
            InvokeRequest("nodion:index:getNodionRegistry", {"region": PropertyValue("fra")})
        )
    ).return_value
    every = run(plugin.invoke(InvokeRequest("nodion:index:getContainerRegistries", {})))
    for token, result in (
        ("nodion:index:getNodionRegistry", fra),
        ("nodion:index:getContainerRegistries", every.return_value),
    ):
        outputs = SCHEMA["functions"][token]["outputs"]
        assert set(outputs["required"]) <= set(result) <= set(outputs["properties"]), token
    for item in every.return_value["registries"].value:
        assert set(registry["required"]) <= set(item.value) <= set(registry["properties"])
