"""The shared provider base: sessions, refresh snapshots, pickling and the resource classes."""

from __future__ import annotations

import base64
import pickle
from typing import Any

import pytest
from pulumi.dynamic.dynamic import serialize_provider

from nodion_pulumi import _provider
from nodion_pulumi._client import NodionClient
from nodion_pulumi._config import Settings
from nodion_pulumi._provider import UNKNOWN, Session, is_unknown, warn
from nodion_pulumi.container_registry import (
    ContainerRegistry,
    ContainerRegistryArgs,
    ContainerRegistryProvider,
)
from nodion_pulumi.emulator import Emulator
from nodion_pulumi.registry_credentials import (
    RegistryCredentials,
    RegistryCredentialsArgs,
    RegistryCredentialsProvider,
)

LIST = ("GET", "/v1/container_registries")


def gets_of(log: list[tuple[str, str, list[str]]]) -> tuple[int, int]:
    """(list requests, single-registry GETs) in an API log."""
    lists = sum(1 for m, p, _k in log if (m, p) == LIST)
    gets = sum(1 for m, p, _k in log if m == "GET" and p.startswith(LIST[1] + "/"))
    return lists, gets


@pytest.fixture
def outside_client(emulator: Emulator) -> Any:
    """A client that is not the providers' session: its writes are "out of band"."""
    client = NodionClient(Settings(api_token="test-token", api_url=emulator.url))  # type: ignore[arg-type]
    yield client
    client.close()


# -- refresh snapshot --------------------------------------------------------------------


def test_fifty_reads_make_one_list_request(registries, create_registry, emulator, api_log) -> None:
    created = [create_registry(name=f"mirror-{i}") for i in range(50)]
    emulator.admin.clear_requests()

    results = [registries.read(registry_id, outs) for registry_id, outs in created]

    assert [r.id for r in results] == [registry_id for registry_id, _outs in created]
    assert [r.outs["name"] for r in results] == [f"mirror-{i}" for i in range(50)]
    assert gets_of(api_log()) == (1, 0)
    assert len(api_log()) == 1


def test_reads_share_the_snapshot_across_provider_types(
    registries, credentials, create_registry, emulator, api_log
) -> None:
    registry_id, outs = create_registry()
    fra = emulator.nodion_registry_id("fra")
    creds = credentials.create({"registry_id": fra}).outs
    emulator.admin.clear_requests()
    assert registries.read(registry_id, outs).id == registry_id
    assert credentials.read(fra, creds).id == fra
    assert gets_of(api_log()) == (1, 0)


def test_our_own_create_drops_the_snapshot(registries, create_registry, emulator, api_log) -> None:
    first_id, first = create_registry(name="first")
    emulator.admin.clear_requests()
    registries.read(first_id, first)
    second_id, second = create_registry(name="second")
    result = registries.read(second_id, second)
    assert result.id == second_id
    assert result.outs["name"] == "second"
    # One list before the create, one after it; the new registry is in the second list.
    assert gets_of(api_log()) == (2, 0)


def test_no_stale_read_after_our_own_update(registries, create_registry) -> None:
    registry_id, outs = create_registry(name="before")
    assert registries.read(registry_id, outs).outs["name"] == "before"
    news = {**{k: outs[k] for k in ("name", "registry_type", "hostname")}, "name": "after"}
    updated = registries.update(registry_id, outs, news).outs
    assert registries.read(registry_id, updated).outs["name"] == "after"


def test_no_stale_read_after_our_own_delete(registries, create_registry) -> None:
    registry_id, outs = create_registry()
    assert registries.read(registry_id, outs).id == registry_id
    registries.delete(registry_id, outs)
    assert registries.read(registry_id, outs).id == ""


def test_a_failed_write_still_drops_the_snapshot(
    registries, create_registry, emulator, api_log
) -> None:
    registry_id, outs = create_registry()
    registries.read(registry_id, outs)
    emulator.admin.add_fault("status", method="PATCH", status=400)
    with pytest.raises(Exception, match="HTTP 400"):
        registries.update(registry_id, outs, {**outs, "name": "x"})
    emulator.admin.clear_requests()
    registries.read(registry_id, outs)
    assert gets_of(api_log()) == (1, 0)


def test_an_id_missing_from_the_snapshot_is_confirmed_with_a_get(
    registries, create_registry, outside_client, emulator, api_log
) -> None:
    registry_id, outs = create_registry()
    emulator.admin.clear_requests()
    registries.read(registry_id, outs)  # takes the snapshot
    # Created by someone else after the snapshot: only a GET can see it.
    late = outside_client.create_registry(name="late", registry_type="ghcr")
    emulator.admin.clear_requests()

    result = registries.read(late.id, {"created_at": "x", "name": "late"})
    assert result.id == late.id
    assert result.outs["name"] == "late"
    assert api_log() == [("GET", f"/v1/container_registries/{late.id}", [])]


def test_a_registry_gone_from_snapshot_and_api_is_reported_gone(
    registries, create_registry, emulator, api_log
) -> None:
    registry_id, outs = create_registry()
    emulator.admin.delete_registry(registry_id)
    emulator.admin.clear_requests()
    assert registries.read(registry_id, outs).id == ""
    assert api_log() == [
        ("GET", "/v1/container_registries", []),
        ("GET", f"/v1/container_registries/{registry_id}", []),
    ]


def test_session_read_registry_directly(emulator, outside_client, api_log) -> None:
    session = Session(outside_client)
    fra = emulator.nodion_registry_id("fra")
    found = session.read_registry(fra)
    assert found is not None
    assert found.hostname == "registry.fra.nodion.net"
    assert session.read_registry("00000000-0000-4000-8000-000000000000") is None
    assert session.read_registry(emulator.nodion_registry_id("hel")) is not None
    assert gets_of(api_log()) == (1, 1)
    session.wrote()
    session.read_registry(fra)
    assert gets_of(api_log()) == (2, 1)


def test_an_old_snapshot_is_not_used(monkeypatch, emulator, outside_client, api_log) -> None:
    clock = [1000.0]
    monkeypatch.setattr(_provider.time, "monotonic", lambda: clock[0])
    session = Session(outside_client)
    fra = emulator.nodion_registry_id("fra")
    session.read_registry(fra)
    clock[0] += _provider.SNAPSHOT_MAX_AGE - 1
    session.read_registry(fra)
    assert gets_of(api_log()) == (1, 0)
    clock[0] += 2
    session.read_registry(fra)
    assert gets_of(api_log()) == (2, 0)


# -- sessions ----------------------------------------------------------------------------


def test_one_session_per_settings(configure, emulator) -> None:
    a = configure(ContainerRegistryProvider())
    b = configure(RegistryCredentialsProvider())
    other = configure(ContainerRegistryProvider(), token="other-token")
    assert a.session is b.session
    assert a.session is a.session
    assert other.session is not a.session
    assert a.session.client.settings.api_url == emulator.url
    assert len(_provider._sessions) == 2


def test_configure_keeps_only_nodion_keys(registries, emulator) -> None:
    assert registries._config == {
        "nodion:apiToken": "test-token",
        "nodion:apiUrl": emulator.url,
        "nodion:projectId": None,
        "nodion:timeout": None,
        "nodion:verifyCredentials": None,
    }


def test_is_unknown() -> None:
    assert is_unknown(UNKNOWN)
    assert is_unknown({"a": {"b": [1, UNKNOWN]}})
    assert is_unknown((UNKNOWN,))
    assert not is_unknown("known")
    assert not is_unknown({"a": [1, "b"], "c": None})
    assert not is_unknown(None)
    assert not is_unknown(UNKNOWN[:-1])


def test_warn_writes_to_stderr(capsys) -> None:
    warn("look at the dashboard")
    captured = capsys.readouterr()
    assert captured.err == "warning: look at the dashboard\n"
    assert captured.out == ""


# -- the pickled providers and the resource classes --------------------------------------


@pytest.mark.parametrize("provider_class", [ContainerRegistryProvider, RegistryCredentialsProvider])
def test_the_pickled_provider_is_small_and_holds_no_token(
    configure, provider_class: type[_provider.NodionProvider]
) -> None:
    provider = configure(provider_class())
    provider.session.client.list_registries()  # a live client and session exist
    serialized = serialize_provider(provider)
    raw = base64.b64decode(serialized)
    assert len(serialized) < 300
    assert b"test-token" not in raw
    assert b"127.0.0.1" not in raw
    restored = pickle.loads(raw)  # noqa: S301 - our own bytes
    assert type(restored) is provider_class
    assert restored._config is None
    assert provider_class.serialize_as_secret_always is False


@pytest.mark.parametrize(
    "module_provider",
    [
        pytest.param("nodion_pulumi.container_registry", id="ContainerRegistry"),
        pytest.param("nodion_pulumi.registry_credentials", id="RegistryCredentials"),
    ],
)
def test_the_resources_own_provider_pickles_by_reference(
    monkeypatch, configure, module_provider: str
) -> None:
    import importlib

    instance = importlib.import_module(module_provider)._PROVIDER
    monkeypatch.setattr(instance, "_config", None, raising=False)
    configure(instance, token="tok-SECRET-4242")
    raw = base64.b64decode(serialize_provider(instance))
    # By reference to the state contract, nodion_pulumi.state.provider(kind).
    assert b"nodion_pulumi.state" in raw
    assert instance.kind.encode() in raw
    assert b"tok-SECRET-4242" not in raw
    assert len(raw) < 200


def test_container_registry_refuses_args_and_keywords_together() -> None:
    args = ContainerRegistryArgs(name="hub", registry_type="docker_hub")
    with pytest.raises(TypeError) as raised:
        ContainerRegistry("hub", args, name="other", password="p")
    message = str(raised.value)
    assert "'hub'" in message
    assert "not both" in message
    assert "name, password" in message


def test_registry_credentials_refuses_args_and_keywords_together() -> None:
    args = RegistryCredentialsArgs(registry_id="abc")
    with pytest.raises(TypeError, match="not both"):
        RegistryCredentials("push", args, triggers={"v": 1})


@pytest.mark.parametrize(
    ("cls", "args_class"),
    [
        (ContainerRegistry, "ContainerRegistryArgs"),
        (RegistryCredentials, "RegistryCredentialsArgs"),
    ],
)
def test_args_of_another_type_are_refused_by_name(cls: type, args_class: str) -> None:
    with pytest.raises(TypeError) as raised:
        cls("r", {"name": "hub"})
    assert f"args must be a {args_class} (got dict)" in str(raised.value)


def test_args_classes_keep_their_values() -> None:
    args = ContainerRegistryArgs(
        name="n", registry_type="custom", hostname="h", username="u", password="p"
    )
    assert (args.name, args.registry_type, args.hostname, args.username, args.password) == (
        "n",
        "custom",
        "h",
        "u",
        "p",
    )
    creds = RegistryCredentialsArgs(registry_id="abc", triggers={"v": 1})
    assert (creds.registry_id, creds.triggers) == ("abc", {"v": 1})


def test_sdk_unknown_objects_are_unknown() -> None:
    from pulumi.output import Unknown

    assert is_unknown(Unknown())
    assert is_unknown({"a": [1, Unknown()]})
    assert not is_unknown({"a": [1, "known"]})
