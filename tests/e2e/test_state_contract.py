"""A stack written by an earlier release refreshes, updates and destroys with this one.

Every resource's state holds its provider pickled: from 0.2.0 as a call of
``nodion_pulumi.state.provider`` with a kind name, in 0.1.0 by reference to
``nodion_pulumi.container_registry.ContainerRegistryProvider`` and
``nodion_pulumi.registry_credentials.RegistryCredentialsProvider``. Breaking either breaks
every existing stack at its next refresh. Each release commits the stack it wrote
(``python -m nodion_devkit.checkpoint``, under tests/fixtures/state_contract/), together with
the Nodion side it was written against, and this test replays every one of them: no
resource is replaced or changed, and the `up` writes the current form into the inputs.

Runs from a copy of the tree without ``nodion_pulumi/`` against an installed wheel (the
``compat`` job): files are found through ``nodion_devkit``, never through the package.
"""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import pytest

from nodion_devkit.checkpoint import Checkpoint, CheckpointStack, checkpoints
from nodion_devkit.engine import Engine, assert_no_plaintext
from nodion_pulumi.emulator import Emulator

pytestmark = [pytest.mark.engine, pytest.mark.compat]

REGISTRY = "pulumi-python:dynamic/nodion:ContainerRegistry"
CREDENTIALS = "pulumi-python:dynamic/nodion:RegistryCredentials"
CHECKPOINTS = checkpoints()


def test_at_least_one_release_committed_a_checkpoint() -> None:
    assert CHECKPOINTS, "no checkpoint: run python -m nodion_devkit.checkpoint"


def _assert_state_kept(stack: CheckpointStack, expected: list[dict[str, Any]]) -> None:
    """Same resources with the same ids, and every secret output still ciphertext on disk."""
    on_disk = {(r["type"], r["urn"].rsplit("::", 1)[-1]): r for r in stack.resources("")}
    for resource in expected:
        state = on_disk.get((resource["type"], resource["name"]))
        assert state is not None, f"{resource['name']} is no longer in the state"
        assert state["id"] == resource["id"]
        for key in resource["secret_outputs"]:
            assert "ciphertext" in state["outputs"][key], f"{resource['name']}.{key}"


@pytest.mark.parametrize("checkpoint", CHECKPOINTS, ids=lambda c: c.release)
def test_a_committed_stack_refreshes_updates_and_destroys_without_a_replacement(
    checkpoint: Checkpoint, engine: Engine, tmp_path: Path
) -> None:
    manifest = checkpoint.manifest
    project, stack_name = manifest["project"], manifest["stack"]
    expected: list[dict[str, Any]] = manifest["resources"]
    assert {r["type"] for r in expected} == {REGISTRY, CREDENTIALS}
    ids = {r["type"]: r["id"] for r in expected}

    # The stack takes the committed Pulumi.<stack>.yaml: its salt decrypts the old config.
    committed = engine.stack(checkpoint.program, stack_name)
    config = {key: committed.get_config(key).value for key in manifest["secret_config"]}
    emulator_state = checkpoint.emulator_state
    with Emulator(
        token=config["nodion:apiToken"],
        data_path=tmp_path / "emulator.db",
        project_id=emulator_state["project_id"],
    ) as emulator:
        emulator.restore_state(emulator_state)
        engine.extra_env["NODION_API_URL"] = emulator.url
        stack = CheckpointStack(engine, emulator, str(checkpoint.program), project, stack_name)
        stack.secrets.extend(config.values())
        imported = engine.cli(
            "stack", "import", "--file", str(checkpoint.deployment_file), "--stack", stack_name,
            cwd=stack.work_dir,
        )  # fmt: skip
        stack.transcript += [imported.stdout, imported.stderr]
        for output in stack.stack.outputs().values():
            if output.secret:
                stack.remember_secret(str(output.value))
        assert_no_plaintext(checkpoint.files(), stack.secrets)
        _assert_state_kept(stack, expected)
        admin = emulator.admin

        admin.clear_requests()
        refreshed = stack.refresh()
        assert set(refreshed.summary.resource_changes or {}) == {"same"}
        # Read from the restored emulator, with the token the old state was configured with.
        assert {(r["method"], r["status"]) for r in admin.requests()} == {("GET", 200)}
        _assert_state_kept(stack, expected)

        admin.clear_requests()
        updated = stack.up()
        assert set(updated.summary.resource_changes or {}) == {"same"}, "no change, no replace"
        assert admin.writes() == []
        _assert_state_kept(stack, expected)
        # What the `up` wrote is this release's form: the call of the contract function.
        for resource in stack.resources(""):
            if resource["type"] in (REGISTRY, CREDENTIALS):
                pickled = base64.b64decode(resource["inputs"]["__provider"])
                assert b"nodion_pulumi.state" in pickled, resource["type"]

        admin.clear_requests()
        stack.destroy()
        assert stack.resources("") == []
        deleted = {(w["method"], w["path"]) for w in admin.writes()}
        assert deleted == {
            ("DELETE", f"/v1/container_registries/{ids[REGISTRY]}"),
            ("DELETE", f"/v1/container_registries/{ids[CREDENTIALS]}/credentials"),
        }
        left = {r["id"]: r for r in admin.registries()}
        assert ids[REGISTRY] not in left
        assert left[ids[CREDENTIALS]]["has_credentials"] is False

    config_file = stack.work_dir / f"Pulumi.{stack_name}.yaml"
    assert_no_plaintext({config_file.name: config_file.read_text()}, stack.secrets)
    stack.assert_no_secret_leaked()
