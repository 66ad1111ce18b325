"""One owner per registry's credentials (DESIGN 3b), through the real CLI and the emulator.

Every way a second owner can arise is refused at preview, before any write, with one message
that names the registry and the two ways on; the way out (`nodion-pulumi credentials revoke`)
is run through its console script; rotations keep working.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from pulumi import automation as auto

from nodion_devkit.nodion_stack import TOKEN, NodionStack
from nodion_pulumi._verify import Verdict, verify_credentials

pytestmark = pytest.mark.engine

CREDENTIALS = "nodion:RegistryCredentials"
CONSOLE_SCRIPT = Path(sys.executable).parent / "nodion-pulumi"
SECOND_OWNER = "cannot get a second owner of its push/pull credentials"


def refused(stack: NodionStack, operation: Callable[..., object], **kwargs: object) -> str:
    """The CLI output of an operation that must fail, with white space folded."""
    with pytest.raises(auto.CommandError) as failed:
        operation(**kwargs)
    return " ".join(str(failed.value).split())


def assert_one_message(output: str, registry_id: str) -> None:
    """The CLI shows a check failure once as it happens and once under "Diagnostics"."""
    assert output.count(SECOND_OWNER) == 2, output
    assert output.split("Diagnostics:")[1].count(SECOND_OWNER) == 1, output
    assert f"registry {registry_id} (registry.fra.nodion.net) {SECOND_OWNER}" in output
    assert "`nodion-pulumi credentials revoke fra`" in output
    assert "pulumi.StackReference" in output
    assert "Traceback" not in output


def cli_up(stack: NodionStack) -> str:
    """`pulumi up --yes` as a user runs it: a preview first, then the update. (The Automation
    API's `up` skips the preview, and so starts creating before every check has run.)"""
    done = stack.engine.cli(
        "up", "--yes", "--stack", stack.stack_name, cwd=stack.work_dir, check=False
    )
    stack.transcript.extend([done.stdout, done.stderr])
    assert done.returncode != 0, done.stdout
    output = " ".join((done.stdout + done.stderr).split())
    assert "Previewing update" in output
    assert "Updating (" not in output, "the preview let the update start"
    return output


def revoke(stack: NodionStack, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NODION_")}
    env.update(NODION_API_URL=stack.emulator.url, NODION_API_TOKEN=TOKEN)
    return subprocess.run(
        [str(CONSOLE_SCRIPT), "credentials", "revoke", *args],
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_two_credentials_for_one_registry_in_one_program_fail_at_preview(
    nodion_stack: Callable[..., NodionStack],
) -> None:
    stack = nodion_stack()
    stack.set_spec(
        {"credentials": [{"resource": "a", "region": "fra"}, {"resource": "b", "region": "fra"}]}
    )
    output = refused(stack, stack.preview)
    assert_one_message(output, stack.emulator.nodion_registry_id("fra"))
    assert "another RegistryCredentials of this program" in output
    output = cli_up(stack)
    assert_one_message(output, stack.emulator.nodion_registry_id("fra"))
    assert stack.emulator.admin.writes() == []
    assert stack.resources(CREDENTIALS) == []


def test_a_registry_held_by_another_stack_fails_at_preview(
    nodion_stack: Callable[..., NodionStack],
) -> None:
    owner = nodion_stack(stack_name="owner")
    owner.set_spec({"credentials": [{"resource": "push", "region": "fra"}]})
    owner.up()
    writes = len(owner.emulator.admin.writes())
    second = nodion_stack(stack_name="second")
    second.set_spec({"credentials": [{"resource": "push", "region": "fra"}]})
    output = refused(second, second.preview)
    assert_one_message(output, owner.emulator.nodion_registry_id("fra"))
    assert "Nodion reports it already has credentials" in output
    assert_one_message(cli_up(second), owner.emulator.nodion_registry_id("fra"))
    assert len(second.emulator.admin.writes()) == writes


@pytest.mark.compat
def test_credentials_regenerated_in_the_dashboard_are_recovered_with_one_command(
    nodion_stack: Callable[..., NodionStack], monkeypatch: pytest.MonkeyPatch
) -> None:
    stack = nodion_stack()
    stack.set_spec({"credentials": [{"resource": "push", "region": "fra"}]})
    stack.up()
    fra = stack.emulator.nodion_registry_id("fra")
    stack.emulator.admin.regenerate_credentials(fra)
    warning = " ".join(stack.refresh().stdout.split())
    assert "`nodion-pulumi credentials revoke fra`" in warning
    assert stack.resources(CREDENTIALS) == []
    stack.emulator.admin.clear_requests()

    assert_one_message(refused(stack, stack.preview), fra)
    assert stack.emulator.admin.writes() == []

    unconfirmed = revoke(stack, "fra")
    assert unconfirmed.returncode == 3, unconfirmed.stderr
    assert "Pass --yes" in unconfirmed.stderr
    assert stack.emulator.admin.writes() == []
    confirmed = revoke(stack, "fra", "--yes")
    assert confirmed.returncode == 0, confirmed.stderr
    assert [w["method"] for w in stack.emulator.admin.writes()] == ["DELETE"]

    outputs = {key: value.value for key, value in stack.up().outputs.items()}
    for name, value in stack.emulator.registry_environment().items():
        monkeypatch.setenv(name, value)
    verdict = verify_credentials(
        "registry.fra.nodion.net", outputs["push.username"], outputs["push.password"]
    ).verdict
    assert verdict is Verdict.VALID


def test_a_rotation_by_triggers_still_works(nodion_stack: Callable[..., NodionStack]) -> None:
    stack = nodion_stack()
    stack.set_spec({"credentials": [{"resource": "push", "region": "fra", "triggers": {"v": 1}}]})
    first = stack.up().outputs["push.password"].value
    stack.set_spec({"credentials": [{"resource": "push", "region": "fra", "triggers": {"v": 2}}]})
    assert stack.preview().change_summary.get("replace") == 1
    result = stack.up()
    assert result.summary.resource_changes is not None
    assert result.summary.resource_changes.get("replace") == 1
    assert result.outputs["push.password"].value != first
    methods = [w["method"] for w in stack.emulator.admin.writes()]
    assert methods == ["POST", "DELETE", "POST"], "revoked before the new set was minted"


def test_a_targeted_replace_is_refused_at_preview_naming_triggers(
    nodion_stack: Callable[..., NodionStack],
) -> None:
    stack = nodion_stack()
    stack.set_spec({"credentials": [{"resource": "push", "region": "fra"}]})
    stack.up()
    [resource] = stack.resources(CREDENTIALS)
    writes = len(stack.emulator.admin.writes())
    output = refused(stack, stack.preview, replace=[resource["urn"]])
    assert_one_message(output, stack.emulator.nodion_registry_id("fra"))
    assert "To rotate this stack's own credentials" in refused(
        stack, stack.up, replace=[resource["urn"]]
    )
    assert "To rotate this stack's own credentials, change their `triggers`" in output
    assert len(stack.emulator.admin.writes()) == writes
    assert len(stack.resources(CREDENTIALS)) == 1
