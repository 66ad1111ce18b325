"""The plugin's provider, driven as the engine drives it, against the emulator: the same
behaviour as the dynamic resources, in the plugin's names, with secrets marked."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import pytest
from pulumi.provider.experimental.property_value import PropertyValue
from pulumi.provider.experimental.provider import (
    CheckRequest,
    ConfigureRequest,
    CreateRequest,
    DeleteRequest,
    DiffRequest,
    InvokeRequest,
    PropertyDiffKind,
    ReadRequest,
    UpdateRequest,
)

from nodion_pulumi._errors import NodionError, NoSuchRegionError
from nodion_pulumi._unknowns import UNKNOWN
from nodion_pulumi.emulator import Emulator
from nodion_pulumi.plugin._provider import NodionPlugin

Run = Callable[..., Any]
REGISTRY = "urn:pulumi:test::proj::nodion:index:ContainerRegistry::mirror"
CREDENTIALS = "urn:pulumi:test::proj::nodion:index:RegistryCredentials::fra"
PASSWORD = "Hunter2-s3cret-PW"


def values(plain: Mapping[str, Any], secret: tuple[str, ...] = ()) -> dict[str, PropertyValue]:
    return {key: PropertyValue(value, is_secret=key in secret) for key, value in plain.items()}


def plain(properties: Mapping[str, PropertyValue]) -> dict[str, Any]:
    return {key: value.value for key, value in properties.items()}


def created(plugin: NodionPlugin, run: Run, urn: str, inputs: dict[str, PropertyValue]) -> Any:
    """Check then create, as `pulumi up` does."""
    checked = run(plugin.check(CheckRequest(urn, {}, inputs, b"")))
    assert checked.failures == []
    return run(plugin.create(CreateRequest(urn, checked.inputs, 60, False)))


def mirror_inputs(**more: Any) -> dict[str, PropertyValue]:
    given = {
        "name": "mirror",
        "registryType": "custom",
        "hostname": "registry.example.com",
        "username": "me",
        "password": PASSWORD,
        **more,
    }
    return values(given, secret=("password",))


def fra_id(emulator: Emulator) -> str:
    return next(
        r["id"] for r in emulator.admin.registries() if r["hostname"] == "registry.fra.nodion.net"
    )


def test_check_names_the_field_in_camel_case_before_any_request(
    plugin: NodionPlugin, run: Run, emulator: Emulator
) -> None:
    emulator.admin.clear_requests()
    checked = run(
        plugin.check(CheckRequest(REGISTRY, {}, values({"name": "x", "registryType": "quay"}), b""))
    )
    assert [f.property for f in checked.failures] == ["registryType"]
    assert "docker_hub" in checked.failures[0].reason
    assert emulator.admin.requests() == []


def test_check_refuses_an_input_the_schema_does_not_list(plugin: NodionPlugin, run: Run) -> None:
    inputs = values({"name": "x", "registryType": "docker_hub", "adoptId": "r-1"})
    checked = run(plugin.check(CheckRequest(REGISTRY, {}, inputs, b"")))
    assert [f.property for f in checked.failures] == ["adoptId"]
    assert "name, registryType, hostname, username, password" in checked.failures[0].reason


def test_check_accepts_unknowns_and_returns_them_unknown(plugin: NodionPlugin, run: Run) -> None:
    """An SDK that hands the plugin ``Computed`` gets the unknown back in the form the
    engine reads (its wire sentinel; test_server checks what the SDK itself sends)."""
    inputs = {"registryId": PropertyValue.computed()}
    checked = run(plugin.check(CheckRequest(CREDENTIALS, {}, inputs, b"")))
    assert checked.failures == []
    assert checked.inputs["registryId"] == PropertyValue(UNKNOWN)
    PropertyValue.marshal_map(checked.inputs)  # what the servicer does with the answer


def test_check_stores_the_password_as_a_secret_even_when_given_plain(
    plugin: NodionPlugin, run: Run
) -> None:
    inputs = values({"name": "m", "registryType": "ghcr", "username": "u", "password": PASSWORD})
    checked = run(plugin.check(CheckRequest(REGISTRY, {}, inputs, b"")))
    assert checked.inputs["password"].is_secret
    assert checked.inputs["hostname"] == PropertyValue("ghcr.io")  # the default, filled in


def test_create_read_update_delete_of_an_external_registry(
    plugin: NodionPlugin, run: Run, emulator: Emulator
) -> None:
    made = created(plugin, run, REGISTRY, mirror_inputs())
    outputs = made.properties
    assert outputs["password"].is_secret
    assert outputs["password"].value == PASSWORD
    assert not outputs["name"].is_secret
    assert {"status", "hasCredentials", "createdAt", "updatedAt"} <= set(outputs)
    stored = next(r for r in emulator.admin.registries() if r["id"] == made.resource_id)
    assert stored["name"] == "mirror"

    news = mirror_inputs(name="renamed")
    diff = run(plugin.diff(DiffRequest(REGISTRY, made.resource_id, outputs, news, [])))
    assert diff.changes is True
    assert diff.replaces == []
    assert {k: v.kind for k, v in diff.detailed_diff.items()} == {"name": PropertyDiffKind.UPDATE}

    emulator.admin.clear_requests()
    updated = run(
        plugin.update(UpdateRequest(REGISTRY, made.resource_id, outputs, news, 60, [], False))
    )
    writes = [(e["method"], e["body_keys"]) for e in emulator.admin.requests()]
    assert writes == [("PATCH", ["name"])]
    assert updated.properties["name"].value == "renamed"
    assert updated.properties["password"].is_secret

    read = run(plugin.read(ReadRequest(REGISTRY, made.resource_id, updated.properties, news)))
    assert read.resource_id == made.resource_id
    assert read.properties["password"].is_secret
    assert read.inputs["password"].is_secret

    run(plugin.delete(DeleteRequest(REGISTRY, made.resource_id, updated.properties, 60)))
    assert all(r["id"] != made.resource_id for r in emulator.admin.registries())


def test_a_new_registry_type_replaces(plugin: NodionPlugin, run: Run) -> None:
    made = created(plugin, run, REGISTRY, mirror_inputs())
    news = mirror_inputs(registryType="docker_hub", hostname="docker.io")
    diff = run(plugin.diff(DiffRequest(REGISTRY, made.resource_id, made.properties, news, [])))
    assert diff.replaces == ["registryType"]
    assert diff.detailed_diff["registryType"].kind is PropertyDiffKind.UPDATE_REPLACE


def test_import_reads_the_inputs_the_api_shows_without_the_login(
    plugin: NodionPlugin, run: Run
) -> None:
    made = created(plugin, run, REGISTRY, mirror_inputs())
    imported = run(plugin.read(ReadRequest(REGISTRY, made.resource_id, {}, {})))
    assert plain(imported.inputs) == {
        "name": "mirror",
        "registryType": "custom",
        "hostname": "registry.example.com",
    }
    assert "password" not in imported.properties


def test_credentials_outputs_are_secret_and_what_nodion_issued(
    plugin: NodionPlugin, run: Run, emulator: Emulator
) -> None:
    registry_id = fra_id(emulator)
    made = created(plugin, run, CREDENTIALS, values({"registryId": registry_id}))
    outputs = made.properties
    assert made.resource_id == registry_id
    assert outputs["password"].is_secret
    assert outputs["dockerConfigJson"].is_secret
    assert not outputs["username"].is_secret
    assert outputs["hostname"].value == "registry.fra.nodion.net"
    assert str(outputs["password"].value) in str(outputs["dockerConfigJson"].value)
    # Nodion shows the password once: a second owner is refused at preview.
    again = run(
        plugin.check(CheckRequest(CREDENTIALS + "2", {}, values({"registryId": registry_id}), b""))
    )
    assert [f.property for f in again.failures] == ["registryId"]


def test_rotation_by_triggers_revokes_first(
    plugin: NodionPlugin, run: Run, emulator: Emulator
) -> None:
    registry_id = fra_id(emulator)
    made = created(plugin, run, CREDENTIALS, values({"registryId": registry_id}))
    news = {
        "registryId": PropertyValue(registry_id),
        "triggers": PropertyValue({"v": PropertyValue(2.0)}),
    }
    diff = run(plugin.diff(DiffRequest(CREDENTIALS, registry_id, made.properties, news, [])))
    assert diff.replaces == ["triggers"]
    assert diff.delete_before_replace
    assert diff.detailed_diff["triggers"].kind is PropertyDiffKind.ADD_REPLACE


def test_importing_credentials_is_refused_saying_why(
    plugin: NodionPlugin, run: Run, emulator: Emulator
) -> None:
    with pytest.raises(
        NodionError, match="cannot be imported: Nodion shows their password only once"
    ):
        run(plugin.read(ReadRequest(CREDENTIALS, fra_id(emulator), {}, {})))


def test_lookups_as_functions(plugin: NodionPlugin, run: Run, emulator: Emulator) -> None:
    fra = run(
        plugin.invoke(InvokeRequest("nodion:index:getNodionRegistry", values({"region": "fra"})))
    ).return_value
    assert fra["hostname"].value == "registry.fra.nodion.net"
    assert fra["registryType"].value == "nodion"
    one = run(
        plugin.invoke(InvokeRequest("nodion:index:getContainerRegistry", {"id": fra["id"]}))
    ).return_value
    assert one == fra
    every = run(
        plugin.invoke(InvokeRequest("nodion:index:getContainerRegistries", {}))
    ).return_value
    listed = every["registries"].value
    assert len(listed) == len(emulator.admin.registries())
    with pytest.raises(NoSuchRegionError, match="Available regions: fra"):
        run(
            plugin.invoke(
                InvokeRequest("nodion:index:getNodionRegistry", values({"region": "xyz"}))
            )
        )


def test_settings_from_typed_config_and_the_environment(
    run: Run, emulator: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Typed languages send numbers and booleans; a key left unset falls back to NODION_*."""
    monkeypatch.setenv("NODION_API_TOKEN", "test-token")
    made = NodionPlugin()
    args = {
        "apiUrl": PropertyValue(emulator.url),
        "timeout": PropertyValue(7.0),
        "verifyCredentials": PropertyValue(False),
    }
    answer = run(made.configure(ConfigureRequest({}, args, True, True)))
    assert answer.accept_secrets
    registries = run(made.invoke(InvokeRequest("nodion:index:getContainerRegistries", {})))
    assert registries.return_value["registries"].value
    # What the resources' operations use: the typed values taken, the token from NODION_*.
    settings = made._provider("nodion:index:RegistryCredentials").session.settings
    assert (settings.api_url, settings.timeout, settings.verify_credentials) == (
        emulator.url,
        7.0,
        False,
    )
    assert settings.api_token.get_secret_value() == "test-token"


def test_the_api_token_is_stored_as_a_secret_however_it_was_given(
    plugin: NodionPlugin, run: Run
) -> None:
    """The engine stores the provider's checked inputs in the state: a token set without
    --secret must still be encrypted there."""
    news = {"apiToken": PropertyValue("plain-token"), "apiUrl": PropertyValue("https://x/v1")}
    checked = run(plugin.check_config(CheckRequest("urn:p", {}, news, b"")))
    assert checked.inputs["apiToken"].is_secret
    assert not checked.inputs["apiUrl"].is_secret


def test_a_missing_token_fails_the_check_of_a_new_resource(run: Run, emulator: Emulator) -> None:
    made = NodionPlugin()
    run(made.configure(ConfigureRequest({}, {"apiUrl": PropertyValue(emulator.url)}, True, True)))
    checked = run(
        made.check(CheckRequest(REGISTRY, {}, values({"name": "x", "registryType": "ghcr"}), b""))
    )
    assert len(checked.failures) == 1
    assert "nodion:apiToken" in checked.failures[0].reason
