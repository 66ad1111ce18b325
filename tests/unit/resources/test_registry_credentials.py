"""RegistryCredentialsProvider driven directly against the emulator, as the engine would."""

from __future__ import annotations

import base64
import json
import traceback
from typing import Any

import pytest

from nodion_devkit.nodion_truth import holds_password, wait_for_faulted_answers
from nodion_pulumi._config import MISSING_TOKEN_MESSAGE
from nodion_pulumi._errors import ConfigurationError, CredentialsLostError, NodionError
from nodion_pulumi._unknowns import UNKNOWN
from nodion_pulumi.emulator import Emulator
from nodion_pulumi.registry_credentials import (
    CredentialsAlreadyExistError,
    RegistryCredentials,
    RegistryCredentialsProvider,
)

MISSING_ID = "00000000-0000-4000-8000-000000000000"


def has_credentials(emulator: Emulator, registry_id: str) -> bool:
    return next(r for r in emulator.admin.registries() if r["id"] == registry_id)["has_credentials"]


@pytest.fixture
def fra(emulator: Emulator) -> str:
    return emulator.nodion_registry_id("fra")


@pytest.fixture
def created(credentials: RegistryCredentialsProvider, fra: str) -> dict[str, Any]:
    """The outputs of freshly created credentials for the Frankfurt registry."""
    checked = credentials.check({}, {"registry_id": fra, "triggers": {"rotation": 1}})
    assert checked.failures == []
    result = credentials.create(checked.inputs)
    assert result.id == fra
    assert result.outs is not None
    return dict(result.outs)


def test_every_output_has_a_property_on_the_resource(created: dict[str, Any]) -> None:
    properties = {k for k, v in vars(RegistryCredentials).items() if isinstance(v, property)}
    assert set(created) == properties


# -- check and diff ----------------------------------------------------------------------


def test_check_failures_make_no_request(credentials, emulator) -> None:
    result = credentials.check({}, {"registry_id": "abc/credentials", "triggers": ["x"]})
    assert sorted(f.property for f in result.failures) == ["registry_id", "triggers"]
    assert emulator.admin.requests() == []


def test_check_keeps_only_the_inputs(credentials, fra) -> None:
    news = {"registry_id": fra, "triggers": None, "password": None, "hostname": None}
    result = credentials.check({}, news)
    assert result.failures == []
    assert result.inputs == {"registry_id": fra}


def test_check_of_new_credentials_makes_one_list_call(credentials, fra, emulator, api_log) -> None:
    nbg = emulator.nodion_registry_id("nbg")
    assert credentials.check({}, {"registry_id": fra}).failures == []
    assert credentials.check({}, {"registry_id": nbg}).failures == []  # shared snapshot
    assert api_log() == [("GET", "/v1/container_registries", [])]


def test_checks_between_writes_need_no_new_list_call(
    credentials, create_registry, fra, emulator, api_log
) -> None:
    # An `up` interleaves checks and writes; each write drops the read snapshot, but what a
    # registry is never changes, so a registry already listed is not listed again.
    assert credentials.check({}, {"registry_id": fra}).failures == []
    create_registry(name="written in between")
    emulator.admin.clear_requests()
    nbg = emulator.nodion_registry_id("nbg")
    hel = emulator.nodion_registry_id("hel")
    assert credentials.check({}, {"registry_id": nbg}).failures == []
    assert credentials.check({}, {"registry_id": hel}).failures == []
    assert api_log() == []


def test_check_of_existing_credentials_makes_no_request(credentials, fra, api_log) -> None:
    assert credentials.check({"registry_id": fra}, {"registry_id": fra}).failures == []
    assert api_log() == []


def test_check_refuses_a_missing_registry(credentials, emulator) -> None:
    [failure] = credentials.check({}, {"registry_id": "nope-1"}).failures
    assert failure.property == "registry_id"
    assert "there is no registry nope-1" in failure.reason
    assert "get_nodion_registry" in failure.reason


def test_check_refuses_an_external_registry(credentials, create_registry) -> None:
    registry_id, _outs = create_registry()
    [failure] = credentials.check({}, {"registry_id": registry_id}).failures
    assert failure.property == "registry_id"
    assert "is an external registry" in failure.reason
    assert "get_nodion_registry" in failure.reason


def test_provider_errors_leave_without_our_frames(credentials, created, fra) -> None:
    with pytest.raises(CredentialsAlreadyExistError) as raised:
        credentials.create({"registry_id": fra})
    # Only the wrapper's own frame is left: the CLI shows the message, not the client's path.
    frames = traceback.extract_tb(raised.value.__traceback__)
    assert [frame.name for frame in frames][-1] == "run"
    assert not any(frame.filename.endswith("_client.py") for frame in frames)
    assert raised.value.__cause__ is None
    assert raised.value.__suppress_context__


def test_other_exceptions_keep_their_traceback(credentials) -> None:
    with pytest.raises(KeyError) as raised:
        credentials.create({})  # a bug, not a Nodion failure: keep every frame
    frames = traceback.extract_tb(raised.value.__traceback__)
    assert any(frame.name == "create" for frame in frames)


# Never configured: a diff that called the API would fail with a ConfigurationError.
OFFLINE = RegistryCredentialsProvider()


@pytest.mark.parametrize(
    ("olds", "news", "replaces"),
    [
        ({"registry_id": "a"}, {"registry_id": "b"}, ["registry_id"]),
        (
            {"registry_id": "a", "triggers": {"v": 1}},
            {"registry_id": "a", "triggers": {"v": 2}},
            ["triggers"],
        ),
        ({"registry_id": "a"}, {"registry_id": "a", "triggers": {"v": 1}}, ["triggers"]),
        ({"registry_id": "a", "triggers": {"v": 1}}, {"registry_id": "a"}, ["triggers"]),
        ({"registry_id": "a"}, {"registry_id": UNKNOWN}, ["registry_id"]),
        (
            {"registry_id": "a", "triggers": {"v": 1}},
            {"registry_id": "a", "triggers": {"v": UNKNOWN}},
            ["triggers"],
        ),
    ],
)
def test_any_change_replaces_deleting_first(
    olds: dict[str, Any], news: dict[str, Any], replaces: list[str]
) -> None:
    state = {**olds, "password": "p", "docker_config_json": "{}", "hostname": "h"}
    result = OFFLINE.diff("a", state, news)
    assert result.changes is True
    assert result.replaces == replaces
    assert result.delete_before_replace is True


def test_no_change_means_no_changes() -> None:
    class Triggers(dict[str, Any]):
        """The engine may hand mappings over as another type."""

    olds = {"registry_id": "a", "triggers": {"v": 1, "n": {"x": "y"}}, "password": "p"}
    news = {"registry_id": "a", "triggers": Triggers(v=1, n=Triggers(x="y"))}
    result = OFFLINE.diff("a", olds, news)
    assert result.changes is False
    assert result.replaces == []
    assert sorted(result.stables) == ["registry_id", "triggers"]


# -- create ------------------------------------------------------------------------------


def test_create_captures_the_password_and_a_docker_config(created, emulator, fra) -> None:
    assert created["registry_id"] == fra
    assert created["triggers"] == {"rotation": 1}
    assert created["hostname"] == "registry.fra.nodion.net"
    username, password = created["username"], created["password"]
    assert username
    assert len(password) >= 16

    config = json.loads(created["docker_config_json"])
    assert list(config["auths"]) == ["registry.fra.nodion.net"]
    auth = config["auths"]["registry.fra.nodion.net"]
    assert auth["username"] == username
    assert auth["password"] == password
    assert base64.b64decode(auth["auth"]).decode() == f"{username}:{password}"
    assert has_credentials(emulator, fra) is True


def test_create_sends_one_post(credentials, fra, api_log) -> None:
    credentials.create({"registry_id": fra})
    assert api_log() == [("POST", f"/v1/container_registries/{fra}/credentials", [])]


def test_a_second_create_explains_why_and_how_to_proceed(created, credentials, fra) -> None:
    with pytest.raises(CredentialsAlreadyExistError) as raised:
        credentials.create({"registry_id": fra})
    message = str(raised.value)
    assert fra in message
    assert "only once" in message
    # The likely owner is a sibling resource or another stack: share, do not revoke.
    assert "another RegistryCredentials" in message
    assert "StackReference" in message
    assert f"`nodion-pulumi credentials revoke {fra}` (whoever uses the set" in message
    assert "pulumi up" in message
    assert created["password"] not in message


def test_create_for_an_external_registry_is_not_mistaken_for_existing(
    credentials, create_registry
) -> None:
    registry_id, _outs = create_registry()
    with pytest.raises(NodionError, match="not a Nodion registry") as raised:
        credentials.create({"registry_id": registry_id})
    assert not isinstance(raised.value, CredentialsAlreadyExistError)


def test_the_snapshot_is_dropped_after_create(credentials, fra, emulator) -> None:
    # A refresh read before the create must not hide the new credentials afterwards.
    stale = {"registry_id": fra, "password": "old"}
    assert credentials.read(fra, stale).id == ""
    outs = credentials.create({"registry_id": fra}).outs
    assert outs is not None
    assert credentials.read(fra, outs).id == fra


# -- read --------------------------------------------------------------------------------


def test_read_keeps_the_captured_secrets(created, credentials, fra, api_log) -> None:
    result = credentials.read(fra, created)
    assert result.id == fra
    assert result.outs == created
    assert result.inputs == {"registry_id": fra, "triggers": {"rotation": 1}}
    assert [m for m, _p, _k in api_log()].count("POST") == 1  # never minted again on read


def test_read_after_credentials_were_dropped_out_of_band(
    created, credentials, fra, emulator
) -> None:
    emulator.admin.drop_credentials(fra)
    result = credentials.read(fra, created)
    assert result.id == ""
    assert not result.outs


def test_read_of_a_vanished_registry_drops_the_credentials(credentials) -> None:
    result = credentials.read(MISSING_ID, {"registry_id": MISSING_ID, "password": "p"})
    assert result.id == ""


def test_credentials_cannot_be_imported(credentials, fra, emulator) -> None:
    with pytest.raises(NodionError, match="cannot be imported") as raised:
        credentials.read(fra, {})
    assert "only once" in str(raised.value)
    assert f"revoke them first with `nodion-pulumi credentials revoke {fra}`" in str(raised.value)
    assert emulator.admin.requests() == []


# -- delete ------------------------------------------------------------------------------


def test_delete_revokes(created, credentials, fra, emulator, capsys) -> None:
    credentials.delete(fra, created)
    assert has_credentials(emulator, fra) is False
    assert capsys.readouterr().err == ""
    # Revoked means new credentials can be generated.
    assert credentials.create({"registry_id": fra}).outs["password"] != created["password"]


def test_delete_when_already_revoked_succeeds(created, credentials, fra, emulator, capsys) -> None:
    emulator.admin.drop_credentials(fra)
    credentials.delete(fra, created)
    assert has_credentials(emulator, fra) is False
    assert capsys.readouterr().err == ""


def test_delete_when_the_registry_is_gone_succeeds(credentials, capsys) -> None:
    credentials.delete(MISSING_ID, {"registry_id": MISSING_ID})
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize("status", [404, 405])
def test_delete_refused_by_the_api_warns_and_succeeds(
    created, credentials, fra, emulator, capsys, status: int
) -> None:
    emulator.admin.add_fault(
        "status", method="DELETE", path="/credentials$", status=status, times=None
    )
    credentials.delete(fra, created)  # no exception: removed from state
    err = capsys.readouterr().err
    assert err.startswith("warning: ")
    assert fra in err
    assert "Nodion dashboard" in err
    assert "stay valid" in err
    assert created["password"] not in err
    assert has_credentials(emulator, fra) is True


def test_other_delete_failures_are_raised(created, credentials, fra, emulator) -> None:
    emulator.admin.add_fault("status", method="DELETE", path="/credentials$", status=403)
    with pytest.raises(NodionError, match="delete registry credentials failed: HTTP 403"):
        credentials.delete(fra, created)


def test_a_missing_token_is_explained_with_the_commands_every_time(configure) -> None:
    provider = configure(RegistryCredentialsProvider(), token=None)
    for call in (
        lambda: provider.create({"registry_id": "abc"}),
        lambda: provider.delete("abc", {"registry_id": "abc"}),
    ):
        with pytest.raises(ConfigurationError) as raised:
            call()
        assert str(raised.value) == MISSING_TOKEN_MESSAGE


# -- answers lost in transit ---------------------------------------------------------------


def _credential_writes(emulator: Emulator) -> list[tuple[str, int | None]]:
    return [
        (w["method"], w["status"])
        for w in emulator.admin.writes()
        if w["path"].endswith("/credentials")
    ]


def test_lost_mint_and_lost_revoke_still_end_with_one_credential_we_hold(
    credentials, emulator, fra
) -> None:
    emulator.admin.add_fault("drop_after", method="POST", path="/credentials$")
    emulator.admin.add_fault("drop_after", method="DELETE", path="/credentials$")
    result = credentials.create({"registry_id": fra})
    assert result.outs["password"]
    assert has_credentials(emulator, fra)
    # Minted (answer lost), revoked (answer lost: a look shows it landed, so it is not
    # sent again), minted.
    assert _credential_writes(emulator) == [
        ("POST", None),
        ("DELETE", None),
        ("POST", 201),
    ]


def test_answers_lost_every_time_end_in_an_error_that_says_what_to_do(
    credentials, emulator, fra
) -> None:
    emulator.admin.add_fault("drop_after", method="POST", path="/credentials$", times=None)
    with pytest.raises(NodionError, match="the answer was lost 4 times in a row"):
        credentials.create({"registry_id": fra})
    assert not has_credentials(emulator, fra), "the last set nobody can read was revoked"
    emulator.admin.clear_faults()
    assert credentials.create({"registry_id": fra}).outs["password"], "the next up starts clean"


def test_answers_lost_every_time_before_nodion_acted_say_nothing_was_generated(
    credentials, emulator, fra
) -> None:
    """Each POST is cut off before Nodion handles it: the error must not claim that
    credentials were generated and revoked."""
    emulator.admin.add_fault("reset_before", method="POST", path="/credentials$", times=None)
    with pytest.raises(CredentialsLostError) as raised:
        credentials.create({"registry_id": fra})
    message = str(raised.value)
    assert "the answer was lost 4 times in a row" in message
    assert "was revoked" not in message
    assert "Nodion shows none generated" in message
    assert [method for method, _ in _credential_writes(emulator)] == ["POST"] * 4


def test_a_rotation_whose_revoke_answers_late_keeps_the_new_password(
    configure, emulator, fra
) -> None:
    """The revoke times out (1 s) but lands after 2.5 s: it is settled (seen to land)
    before the new set is minted, so it cannot revoke the new set. Before, the DELETE was
    sent again, answered, the POST minted, and then the first DELETE revoked the new set."""
    provider = configure(RegistryCredentialsProvider(), timeout=1.0)
    first = provider.create({"registry_id": fra, "triggers": {"rotation": 1}}).outs
    emulator.admin.add_fault("latency", method="DELETE", path="/credentials$", seconds=2.5)

    provider.delete(fra, first)
    second = provider.create({"registry_id": fra, "triggers": {"rotation": 2}}).outs

    wait_for_faulted_answers(emulator.admin)
    still_held = holds_password(emulator, fra, second["password"])
    assert still_held, _credential_writes(emulator)
    # The late DELETE is the only one: it was looked for, not sent again.
    assert [method for method, _ in _credential_writes(emulator)] == ["POST", "DELETE", "POST"]


def test_a_revoke_that_never_lands_is_sent_again_before_the_next_mint(
    configure, emulator, fra
) -> None:
    """A dropped connection after the DELETE went out, and Nodion did not act on it: one
    look shows the credentials still there, so the revoke is sent again and answered."""
    provider = configure(RegistryCredentialsProvider())
    first = provider.create({"registry_id": fra}).outs
    emulator.admin.add_fault("reset_before", method="DELETE", path="/credentials$")
    emulator.admin.add_fault("status", method="DELETE", path="/credentials$", status=502)

    provider.delete(fra, first)

    assert not has_credentials(emulator, fra)
    assert _credential_writes(emulator)[-1] == ("DELETE", 200)


def test_a_lost_mint_whose_lookup_fails_names_what_was_left_and_the_way_out(
    credentials, emulator, fra
) -> None:
    checked = credentials.check({}, {"registry_id": fra})  # the list shows its hostname
    emulator.admin.add_fault("drop_after", method="POST", path="/credentials$")
    emulator.admin.add_fault(
        "status", method="GET", path=r"^/v1/container_registries/[^/]+$", status=500, times=None
    )
    with pytest.raises(CredentialsLostError) as raised:
        credentials.create(checked.inputs)
    message = str(raised.value)
    assert message.startswith(f"generating credentials for registry {fra} (registry.fra")
    assert "asking Nodion whether it generated them failed too" in message
    assert "nobody holds their password" in message
    assert "`nodion-pulumi credentials revoke fra`, then run `pulumi up` again" in message


def test_a_revoke_that_cannot_be_settled_stops_the_next_mint(configure, emulator, fra) -> None:
    """Every revoke is cut off after it went out and Nodion still shows credentials: the
    revoke fails saying so, and a mint for that registry in the same run is refused, since
    one of those revokes may still arrive and would revoke the new set."""
    provider = configure(RegistryCredentialsProvider())
    first = provider.create({"registry_id": fra}).outs
    emulator.admin.add_fault("reset_before", method="DELETE", path="/credentials$", times=None)

    with pytest.raises(NodionError) as revoking:
        provider.delete(fra, first)
    assert "the answer was lost 4 times in a row" in str(revoking.value)
    assert "`nodion-pulumi credentials revoke fra`" in str(revoking.value)

    emulator.admin.clear_faults()
    with pytest.raises(NodionError) as minting:
        provider.create({"registry_id": fra})
    assert "never answered and may still arrive" in str(minting.value)
    assert [method for method, _ in _credential_writes(emulator)] == ["POST"] + ["DELETE"] * 4
