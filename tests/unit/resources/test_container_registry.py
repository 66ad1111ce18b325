"""ContainerRegistryProvider driven directly against the emulator, as the engine would."""

from __future__ import annotations

import re
from typing import Any

import pytest
from pydantic import SecretStr

from nodion_pulumi._client import NodionClient
from nodion_pulumi._config import Settings
from nodion_pulumi._errors import (
    AuthenticationError,
    ConfigurationError,
    NodionError,
    RegistryCreateLostError,
)
from nodion_pulumi._unknowns import UNKNOWN
from nodion_pulumi.container_registry import ContainerRegistryProvider
from nodion_pulumi.emulator import Emulator

TOKEN = "test-token"

PASSWORD = "Hunter2-s3cret-PW"
OUTPUTS = {
    "name",
    "registry_type",
    "hostname",
    "username",
    "password",
    "status",
    "has_credentials",
    "region_id",
    "created_at",
    "updated_at",
}
TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}[+-]\d{2}:\d{2}$")
OLDS: dict[str, Any] = {
    "name": "mirror",
    "registry_type": "custom",
    "hostname": "registry.example.com",
    "username": "me",
    "password": PASSWORD,
    "status": "available",
    "has_credentials": True,
    "region_id": None,
    "created_at": "2025-01-15T10:00:00.000+01:00",
    "updated_at": "2025-01-15T10:00:00.000+01:00",
}
NEWS: dict[str, Any] = {k: OLDS[k] for k in ("name", "registry_type", "hostname", "username")} | {
    "password": PASSWORD
}


def state_of(emulator: Emulator, registry_id: str) -> dict[str, Any] | None:
    return next((r for r in emulator.admin.registries() if r["id"] == registry_id), None)


# -- check -------------------------------------------------------------------------------


def test_check_failures_make_no_request(registries, emulator) -> None:
    result = registries.check(
        {}, {"name": "", "registry_type": "custom", "hostname": "https://x", "password": PASSWORD}
    )
    assert sorted(f.property for f in result.failures) == ["hostname", "name", "username"]
    assert all(PASSWORD not in f.reason for f in result.failures)
    assert emulator.admin.requests() == []


def test_check_fills_the_default_hostname_and_drops_outputs(registries, api_log) -> None:
    # The engine hands check() the declared props, including the unset outputs.
    news = {"name": "hub", "registry_type": "docker_hub", "status": None, "created_at": None}
    result = registries.check({}, news)
    assert result.failures == []
    assert result.inputs == {"name": "hub", "registry_type": "docker_hub", "hostname": "docker.io"}


def test_checks_of_creations_ask_nodion_once_per_process_and_never_write(
    registries, api_log
) -> None:
    for name in ("a", "b", "c"):
        assert registries.check({}, {"name": name, "registry_type": "ghcr"}).failures == []
    assert api_log() == [("GET", "/v1/container_registries", [])]


def test_a_wrong_token_fails_the_check_of_a_creation_in_one_line(configure, api_log) -> None:
    provider = configure(ContainerRegistryProvider(), token="not-the-token")
    [failure] = provider.check({}, {"name": "n", "registry_type": "docker_hub"}).failures
    assert "HTTP 401" in failure.reason
    assert "nodion:apiToken" in failure.reason
    assert "not-the-token" not in failure.reason
    assert "\n" not in failure.reason
    assert [method for method, _, _ in api_log()] == ["GET"]


def test_an_unreachable_api_fails_the_check_of_a_creation_naming_the_url(configure) -> None:
    url = "http://127.0.0.1:9/v1"  # the discard port: nothing listens there
    provider = configure(ContainerRegistryProvider(), url=url)
    [failure] = provider.check({}, {"name": "n", "registry_type": "docker_hub"}).failures
    assert url in failure.reason
    assert "nodion:apiUrl" in failure.reason


def test_check_accepts_unknowns_and_only_reads(emulator, monkeypatch) -> None:
    monkeypatch.setenv("NODION_API_TOKEN", "test-token")  # the emulator fixture's
    monkeypatch.setenv("NODION_API_URL", emulator.url)
    provider = ContainerRegistryProvider()
    result = provider.check({}, {"name": UNKNOWN, "registry_type": "custom", "hostname": UNKNOWN})
    assert result.failures == []
    # Values unknown at preview do not stop it from proving the URL and the token work.
    assert [(r["method"], r["path"]) for r in emulator.admin.requests()] == [
        ("GET", "/v1/container_registries")
    ]


def test_check_reports_a_missing_token_for_a_resource_to_create(emulator) -> None:
    provider = ContainerRegistryProvider()  # never configured and no NODION_* variables
    result = provider.check({}, {"name": "n", "registry_type": "docker_hub"})
    [failure] = result.failures
    assert "pulumi config set --secret nodion:apiToken" in failure.reason
    assert "export NODION_API_TOKEN=" in failure.reason
    assert emulator.admin.requests() == []


def test_check_of_an_unchanged_resource_needs_no_token() -> None:
    provider = ContainerRegistryProvider()  # an `up` without changes works as before
    inputs = {"name": "n", "registry_type": "docker_hub", "hostname": "docker.io"}
    assert provider.check(dict(inputs), dict(inputs)).failures == []


# -- diff --------------------------------------------------------------------------------

# Never configured: a diff that called the API would fail with a ConfigurationError.
OFFLINE = ContainerRegistryProvider()


@pytest.mark.parametrize(
    ("change", "updated"),
    [
        ({"name": "renamed"}, "name"),
        ({"hostname": "other.example.com:5000"}, "hostname"),
        ({"username": "you"}, "username"),
        ({"password": "another-secret"}, "password"),
    ],
)
def test_updatable_fields_update_in_place(change: dict[str, Any], updated: str) -> None:
    result = OFFLINE.diff("id-1", OLDS, {**NEWS, **change})
    assert result.changes is True
    assert result.replaces == []
    assert updated not in result.stables
    assert sorted(result.stables) == sorted(set(NEWS) - {updated})
    assert result.delete_before_replace is False


def test_registry_type_change_replaces() -> None:
    result = OFFLINE.diff("id-1", OLDS, {**NEWS, "registry_type": "ghcr", "hostname": "ghcr.io"})
    assert result.changes is True
    assert result.replaces == ["registry_type"]


@pytest.mark.parametrize("removed", [("username", "password"), ("password",), ("username",)])
def test_removing_the_login_replaces(removed: tuple[str, ...]) -> None:
    news = {k: v for k, v in NEWS.items() if k not in removed}
    result = OFFLINE.diff("id-1", OLDS, news)
    assert result.changes is True
    assert sorted(result.replaces) == sorted(removed)


def test_adding_a_login_updates_in_place() -> None:
    olds = {k: v for k, v in OLDS.items() if k not in ("username", "password")}
    result = OFFLINE.diff("id-1", olds, NEWS)
    assert result.changes is True
    assert result.replaces == []


@pytest.mark.parametrize("key", ["name", "hostname", "password"])
def test_an_unknown_value_is_a_change(key: str) -> None:
    result = OFFLINE.diff("id-1", OLDS, {**NEWS, key: UNKNOWN})
    assert result.changes is True
    assert key not in result.stables
    assert result.replaces == []


def test_an_unknown_registry_type_may_replace() -> None:
    result = OFFLINE.diff("id-1", OLDS, {**NEWS, "registry_type": UNKNOWN})
    assert result.replaces == ["registry_type"]


def test_no_change_means_no_changes() -> None:
    result = OFFLINE.diff("id-1", OLDS, dict(NEWS))
    assert result.changes is False
    assert result.replaces == []
    assert sorted(result.stables) == sorted(NEWS)


# -- create ------------------------------------------------------------------------------


def test_create_registers_the_registry_with_all_outputs(create_registry, emulator) -> None:
    registry_id, outs = create_registry(
        name="Company mirror",
        registry_type="custom",
        hostname="registry.example.com:5000",
        username="me",
        password=PASSWORD,
    )
    stored = state_of(emulator, registry_id)
    assert stored is not None
    assert stored["name"] == "Company mirror"
    assert stored["registry_type"] == "custom"
    assert stored["hostname"] == "registry.example.com:5000"
    assert stored["has_credentials"] is True

    assert set(outs) == OUTPUTS
    assert outs["name"] == "Company mirror"
    assert outs["registry_type"] == "custom"
    assert outs["hostname"] == "registry.example.com:5000"
    assert outs["username"] == "me"
    assert outs["password"] == PASSWORD
    assert outs["status"] == "available"
    assert outs["has_credentials"] is True
    assert outs["region_id"] is None
    for key in ("created_at", "updated_at"):
        assert TIMESTAMP.match(outs[key]), outs[key]
        assert outs[key] == stored[key]  # the API's own text, offset included


def test_create_sends_one_post_with_the_declared_fields(create_registry, api_log) -> None:
    create_registry(name="hub", registry_type="docker_hub")
    assert api_log() == [
        ("GET", "/v1/container_registries", []),  # the check: Nodion answers this token
        ("POST", "/v1/container_registries", ["hostname", "name", "registry_type"]),
    ]


def test_create_without_login_has_no_credentials(create_registry, emulator) -> None:
    registry_id, outs = create_registry(registry_type="ghcr")
    assert outs["hostname"] == "ghcr.io"
    assert outs["username"] is None
    assert outs["password"] is None
    assert outs["has_credentials"] is False
    stored = state_of(emulator, registry_id)
    assert stored is not None
    assert stored["hostname"] == "ghcr.io"


# -- update ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "change",
    [
        {"name": "renamed"},
        {"password": "rotated-secret"},
        {"hostname": "mirror.example.com", "username": "robot"},
    ],
)
def test_update_patches_only_the_changed_fields(
    registries, create_registry, emulator, api_log, change: dict[str, Any]
) -> None:
    registry_id, outs = create_registry(
        registry_type="custom", hostname="registry.example.com", username="me", password=PASSWORD
    )
    emulator.admin.clear_requests()
    news = registries.check(outs, {**{k: outs[k] for k in NEWS}, **change}).inputs
    result = registries.update(registry_id, outs, news)

    assert api_log() == [("PATCH", f"/v1/container_registries/{registry_id}", sorted(change))]
    assert result.outs is not None
    for key, value in change.items():
        assert result.outs[key] == value
    assert set(result.outs) == OUTPUTS
    stored = state_of(emulator, registry_id)
    assert stored is not None
    for key in ("name", "hostname"):
        assert stored[key] == result.outs[key]


# -- read --------------------------------------------------------------------------------


def test_read_after_an_out_of_band_rename_reports_drift(
    registries, create_registry, emulator
) -> None:
    registry_id, outs = create_registry(username="me", password=PASSWORD)
    emulator.admin.rename_registry(registry_id, "renamed in the dashboard")

    result = registries.read(registry_id, outs)
    assert result.id == registry_id
    assert result.outs["name"] == "renamed in the dashboard"
    assert result.inputs["name"] == "renamed in the dashboard"
    assert result.outs["password"] == PASSWORD
    assert result.inputs["password"] == PASSWORD
    assert result.inputs["username"] == "me"
    assert set(result.outs) == OUTPUTS
    assert set(result.inputs) == {"name", "registry_type", "hostname", "username", "password"}


def test_read_after_an_out_of_band_hostname_change(registries, create_registry, emulator) -> None:
    registry_id, outs = create_registry(registry_type="custom", hostname="old.example.com")
    emulator.admin.update_registry(registry_id, hostname="new.example.com")
    result = registries.read(registry_id, outs)
    assert result.outs["hostname"] == "new.example.com"
    assert result.inputs["hostname"] == "new.example.com"


def test_read_of_a_registry_deleted_out_of_band_drops_it(
    registries, create_registry, emulator
) -> None:
    registry_id, outs = create_registry()
    emulator.admin.delete_registry(registry_id)
    result = registries.read(registry_id, outs)
    assert result.id == ""
    assert not result.outs


@pytest.mark.parametrize(
    "props",
    [
        pytest.param({}, id="pulumi-import"),
        # The import_ option: what the engine passes carries no outputs such as created_at.
        pytest.param({**NEWS, "registry_type": "docker_hub"}, id="import-option"),
    ],
)
def test_read_in_import_mode_leaves_the_login_unset(
    registries, create_registry, props: dict[str, Any]
) -> None:
    registry_id, _outs = create_registry(username="me", password=PASSWORD)
    result = registries.read(registry_id, props)
    assert result.id == registry_id
    assert result.outs["username"] is None
    assert result.outs["password"] is None
    assert "username" not in result.inputs
    assert "password" not in result.inputs
    assert result.inputs == {
        "name": "mirror",
        "registry_type": "docker_hub",
        "hostname": "docker.io",
    }
    assert result.outs["has_credentials"] is True
    assert TIMESTAMP.match(result.outs["created_at"])


def test_read_of_a_nodion_registry_is_refused_clearly(registries, emulator) -> None:
    fra = emulator.nodion_registry_id("fra")
    with pytest.raises(NodionError) as raised:
        registries.read(fra, {})
    message = str(raised.value)
    assert fra in message
    assert "registry.fra.nodion.net" in message
    assert "get_nodion_registry" in message
    assert "RegistryCredentials" in message


def test_read_of_an_unknown_id_drops_it(registries) -> None:
    result = registries.read("00000000-0000-4000-8000-000000000000", {"name": "x"})
    assert result.id == ""


# -- delete ------------------------------------------------------------------------------


def test_delete_removes_the_registry(registries, create_registry, emulator, api_log) -> None:
    registry_id, outs = create_registry()
    emulator.admin.clear_requests()
    registries.delete(registry_id, outs)
    assert state_of(emulator, registry_id) is None
    assert api_log() == [("DELETE", f"/v1/container_registries/{registry_id}", [])]


def test_delete_of_an_already_deleted_registry_succeeds(
    registries, create_registry, emulator
) -> None:
    registry_id, outs = create_registry()
    emulator.admin.delete_registry(registry_id)
    registries.delete(registry_id, outs)  # no exception
    assert state_of(emulator, registry_id) is None


def test_delete_of_a_nodion_registry_fails(registries, emulator) -> None:
    with pytest.raises(NodionError, match="cannot be deleted"):
        registries.delete(emulator.nodion_registry_id("fra"), {})


# -- configuration and authentication ----------------------------------------------------


def test_a_missing_token_is_explained_with_the_commands_every_time(configure, emulator) -> None:
    """The same message whichever provider and call meets it first: the engine stops a
    preview at the first failed check, which is where a missing token is reported once."""
    first = configure(ContainerRegistryProvider(), token=None)
    second = configure(ContainerRegistryProvider(), token=None)
    for call in (
        lambda: first.create({"name": "x", "registry_type": "ghcr"}),
        lambda: second.read("some-id", {}),
        lambda: second.read("some-id", {}),
    ):
        with pytest.raises(ConfigurationError) as raised:
            call()
        message = str(raised.value)
        assert "pulumi config set --secret nodion:apiToken" in message
        assert "export NODION_API_TOKEN" in message
    assert emulator.admin.requests() == []


def test_a_wrong_token_names_the_operation_and_status(configure, emulator) -> None:
    provider = configure(ContainerRegistryProvider(), token="wrong-token-123")
    with pytest.raises(AuthenticationError) as raised:
        provider.create({"name": "x", "registry_type": "ghcr", "hostname": "ghcr.io"})
    message = str(raised.value)
    assert "create container registry failed" in message
    assert "HTTP 401" in message
    assert "wrong-token-123" not in message
    assert raised.value.status_code == 401

    with pytest.raises(AuthenticationError, match="list container registries failed: HTTP 401"):
        provider.read("some-id", {})
    assert all(r["registry_type"] == "nodion" for r in emulator.admin.registries())


def test_the_token_comes_from_the_environment(monkeypatch, emulator) -> None:
    monkeypatch.setenv("NODION_API_TOKEN", "test-token")
    monkeypatch.setenv("NODION_API_URL", emulator.url)
    provider = ContainerRegistryProvider()
    result = provider.create({"name": "env", "registry_type": "ghcr", "hostname": "ghcr.io"})
    assert state_of(emulator, str(result.id)) is not None


def test_stack_config_wins_over_the_environment(configure, monkeypatch, emulator) -> None:
    monkeypatch.setenv("NODION_API_TOKEN", "wrong-token")
    monkeypatch.setenv("NODION_API_URL", "http://127.0.0.1:9/v1")
    provider = configure(ContainerRegistryProvider())
    result = provider.create({"name": "cfg", "registry_type": "ghcr", "hostname": "ghcr.io"})
    assert state_of(emulator, str(result.id)) is not None


# -- answers lost in transit ---------------------------------------------------------------


def _external(emulator: Emulator) -> list[dict[str, Any]]:
    return [r for r in emulator.admin.registries() if r["registry_type"] != "nodion"]


def test_a_second_lost_answer_is_looked_for_too_not_duplicated(create_registry, emulator) -> None:
    # The first create is committed and its answer lost; the recovery finds it. Here the
    # recovery's look finds nothing (the first POST is refused before processing), so it
    # creates again, and that answer is lost too: it must be looked for, not orphaned.
    emulator.admin.add_fault("reset_before", method="POST", path="^/v1/container_registries$")
    emulator.admin.add_fault("drop_after", method="POST", path="^/v1/container_registries$")
    registry_id, outs = create_registry(name="twice lost")
    [only] = _external(emulator)
    assert only["id"] == registry_id
    assert outs["name"] == "twice lost"


def test_answers_lost_every_time_leave_no_orphan_and_say_what_to_do(
    create_registry, emulator
) -> None:
    emulator.admin.add_fault(
        "drop_after", method="POST", path="^/v1/container_registries$", times=None
    )
    registry_id, _ = create_registry(name="always lost")
    # Every POST commits; the first look after a lost answer recognises what it made.
    assert [r["id"] for r in _external(emulator)] == [registry_id]


def test_a_failed_look_after_a_lost_answer_says_how_to_adopt(registries, emulator) -> None:
    emulator.admin.add_fault("drop_after", method="POST", path="^/v1/container_registries$")
    emulator.admin.add_fault(
        "status", status=500, method="GET", path="^/v1/container_registries$", times=None
    )
    checked = registries.check({}, {"name": "unseen", "registry_type": "docker_hub"})
    with pytest.raises(NodionError) as failed:
        registries.create(checked.inputs)
    assert isinstance(failed.value, RegistryCreateLostError)
    assert failed.value.name == "unseen"
    message = str(failed.value)
    assert message.startswith("creating registry 'unseen': the answer was lost")
    assert "looking for what Nodion made failed too" in message
    assert "set adopt_id to its id on this resource" in message


def test_several_candidates_after_a_lost_answer_are_named(registries, emulator) -> None:
    """Two registries with the same name, type and hostname appear while the answer is
    lost: which one is ours cannot be told, and the error carries both ids."""
    settings = Settings(api_token=SecretStr(TOKEN), api_url=emulator.url)
    with NodionClient(settings) as outside:
        other = outside.create_registry(name="twin", registry_type="docker_hub").id
    emulator.admin.add_fault("drop_after", method="POST", path="^/v1/container_registries$")
    checked = registries.check({}, {"name": "twin", "registry_type": "docker_hub"})
    with pytest.raises(RegistryCreateLostError) as failed:
        registries.create(checked.inputs)
    assert other in failed.value.candidate_ids
    assert len(failed.value.candidate_ids) == 2
    assert "several recent registries match it" in str(failed.value)
