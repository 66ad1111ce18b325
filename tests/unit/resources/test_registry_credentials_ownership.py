"""One owner per registry's credentials (DESIGN 3b), through the provider's check and diff
called in the order the engine calls them, against the emulator."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from nodion_pulumi.emulator import Emulator
from nodion_pulumi.registry_credentials import RegistryCredentials, RegistryCredentialsProvider


@pytest.fixture
def fra(emulator: Emulator) -> str:
    return emulator.nodion_registry_id("fra")


def writes(emulator: Emulator) -> list[tuple[str, str]]:
    return [
        (str(e["method"]), str(e["path"]))
        for e in emulator.admin.requests()
        if e["method"] != "GET" and str(e["path"]).startswith("/v1")
    ]


def test_a_second_resource_for_one_registry_is_refused_before_any_write(
    credentials: RegistryCredentialsProvider, fra: str, emulator: Emulator
) -> None:
    assert credentials.check({}, {"registry_id": fra}).failures == []
    [failure] = credentials.check({}, {"registry_id": fra}).failures
    assert failure.property == "registry_id"
    assert failure.reason.startswith(
        f"registry {fra} (registry.fra.nodion.net) cannot get a second owner of its push/pull "
        "credentials: another RegistryCredentials of this program is about to capture them"
    )
    assert "pulumi.StackReference" in failure.reason
    assert "`nodion-pulumi credentials revoke fra`" in failure.reason
    assert "triggers" not in failure.reason  # a rotation is not what went wrong here
    assert writes(emulator) == []


def test_a_registry_that_already_has_credentials_is_refused(
    credentials: RegistryCredentialsProvider, fra: str, emulator: Emulator
) -> None:
    emulator.admin.regenerate_credentials(fra)  # another stack, or the dashboard
    [failure] = credentials.check({}, {"registry_id": fra, "triggers": {"v": 1}}).failures
    assert "Nodion reports it already has credentials" in failure.reason
    assert "`nodion-pulumi credentials revoke fra`" in failure.reason
    assert "pulumi.StackReference" in failure.reason
    # A targeted `pulumi up --replace` looks the same to a check: the message says how to rotate.
    assert "change their `triggers`" in failure.reason
    assert writes(emulator) == []


def test_a_new_resource_beside_one_this_stack_owns_is_refused(
    credentials: RegistryCredentialsProvider, fra: str, emulator: Emulator
) -> None:
    owned = {"registry_id": fra, "password": "x"}
    assert credentials.check(owned, {"registry_id": fra}).failures == []
    [failure] = credentials.check({}, {"registry_id": fra}).failures
    assert "a RegistryCredentials already in this stack owns them" in failure.reason


def test_a_rotation_by_triggers_is_not_a_second_owner(
    credentials: RegistryCredentialsProvider, fra: str, emulator: Emulator
) -> None:
    # The engine's calls for a rotation, in one provider process: check with old inputs, a
    # diff answering replace, then check of the replacement without old inputs.
    checked = credentials.check({}, {"registry_id": fra, "triggers": {"v": 1}})
    outs = dict(credentials.create(checked.inputs).outs or {})
    news = {"registry_id": fra, "triggers": {"v": 2}}
    assert credentials.check(outs, news).failures == []
    diff = credentials.diff(fra, outs, news)
    assert diff.replaces == ["triggers"]
    assert diff.delete_before_replace is True
    assert credentials.check({}, news).failures == []
    # One replacement per diff: a further creation check is a second owner again.
    assert credentials.check({}, news).failures != []


def test_a_rotation_onto_another_registry_is_checked_as_a_new_owner(
    credentials: RegistryCredentialsProvider, fra: str, emulator: Emulator
) -> None:
    nbg = emulator.nodion_registry_id("nbg")
    emulator.admin.regenerate_credentials(nbg)
    olds = {"registry_id": fra, "password": "x"}
    news = {"registry_id": nbg}
    assert credentials.diff(fra, olds, news).replaces == ["registry_id"]
    [failure] = credentials.check({}, news).failures
    assert f"registry {nbg} (registry.nbg.nodion.net)" in failure.reason


def test_a_registry_id_unknown_at_preview_is_left_to_the_up(
    credentials: RegistryCredentialsProvider, emulator: Emulator
) -> None:
    from nodion_pulumi._unknowns import UNKNOWN

    assert credentials.check({}, {"registry_id": UNKNOWN}).failures == []
    assert credentials.check({}, {"registry_id": UNKNOWN}).failures == []


def test_concurrent_checks_admit_exactly_one_owner(
    credentials: RegistryCredentialsProvider, fra: str
) -> None:
    credentials.check({}, {"registry_id": "warm-up-the-list"})
    barrier = threading.Barrier(8)
    results: list[int] = []
    lock = threading.Lock()

    def check() -> None:
        barrier.wait()
        failures = credentials.check({}, {"registry_id": fra}).failures
        with lock:
            results.append(len(failures))

    threads = [threading.Thread(target=check) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [0, 1, 1, 1, 1, 1, 1, 1]


def test_the_resource_always_deletes_before_replacing(monkeypatch: pytest.MonkeyPatch) -> None:
    # `pulumi up --replace` asks no diff, so the resource option is what orders it.
    seen: dict[str, Any] = {}

    def register(self: Any, provider: Any, name: str, props: Any, opts: Any) -> None:
        seen["opts"] = opts

    monkeypatch.setattr("pulumi.dynamic.Resource.__init__", register)
    RegistryCredentials("push", registry_id="x")
    assert seen["opts"].delete_before_replace is True
    assert seen["opts"].additional_secret_outputs == ["password", "docker_config_json"]
