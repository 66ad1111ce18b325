"""The plugin's gRPC servicer: what the engine receives, on the wire."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pulumi.provider.experimental.property_value import PropertyValue
from pulumi.runtime.proto import provider_pb2

from nodion_pulumi._unknowns import UNKNOWN
from nodion_pulumi.plugin._provider import NodionPlugin
from nodion_pulumi.plugin._server import _Servicer

Run = Callable[..., Any]
PROVIDER = "urn:pulumi:test::proj::pulumi:providers:nodion::default"


def diff_config(run: Run, olds: dict[str, Any], news: dict[str, Any]) -> Any:
    servicer = _Servicer([], "0.0.0", NodionPlugin(), engine_address="127.0.0.1:1")
    request = provider_pb2.DiffRequest(
        urn=PROVIDER,
        id="provider-id",
        olds=PropertyValue.marshal_map({k: PropertyValue(v) for k, v in olds.items()}),
        news=PropertyValue.marshal_map({k: PropertyValue(v) for k, v in news.items()}),
    )
    return run(servicer.DiffConfig(request, None))


def test_a_changed_setting_reaches_the_engine_as_a_change_never_a_replacement(run: Run) -> None:
    """The engine configures a provider reported unchanged with its old configuration: a new
    nodion:apiUrl must arrive as DIFF_SOME, or the next `up` still talks to the old URL."""
    olds = {"apiUrl": "https://old.example/v1", "timeout": "30"}
    answer = diff_config(run, olds, {**olds, "apiUrl": "https://new.example/v1"})
    assert answer.changes == provider_pb2.DiffResponse.DIFF_SOME
    assert list(answer.diffs) == ["apiUrl"]
    assert list(answer.replaces) == []


def test_unchanged_settings_are_no_change_whatever_else_the_engine_keeps(run: Run) -> None:
    olds = {"apiUrl": "https://api.example/v1", "timeout": "30", "version": "0.3.0"}
    # A typed language sends the timeout as a number; the engine's own keys say nothing.
    news = {"apiUrl": "https://api.example/v1", "timeout": 30.0}
    answer = diff_config(run, olds, news)
    assert answer.changes == provider_pb2.DiffResponse.DIFF_NONE
    assert list(answer.diffs) == []


def test_unknowns_at_preview_go_back_to_the_engine_as_unknowns(
    plugin: NodionPlugin, run: Run
) -> None:
    """During a preview the engine sends a value not known yet as its wire sentinel, at the
    top or inside ``triggers`` (``triggers: {image: ${build.digest}}``); the checked inputs
    must go back the same way: the SDK cannot marshal its own ``Computed`` value."""
    servicer = _Servicer([], "0.0.0", plugin, engine_address="127.0.0.1:1")
    news = {
        "registryId": PropertyValue(UNKNOWN),
        "triggers": PropertyValue({"image": PropertyValue(UNKNOWN), "n": PropertyValue(1.0)}),
    }
    request = provider_pb2.CheckRequest(
        urn="urn:pulumi:test::proj::nodion:index:RegistryCredentials::push",
        olds=PropertyValue.marshal_map({}),
        news=PropertyValue.marshal_map(news),
    )
    answer = run(servicer.Check(request, None))
    assert list(answer.failures) == []
    checked = PropertyValue.unmarshal_map(answer.inputs)
    assert checked["registryId"] == PropertyValue(UNKNOWN)
    assert checked["triggers"].value["image"] == PropertyValue(UNKNOWN)
    assert checked["triggers"].value["n"] == PropertyValue(1.0)
