"""The shared provider base: sessions, refresh snapshots, pickling and the resource classes."""

from __future__ import annotations

import base64
import pickle
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from pulumi.dynamic.dynamic import serialize_provider

from nodion_pulumi import _runtime
from nodion_pulumi._client import NodionClient
from nodion_pulumi._config import MISSING_TOKEN_MESSAGE, Settings
from nodion_pulumi._errors import ConfigurationError
from nodion_pulumi._provider import NodionProvider
from nodion_pulumi._session import SNAPSHOT_MAX_AGE, Session
from nodion_pulumi._unknowns import UNKNOWN, is_unknown
from nodion_pulumi._warnings import warn
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


def session_of(client: NodionClient, clock: Any = None) -> Session:
    if clock is None:
        return Session(client.settings, lambda: client)
    return Session(client.settings, lambda: client, clock=clock)


def test_session_reads_as_listed(emulator, outside_client, api_log) -> None:
    session = session_of(outside_client)
    fra = emulator.nodion_registry_id("fra")
    found = session.registry_as_listed(fra)
    assert found is not None
    assert found.hostname == "registry.fra.nodion.net"
    assert session.registry_as_listed("00000000-0000-4000-8000-000000000000") is None
    assert session.registry_as_listed(emulator.nodion_registry_id("hel")) is not None
    assert gets_of(api_log()) == (1, 1)


def test_every_write_of_the_session_drops_its_list(emulator, outside_client, api_log) -> None:
    session = session_of(outside_client)
    fra = emulator.nodion_registry_id("fra")
    writes = [
        lambda: session.create_registry({"name": "new", "registry_type": "ghcr"}),
        lambda: session.create_credentials(fra),
        lambda: session.revoke_credentials(fra),
    ]
    for write in writes:
        session.registry_as_listed(fra)  # the list, now fresh
        write()
        emulator.admin.clear_requests()
        session.registry_as_listed(fra)
        assert gets_of(api_log()) == (1, 0)


def test_the_list_is_taken_once_for_concurrent_readers(emulator, outside_client, api_log) -> None:
    """Single flight: readers that arrive while the list call is out wait for its answer
    instead of sending their own, and nobody holds the session's lock while waiting."""
    entered, release = threading.Event(), threading.Event()

    class SlowList:
        settings = outside_client.settings

        def list_registries(self) -> Any:
            entered.set()
            release.wait()
            return outside_client.list_registries()

    session = Session(outside_client.settings, lambda: SlowList())  # type: ignore[arg-type,return-value]
    fra = emulator.nodion_registry_id("fra")
    with ThreadPoolExecutor(max_workers=4) as pool:
        first = pool.submit(session.registry_as_listed, fra)
        assert entered.wait(timeout=30)
        # While the list call is out, the lock is free: another read of what is known
        # (nothing yet) does not block on it.
        assert pool.submit(session.registry_ref, fra).result(timeout=30).id == fra
        others = [pool.submit(session.registry_as_listed, fra) for _ in range(3)]
        release.set()
        found = [f.result(timeout=30) for f in [first, *others]]
    assert {r.id for r in found if r is not None} == {fra}
    assert gets_of(api_log()) == (1, 0)


def test_an_old_snapshot_is_not_used(emulator, outside_client, api_log) -> None:
    clock = [1000.0]
    session = session_of(outside_client, clock=lambda: clock[0])
    fra = emulator.nodion_registry_id("fra")
    session.registry_as_listed(fra)
    clock[0] += SNAPSHOT_MAX_AGE - 1
    session.registry_as_listed(fra)
    assert gets_of(api_log()) == (1, 0)
    clock[0] += 2
    session.registry_as_listed(fra)
    assert gets_of(api_log()) == (2, 0)


# -- sessions ----------------------------------------------------------------------------


def test_one_session_per_settings(configure, emulator) -> None:
    a = configure(ContainerRegistryProvider())
    b = configure(RegistryCredentialsProvider())
    other = configure(ContainerRegistryProvider(), token="other-token")
    assert a.session is b.session
    assert a.session is a.session
    assert other.session is not a.session
    assert a.session.settings.api_url == emulator.url


def test_a_closed_shared_client_is_replaced_for_the_session(
    configure, fresh_process_state, emulator
) -> None:
    """The dead-session defect: the session kept the client it was made with, so once that
    client was closed every provider call failed with the client's private error."""
    provider = configure(ContainerRegistryProvider())
    session = provider.session
    assert session.registry_as_listed("none") is None
    fresh_process_state.client(provider._config).close()

    created = provider.create({"name": "after-close", "registry_type": "ghcr"})
    assert provider.session is session
    assert provider.read(created.id, created.outs).id == created.id
    assert not fresh_process_state.client(provider._config).closed


def test_settings_are_resolved_once_per_configuration(
    configure, fresh_process_state, monkeypatch
) -> None:
    from nodion_pulumi import _config

    calls: list[object] = []
    resolve = _config.resolve_settings

    def counting(*args: Any, **kwargs: Any) -> Any:
        calls.append(args)
        return resolve(*args, **kwargs)

    monkeypatch.setattr(_runtime, "resolve_settings", counting)
    provider = configure(ContainerRegistryProvider())
    checked = provider.check({}, {"name": "n", "registry_type": "ghcr"})
    provider.create(checked.inputs)
    assert len(calls) == 1


def test_a_configuration_error_reads_the_same_every_time(configure) -> None:
    provider = configure(ContainerRegistryProvider(), token=None)
    messages = set()
    for call in (
        lambda: provider.create({"name": "x", "registry_type": "ghcr"}),
        lambda: provider.read("some-id", {}),
        lambda: provider.delete("some-id", {}),
    ):
        with pytest.raises(ConfigurationError) as raised:
            call()
        messages.add(str(raised.value))
    [message] = messages
    assert message == MISSING_TOKEN_MESSAGE
    [failure] = provider.check({}, {"name": "n", "registry_type": "ghcr"}).failures
    assert failure.reason == MISSING_TOKEN_MESSAGE


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
    configure, provider_class: type[NodionProvider]
) -> None:
    provider = configure(provider_class())
    provider.session.registries_now()  # a live client and session exist
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
