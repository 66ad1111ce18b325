"""The read-only lookups, configured from the environment (or stack config) as in a program."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Awaitable
from typing import Any

import httpx
import pulumi
import pytest

from nodion_pulumi import _runtime, lookups
from nodion_pulumi._client import NodionClient
from nodion_pulumi._config import Settings
from nodion_pulumi._errors import ConfigurationError, InvalidRegistryIdError, NotFoundError
from nodion_pulumi.container_registry import ContainerRegistryProvider
from nodion_pulumi.emulator import Emulator
from nodion_pulumi.lookups import (
    NoSuchRegionError,
    Registry,
    get_container_registries,
    get_container_registries_output,
    get_container_registry,
    get_container_registry_output,
    get_nodion_registry,
    get_nodion_registry_output,
)

REGIONS = ("fra", "nbg", "ams", "hel")


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, emulator: Emulator) -> Emulator:
    monkeypatch.setenv("NODION_API_TOKEN", "test-token")
    monkeypatch.setenv("NODION_API_URL", emulator.url)
    return emulator


def resolve(make: Any) -> Any:
    """Build an Output inside an event loop and wait for its value."""

    async def run() -> Any:
        output: pulumi.Output[Any] = make()
        future: Awaitable[Any] = output.future()
        return await future

    return asyncio.run(run())


def test_list_returns_every_registry(env) -> None:
    registries = get_container_registries()
    assert all(isinstance(r, Registry) for r in registries)
    assert [r.region_slug for r in registries] == list(REGIONS)
    assert all(r.is_nodion for r in registries)


def test_get_by_id(env) -> None:
    fra = env.nodion_registry_id("fra")
    registry = get_container_registry(fra)
    assert registry.id == fra
    assert registry.hostname == "registry.fra.nodion.net"
    with pytest.raises(NotFoundError, match="get container registry failed: HTTP 404"):
        get_container_registry("00000000-0000-4000-8000-000000000000")
    with pytest.raises(InvalidRegistryIdError):
        get_container_registry("../secrets")


@pytest.mark.parametrize("slug", REGIONS)
def test_nodion_registry_by_slug(env, slug: str) -> None:
    registry = get_nodion_registry(slug)
    assert registry.id == env.nodion_registry_id(slug)
    assert registry.hostname == f"registry.{slug}.nodion.net"


def test_nodion_registry_by_region_id_and_hostname(env) -> None:
    fra = get_nodion_registry("fra")
    assert fra.region_id
    assert get_nodion_registry(fra.region_id).id == fra.id
    assert get_nodion_registry("registry.fra.nodion.net").id == fra.id
    assert get_nodion_registry(" FRA ").id == fra.id
    assert get_nodion_registry("Registry.Fra.Nodion.Net").id == fra.id


def test_nodion_registry_ignores_external_registries(env) -> None:
    settings = Settings(api_token="test-token", api_url=env.url)  # type: ignore[arg-type]
    with NodionClient(settings) as client:
        client.create_registry(name="fra", registry_type="custom", hostname="fra")
    registry = get_nodion_registry("fra")
    assert registry.is_nodion


@pytest.mark.parametrize("region", ["xyz", "Frankfurt", "registry.xyz.nodion.net"])
def test_an_unknown_region_lists_the_available_ones(env, region: str) -> None:
    with pytest.raises(NoSuchRegionError) as raised:
        get_nodion_registry(region)
    message = str(raised.value)
    assert repr(region) in message
    assert "Available regions:" in message
    for slug in REGIONS:
        assert f"{slug} (registry.{slug}.nodion.net" in message
    assert isinstance(raised.value, LookupError)


@pytest.mark.parametrize("region", ["", "  ", None, 7])
def test_a_blank_region_says_what_is_expected(env, region: Any) -> None:
    with pytest.raises(NoSuchRegionError, match="region slug such as 'fra'"):
        get_nodion_registry(region)
    assert env.admin.requests() == []


def test_the_client_is_shared(env, api_log) -> None:
    first = lookups._client()
    get_container_registries()
    get_nodion_registry("fra")
    get_container_registry(env.nodion_registry_id("nbg"))
    assert lookups._client() is first
    assert len(api_log()) == 3  # lookups are not cached, only the client


def test_another_configuration_gets_another_client(env, monkeypatch) -> None:
    first = lookups._client()
    monkeypatch.setenv("NODION_PROJECT_ID", "428d037e-9ba6-4dab-92bd-8d816c523126")
    second = lookups._client()
    assert second is not first
    assert second.settings.project_id == "428d037e-9ba6-4dab-92bd-8d816c523126"


def test_lookups_and_providers_share_one_client(env, configure) -> None:
    configure(ContainerRegistryProvider())  # the same URL and token as env
    provider_config = {"nodion:apiUrl": env.url, "nodion:apiToken": "test-token"}
    assert lookups._client() is _runtime.current().client(provider_config)
    other = {**provider_config, "nodion:apiToken": "other-token"}
    assert lookups._client() is not _runtime.current().client(other)


def test_a_closed_client_is_replaced(env) -> None:
    first = lookups._client()
    first.close()
    second = lookups._client()
    assert second is not first
    assert not second.closed
    assert [r.region_slug for r in get_container_registries()] == list(REGIONS)


def test_stack_config_wins_over_the_environment(monkeypatch, emulator) -> None:
    monkeypatch.setenv("NODION_API_TOKEN", "wrong-token")
    monkeypatch.setenv("NODION_API_URL", "http://127.0.0.1:9/v1")
    monkeypatch.setenv(
        "PULUMI_CONFIG",
        json.dumps({"nodion:apiToken": "test-token", "nodion:apiUrl": emulator.url}),
    )
    assert get_nodion_registry("nbg").id == emulator.nodion_registry_id("nbg")


def test_a_missing_token_names_the_commands(emulator) -> None:
    with pytest.raises(ConfigurationError) as raised:
        get_container_registries()
    assert "pulumi config set --secret nodion:apiToken" in str(raised.value)
    assert "export NODION_API_TOKEN" in str(raised.value)
    assert emulator.admin.requests() == []


def test_output_twins(env) -> None:
    fra = env.nodion_registry_id("fra")
    assert resolve(lambda: get_nodion_registry_output("fra")).id == fra
    assert resolve(lambda: get_nodion_registry_output(pulumi.Output.from_input("ams"))).id == (
        env.nodion_registry_id("ams")
    )
    assert resolve(lambda: get_container_registry_output(fra)).hostname == (
        "registry.fra.nodion.net"
    )
    assert len(resolve(get_container_registries_output)) == len(REGIONS)


ISO_8601 = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}[+-]\d\d:\d\d")


def test_a_result_holds_the_api_object_with_iso_timestamps(env) -> None:
    fra = get_nodion_registry("fra")
    assert set(vars(fra)) == {
        "id",
        "status",
        "registry_type",
        "name",
        "hostname",
        "has_credentials",
        "region_id",
        "created_at",
        "updated_at",
    }
    assert ISO_8601.fullmatch(fra.created_at)
    assert ISO_8601.fullmatch(fra.updated_at)
    # Only plain values: what the SDK can export, and what a JSON document can hold.
    assert json.loads(json.dumps(vars(fra))) == vars(fra)


def test_a_result_keeps_the_timestamps_nodion_sent(env) -> None:
    settings = Settings(api_token="test-token", api_url=env.url)  # type: ignore[arg-type]
    with NodionClient(settings) as client:
        hub = client.create_registry(name="hub", registry_type="docker_hub")
    answer = httpx.get(
        f"{env.url}/container_registries/{hub.id}",
        headers={"Authorization": "Bearer test-token"},
    )
    raw = answer.json()["container_registry"]
    found = get_container_registry(hub.id)
    assert (found.created_at, found.updated_at) == (raw["created_at"], raw["updated_at"])


def test_a_result_is_read_only(env) -> None:
    fra = get_nodion_registry("fra")
    with pytest.raises(AttributeError):
        fra.hostname = "evil.example"  # type: ignore[misc]
    with pytest.raises(AttributeError, match="read-only"):
        fra.extra = 1  # type: ignore[attr-defined]
    assert fra == get_nodion_registry("fra")
    assert len({fra, get_nodion_registry("fra"), get_nodion_registry("nbg")}) == 2
    assert "registry.fra.nodion.net" in repr(fra)


def test_a_result_is_a_pulumi_output_type(env) -> None:
    """What makes ``pulumi.export`` show it as an object, in every supported SDK: the
    SDK exports an output type by its getters, or by its public attributes."""
    fra = get_nodion_registry("fra")
    assert pulumi._types.is_output_type(Registry)
    assert None not in vars(fra).values()
    # Each field has its getter: the SDK's two ways of exporting show the same object.
    assert pulumi._types.output_type_to_dict(fra) == vars(fra)
    assert not hasattr(fra, "__iter__")


def test_an_error_leaving_a_lookup_gets_pulumi_advice(env, monkeypatch) -> None:
    advised: list[Exception] = []

    def advise(error: Exception) -> Exception:
        advised.append(error)
        return error

    monkeypatch.setattr(lookups, "advise", advise)
    with pytest.raises(NotFoundError) as raised:
        get_container_registry("00000000-0000-4000-8000-000000000000")
    with pytest.raises(NoSuchRegionError) as unknown:
        get_nodion_registry("xyz")
    assert advised == [raised.value, unknown.value]
