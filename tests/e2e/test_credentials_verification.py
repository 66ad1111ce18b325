"""`pulumi refresh` asks the registry whether captured credentials still work.

The emulator serves its Nodion registries' login flow behind an HTTPS proxy; the stacks'
provider processes reach it through the standard ``HTTPS_PROXY`` / ``SSL_CERT_FILE``
environment, exactly as they would reach Nodion's registries.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from pulumi import automation as auto

from nodion_devkit.nodion_stack import NodionStack
from nodion_pulumi._facts import REGISTRY_CREDENTIALS_TYPE
from nodion_pulumi._verify import Verdict, verify_credentials

pytestmark = pytest.mark.engine

CREDENTIALS = REGISTRY_CREDENTIALS_TYPE
SPEC = {"credentials": [{"resource": "fra", "region": "fra"}, {"resource": "nbg", "region": "nbg"}]}


def _logins(stack: NodionStack) -> list[dict[str, Any]]:
    """Requests that carried the captured password to a registry's token realm."""
    return [r for r in stack.emulator.admin.registry_requests() if r["auth"] == "basic"]


def _registry_verdict(
    stack: NodionStack, outputs: dict[str, Any], region: str, monkeypatch: pytest.MonkeyPatch
) -> Verdict:
    """What the emulated registry says about a stack output's credentials, asked from here."""
    for name, value in stack.emulator.registry_environment().items():
        monkeypatch.setenv(name, value)
    hostname = f"registry.{region}.nodion.net"
    return verify_credentials(
        hostname, outputs[f"{region}.username"], outputs[f"{region}.password"]
    ).verdict


def test_untouched_credentials_are_kept_after_one_login_each(
    nodion_stack: Callable[..., NodionStack],
) -> None:
    stack = nodion_stack()
    stack.set_spec(SPEC)
    stack.up()
    stack.emulator.admin.clear_registry_requests()

    result = stack.refresh()

    assert result.summary.resource_changes == {"same": 3}
    assert len(_logins(stack)) == 2, "one verification per credentials resource"
    assert all(r["status"] == 200 for r in _logins(stack))
    assert "refused" not in result.stdout
    assert "could not verify" not in result.stdout
    assert len(stack.resources(CREDENTIALS)) == 2


def test_credentials_regenerated_elsewhere_are_dropped_with_the_ways_on(
    nodion_stack: Callable[..., NodionStack],
) -> None:
    stack = nodion_stack()
    stack.set_spec(SPEC)
    stack.up()
    fra_id = stack.emulator.nodion_registry_id("fra")
    stack.emulator.admin.regenerate_credentials(fra_id)

    result = stack.refresh()

    warning = " ".join(result.stdout.split())
    assert f"the registry refused the credentials of registry {fra_id}" in warning
    assert "revoked or regenerated outside this stack" in warning
    assert "`nodion-pulumi credentials revoke fra`" in warning
    assert "pulumi.StackReference" in warning
    assert [r["id"] for r in stack.resources(CREDENTIALS)] == [
        stack.emulator.nodion_registry_id("nbg")
    ]
    # What the next preview and `up` do: tests/e2e/test_credentials_ownership.py.
    assert [w for w in stack.emulator.admin.writes() if w["method"] == "DELETE"] == []


def test_revoked_credentials_are_dropped_and_the_next_up_mints_working_ones(
    nodion_stack: Callable[..., NodionStack], monkeypatch: pytest.MonkeyPatch
) -> None:
    stack = nodion_stack()
    stack.set_spec(SPEC)
    first = {key: value.value for key, value in stack.up().outputs.items()}
    fra_id = stack.emulator.nodion_registry_id("fra")
    stack.emulator.admin.drop_credentials(fra_id)

    result = stack.refresh()

    assert f"the credentials of registry {fra_id}" in result.stdout
    assert "were revoked outside this stack" in " ".join(result.stdout.split())
    assert len(stack.resources(CREDENTIALS)) == 1
    second = {key: value.value for key, value in stack.up().outputs.items()}
    assert second["fra.password"] != first["fra.password"]
    assert _registry_verdict(stack, second, "fra", monkeypatch) is Verdict.VALID
    assert _registry_verdict(stack, first, "fra", monkeypatch) is Verdict.REJECTED
    assert _registry_verdict(stack, second, "nbg", monkeypatch) is Verdict.VALID


def test_verification_switched_off_asks_no_registry(
    nodion_stack: Callable[..., NodionStack],
) -> None:
    stack = nodion_stack()
    stack.set_spec(SPEC)
    stack.stack.set_config("nodion:verifyCredentials", auto.ConfigValue("false"))
    stack.up()
    stack.emulator.admin.regenerate_credentials(stack.emulator.nodion_registry_id("fra"))
    stack.emulator.admin.clear_registry_requests()

    result = stack.refresh()

    assert stack.emulator.admin.registry_requests() == []
    assert result.summary.resource_changes == {"same": 3}
    assert len(stack.resources(CREDENTIALS)) == 2, "without the check nothing tells them apart"


def test_an_unreachable_registry_keeps_the_credentials_with_a_warning(
    nodion_stack: Callable[..., NodionStack],
) -> None:
    stack = nodion_stack()
    stack.set_spec({"credentials": [SPEC["credentials"][0]]})
    stack.up()
    # The proxy no longer leads anywhere: the registry cannot be asked.
    workspace = stack.stack.workspace
    workspace.env_vars = {**(workspace.env_vars or {}), "HTTPS_PROXY": "http://127.0.0.1:9"}

    result = stack.refresh()

    warning = " ".join(result.stdout.split())
    assert "could not verify the credentials of registry" in warning
    assert "through the proxy http://127.0.0.1:9 (HTTPS_PROXY)" in warning
    assert "They stay in the state." in warning
    assert "set nodion:verifyCredentials to false and run `pulumi refresh --run-program`" in warning
    assert len(stack.resources(CREDENTIALS)) == 1


def test_a_changed_setting_reaches_refresh_only_with_run_program(
    nodion_stack: Callable[..., NodionStack],
) -> None:
    # What README and the messages say: a plain refresh runs the providers with the
    # configuration recorded at the last `up`; `pulumi refresh --run-program` reads it anew.
    stack = nodion_stack()
    stack.set_spec({"credentials": [SPEC["credentials"][0]]})
    stack.up()
    stack.stack.set_config("nodion:verifyCredentials", auto.ConfigValue("false"))
    stack.emulator.admin.clear_registry_requests()

    stack.refresh()
    assert stack.emulator.admin.registry_requests() != [], "the recorded setting (true) ran"

    stack.emulator.admin.clear_registry_requests()
    stack.refresh(run_program=True)
    assert stack.emulator.admin.registry_requests() == []


def test_a_realm_answering_403_keeps_the_credentials_with_a_warning(
    nodion_stack: Callable[..., NodionStack],
) -> None:
    # A firewall, a geo-block or a rate limit answers 403 to a working password: refresh
    # must not drop the only copy of it (DESIGN 3a: only a 401 rejects).
    stack = nodion_stack()
    stack.set_spec({"credentials": [SPEC["credentials"][0]]})
    stack.up()
    proxy = stack.emulator._proxy  # the switch is not offered by the admin API
    assert proxy is not None
    proxy.realm.answer_logins_with("registry.fra.nodion.net", 403)
    stack.emulator.admin.clear_registry_requests()

    result = stack.refresh()

    warning = " ".join(result.stdout.split())
    assert "could not verify the credentials of registry" in warning
    assert "answered HTTP 403" in warning
    assert "They stay in the state." in warning
    assert "the registry refused" not in warning
    assert [r["status"] for r in _logins(stack)] == [403]
    assert result.summary.resource_changes == {"same": 2}
    assert len(stack.resources(CREDENTIALS)) == 1
