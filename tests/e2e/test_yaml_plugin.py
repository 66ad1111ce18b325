"""The provider plugin from Pulumi YAML: examples/yaml/ through the real CLI and the emulator.

The programs are the examples themselves, so what README tells a YAML user to run is what is
proven here: the registries project looks up a Nodion registry, captures its credentials and
declares an external registry through the plugin that ``nodion-pulumi plugin`` prints; the
consumer project reads those credentials through a StackReference. Pulumi YAML's language
host is built apart from the CLI (``scripts/ensure-pulumi-yaml``) and put on the engine's
``PATH``. The plugin is the one of the interpreter running the tests, so under
``make compat`` it is the installed wheel's.

Each lifecycle step shares one stack, so the module stays within a few minutes.
"""

from __future__ import annotations

import base64
import json
import subprocess
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from pulumi import automation as auto

from nodion_devkit.answer_relay import AnswerRelay
from nodion_devkit.engine import PROGRAMS, REPO_ROOT, Engine
from nodion_devkit.nodion_stack import TOKEN, NodionStack
from nodion_devkit.pulumi_yaml import (
    PLUGIN_LINK,
    ensure_pulumi_yaml,
    link_provider_plugin,
    provider_plugin_dir,
)
from nodion_pulumi import NodionClient, resolve_settings
from nodion_pulumi.emulator import Emulator

pytestmark = pytest.mark.engine

EXAMPLES = REPO_ROOT / "examples" / "yaml"
REGISTRIES = str(EXAMPLES / "registries")
CONSUMER = str(EXAMPLES / "consumer")
LOOKUPS = str(PROGRAMS / "yaml_lookups")
UNKNOWNS = str(PROGRAMS / "yaml_unknowns")
PROJECT = "nodion-yaml-registries"
CONSUMER_PROJECT = "nodion-yaml-consumer"
REGISTRY = "nodion:index:ContainerRegistry"
CREDENTIALS = "nodion:index:RegistryCredentials"
MIRROR_PASSWORD = "mirror-pass-4c8e1a7f2b"


@pytest.fixture(scope="session")
def pulumi_yaml_dir() -> Path:
    return ensure_pulumi_yaml()


@pytest.fixture(scope="session")
def plugin_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """What ``nodion-pulumi plugin`` prints, written under a cache home of the test session."""
    return provider_plugin_dir(tmp_path_factory.mktemp("xdg-cache"))


@pytest.fixture
def yaml_stack(
    engine: Engine,
    nodion_stack: Callable[..., NodionStack],
    pulumi_yaml_dir: Path,
    plugin_dir: Path,
) -> Callable[..., NodionStack]:
    """Stacks of the YAML examples, their plugin link made in the engine's copy.

    Each is one of the ``nodion_stack`` fixture's, whose teardown scans its state files and
    everything the CLI printed for every secret it learnt.
    """
    engine.path_dirs.append(pulumi_yaml_dir)

    def make(program: str = REGISTRIES, project: str = PROJECT) -> NodionStack:
        stack = nodion_stack(program, project=project)
        if PLUGIN_LINK in (Path(program) / "Pulumi.yaml").read_text():
            link_provider_plugin(stack.work_dir, plugin_dir)
        if program == REGISTRIES:
            stack.stack.set_config(
                f"{PROJECT}:mirrorPassword", auto.ConfigValue(MIRROR_PASSWORD, secret=True)
            )
            stack.secrets.append(MIRROR_PASSWORD)
        return stack

    return make


@pytest.fixture
def relay(nodion_emulator: Emulator) -> Iterator[AnswerRelay]:
    """Between the plugin and the emulator: records every password in the API's answers."""
    with AnswerRelay(nodion_emulator.url) as running:
        yield running


def cli(stack: NodionStack, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    """``pulumi <args> --stack <stack>`` in the stack's project; its output joins the scan."""
    proc = stack.engine.cli(*args, "--stack", stack.stack_name, cwd=stack.work_dir, check=False)
    stack.transcript.append(f"{proc.stdout}\n{proc.stderr}")
    if check and proc.returncode != 0:
        raise AssertionError(
            f"pulumi {' '.join(args)} exited {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
        )
    return proc


def masked_outputs(stack: NodionStack) -> dict[str, Any]:
    """``pulumi stack output --json``, as anyone with access to the stack sees it."""
    outputs: dict[str, Any] = json.loads(cli(stack, "stack", "output", "--json").stdout)
    return outputs


def shown_secrets(stack: NodionStack) -> dict[str, Any]:
    """``pulumi stack output --show-secrets``: kept out of the transcript, which it would leak
    into; every secret string is added to the scan instead."""
    proc = stack.engine.cli(
        "stack", "output", "--json", "--show-secrets", "--stack", stack.stack_name,
        cwd=stack.work_dir,
    )  # fmt: skip
    outputs: dict[str, Any] = json.loads(proc.stdout)
    for name in ("password", "dockerConfigJson"):
        if isinstance(outputs.get(name), str):
            stack.remember_secret(outputs[name])
    return outputs


def credentials_path(registry_id: str) -> str:
    return f"/v1/container_registries/{registry_id}/credentials"


def writes(emulator: Emulator) -> list[tuple[str, str, list[str]]]:
    return [(w["method"], w["path"], w["body_keys"]) for w in emulator.admin.writes()]


def changes(counts: Mapping[Any, int] | None) -> dict[str, int]:
    """A change summary keyed by operation name ("create", "update", ...)."""
    return {str(getattr(op, "value", op)): count for op, count in (counts or {}).items()}


def text(proc: subprocess.CompletedProcess[str]) -> str:
    return f"{proc.stdout}\n{proc.stderr}"


def no_traceback(output: str) -> None:
    assert "Traceback" not in output, output
    assert 'File "' not in output, output


@pytest.mark.compat
def test_yaml_program_lifecycle_through_the_provider_plugin(
    yaml_stack: Callable[..., NodionStack], relay: AnswerRelay
) -> None:
    stack = yaml_stack()
    stack.stack.set_config("nodion:apiUrl", auto.ConfigValue(relay.url))
    emulator = stack.emulator
    admin = emulator.admin
    fra_id = emulator.nodion_registry_id("fra")

    # Preview: the lookup reads, nothing is written.
    preview = stack.preview()
    assert changes(preview.change_summary).get("create") == 3, preview.change_summary  # stack + 2
    assert admin.writes() == []

    # Up: the credentials captured once, the external registry created; secrets masked.
    up = stack.up()
    assert up.summary.result == "succeeded"
    assert up.outputs["password"].secret
    assert up.outputs["dockerConfigJson"].secret
    assert up.outputs["hostname"].value == "registry.fra.nodion.net"
    assert up.outputs["registryId"].value == fra_id
    assert up.outputs["registryName"].value == next(
        r["name"] for r in admin.registries() if r["id"] == fra_id
    )
    mirror_id = up.outputs["mirrorId"].value
    assert up.outputs["mirrorHasCredentials"].value is True
    assert sorted((m, p) for m, p, _ in writes(emulator)) == [
        ("POST", "/v1/container_registries"),
        ("POST", credentials_path(fra_id)),
    ]
    masked = masked_outputs(stack)
    assert masked["password"] == "[secret]"
    assert masked["dockerConfigJson"] == "[secret]"
    shown = shown_secrets(stack)
    password = shown["password"]
    # What the emulator issued: the only passwords that crossed the relay are the mirror's,
    # sent by the program, and the one set of credentials Nodion answered with.
    assert relay.passwords == {MIRROR_PASSWORD, password}
    auth = json.loads(shown["dockerConfigJson"])["auths"]["registry.fra.nodion.net"]
    assert (auth["username"], auth["password"]) == (shown["username"], password)
    assert base64.b64decode(auth["auth"]).decode() == f"{shown['username']}:{password}"
    [credentials_state] = stack.resources(CREDENTIALS)
    assert "ciphertext" in credentials_state["outputs"]["password"]
    assert "ciphertext" in credentials_state["outputs"]["dockerConfigJson"]

    # Another stack consumes them through a StackReference; what it derives stays secret.
    consumer = yaml_stack(CONSUMER, CONSUMER_PROJECT)
    consumer.stack.set_config(
        f"{CONSUMER_PROJECT}:registriesStack",
        auto.ConfigValue(f"organization/{PROJECT}/{stack.stack_name}"),
    )
    consumed = consumer.up()
    assert consumed.outputs["registryHostname"].value == "registry.fra.nodion.net"
    assert consumed.outputs["pullSecretData"].secret
    pull_secret = base64.b64decode(consumed.outputs["pullSecretData"].value).decode()
    assert pull_secret == shown["dockerConfigJson"]
    assert masked_outputs(consumer)["pullSecretData"] == "[secret]"
    consumer.destroy()

    # An update is one PATCH carrying only the changed field.
    admin.clear_requests()
    stack.stack.set_config(f"{PROJECT}:mirrorName", auto.ConfigValue("Mirror renamed"))
    renamed = stack.up()
    assert changes(renamed.summary.resource_changes).get("update") == 1
    assert writes(emulator) == [("PATCH", f"/v1/container_registries/{mirror_id}", ["name"])]
    assert renamed.outputs["mirrorId"].value == mirror_id

    # Rotation by triggers: the old set revoked first, then a new one captured.
    admin.clear_requests()
    stack.stack.set_config(f"{PROJECT}:rotation", auto.ConfigValue("2"))
    rotated = stack.up()
    assert changes(rotated.summary.resource_changes).get("replace") == 1
    assert writes(emulator) == [
        ("DELETE", credentials_path(fra_id), []),
        ("POST", credentials_path(fra_id), []),
    ]
    new_password = shown_secrets(stack)["password"]
    assert new_password != password
    assert relay.passwords == {MIRROR_PASSWORD, password, new_password}

    # Refresh asks the emulated registry whether the captured password still logs in.
    admin.clear_registry_requests()
    admin.clear_requests()
    refreshed = stack.refresh()
    logins = [r for r in admin.registry_requests() if r["auth"] == "basic"]
    assert [(r["host"], r["status"]) for r in logins] == [("registry.fra.nodion.net", 200)]
    assert "refused" not in refreshed.stdout
    assert admin.writes() == []
    assert len(stack.resources(CREDENTIALS)) == 1

    # Regenerated out of band: the registry refuses the stored password; refresh drops it.
    admin.regenerate_credentials(fra_id)
    dropped = stack.refresh()
    warning = " ".join(dropped.stdout.split())
    assert f"the registry refused the credentials of registry {fra_id}" in warning
    assert "revoked or regenerated outside this stack" in warning
    assert stack.resources(CREDENTIALS) == []
    assert len(stack.resources(REGISTRY)) == 1

    # Destroy deletes the external registry and leaves alone the set nobody here owns.
    admin.clear_requests()
    stack.destroy()
    assert writes(emulator) == [("DELETE", f"/v1/container_registries/{mirror_id}", [])]
    assert [r for r in admin.registries() if r["registry_type"] != "nodion"] == []
    assert stack.resources(REGISTRY) == []
    # Every password that crossed the relay, the rotated one included, and every secret the
    # producer knew, looked for in both stacks' state files and everything the CLI printed.
    stack.secrets.extend(relay.passwords)
    consumer.secrets.extend(stack.secrets)
    stack.assert_no_secret_leaked()
    consumer.assert_no_secret_leaked()


@pytest.mark.compat
def test_import_of_an_external_registry_and_refused_import_of_credentials(
    yaml_stack: Callable[..., NodionStack],
) -> None:
    stack = yaml_stack()
    emulator = stack.emulator
    fra_id = emulator.nodion_registry_id("fra")
    settings = resolve_settings({"nodion:apiToken": TOKEN, "nodion:apiUrl": emulator.url})
    with NodionClient(settings) as client:  # made out of band, e.g. in the dashboard
        existing = client.create_registry(
            name="Company mirror", registry_type="custom", hostname="registry.example.com"
        ).id
    emulator.admin.clear_requests()

    # Credentials cannot be imported: Nodion showed their password once, to their creator.
    refused = text(cli(
        stack, "import", CREDENTIALS, "push", fra_id, "--yes", "--generate-code=false",
        "--protect=false", check=False,
    ))  # fmt: skip
    message = " ".join(refused.split())
    assert f"credentials of registry {fra_id} cannot be imported" in message, refused
    assert "Nodion shows their password only once" in message
    assert f"`nodion-pulumi credentials revoke {fra_id}`" in message
    no_traceback(refused)
    assert stack.resources(CREDENTIALS) == []

    imported = text(cli(
        stack, "import", REGISTRY, "mirror", existing, "--yes", "--generate-code=false",
        "--protect=false",
    ))  # fmt: skip
    no_traceback(imported)
    [state] = stack.resources(REGISTRY)
    assert state["id"] == existing
    assert {k: state["inputs"].get(k) for k in ("name", "registryType", "hostname")} == {
        "name": "Company mirror",
        "registryType": "custom",
        "hostname": "registry.example.com",
    }
    assert "password" not in state["inputs"], "the API never shows a password"
    assert emulator.admin.writes() == []

    # The program sets the password (and its username): one PATCH of the imported registry.
    up = stack.up()
    assert up.outputs["mirrorId"].value == existing
    assert changes(up.summary.resource_changes).get("update") == 1
    assert sorted(writes(emulator)) == [
        ("PATCH", f"/v1/container_registries/{existing}", ["password", "username"]),
        ("POST", credentials_path(fra_id), []),
    ]
    stack.destroy()


def test_invalid_input_is_one_line_at_preview(yaml_stack: Callable[..., NodionStack]) -> None:
    stack = yaml_stack()
    stack.stack.set_config(
        f"{PROJECT}:mirrorHostname", auto.ConfigValue("https://registry.example.com/v2")
    )
    preview = cli(stack, "preview", check=False)
    output = text(preview)
    assert preview.returncode != 0
    no_traceback(output)
    diagnostics = output[output.index("Diagnostics:") : output.index("Resources:")]
    [error] = [line.strip() for line in diagnostics.splitlines() if "error:" in line]
    assert "property hostname" in error
    assert "drop 'https://'" in error
    # The progress view shows the same message once more, and nothing else names the field.
    mentions = {line.split("error: ", 1)[-1] for line in output.splitlines() if "hostname" in line}
    assert mentions == {error.split("error: ", 1)[-1]}, output
    assert stack.emulator.admin.writes() == []


def test_lookups_return_the_api_objects_and_an_unknown_region_lists_the_known_ones(
    yaml_stack: Callable[..., NodionStack],
) -> None:
    stack = yaml_stack(LOOKUPS, "nodion-yaml-lookups")
    admin = stack.emulator.admin
    fra_id = stack.emulator.nodion_registry_id("fra")

    outputs = {key: value.value for key, value in stack.up().outputs.items()}
    api = admin.registries()
    assert sorted(
        (r["id"], r["registryType"], r["hostname"]) for r in outputs["registries"]
    ) == sorted((r["id"], r["registry_type"], r["hostname"]) for r in api)
    assert outputs["nodionRegistry"]["id"] == fra_id, "looked up by its hostname"
    assert outputs["byId"] == outputs["nodionRegistry"]
    assert set(outputs["byId"]) == {
        "id", "name", "registryType", "hostname", "hasCredentials", "regionId", "status",
        "createdAt", "updatedAt",
    }  # fmt: skip
    assert admin.writes() == []

    stack.stack.set_config("nodion-yaml-lookups:region", auto.ConfigValue("mars"))
    preview = cli(stack, "preview", check=False)
    output = text(preview)
    assert preview.returncode != 0
    no_traceback(output)
    # Shown in the progress view and under Diagnostics, behind the engine's prefixes.
    start = "no Nodion registry for region 'mars'"
    [message] = {line[line.index(start) :] for line in output.splitlines() if start in line}
    assert all(f"{slug} (registry.{slug}.nodion.net" in message for slug in stack.emulator.regions)


def test_a_failure_from_nodion_at_up_is_one_message(
    yaml_stack: Callable[..., NodionStack],
) -> None:
    """Nodion refusing a create reaches a YAML user as our message (operation, status,
    Nodion's words), not under the plugin's Python stack."""
    stack = yaml_stack()
    stack.emulator.admin.add_fault(
        kind="status", method="POST", path="/v1/container_registries", status=422, times=None
    )
    up = cli(stack, "up", "--yes", check=False)
    output = text(up)
    assert up.returncode != 0
    no_traceback(output)
    diagnostics = output[output.rindex("Diagnostics:") :]  # the update's, after the preview's
    assert (
        "error: create container registry failed: HTTP 422 from POST /v1/container_registries: "
        "Unprocessable Entity" in diagnostics
    ), output


def test_a_changed_setting_is_what_the_next_up_uses(
    yaml_stack: Callable[..., NodionStack], relay: AnswerRelay
) -> None:
    """A new ``nodion:apiUrl`` (the same holds for the token and the project) applies to the
    very next ``up``: the engine configures a provider it was told is unchanged with the old
    configuration, so the plugin must report a changed setting as a change (an update of
    the provider, never a replacement of what it manages)."""
    stack = yaml_stack()
    first = stack.up()
    assert relay.passwords == set()
    fra_id = stack.emulator.nodion_registry_id("fra")

    stack.stack.set_config("nodion:apiUrl", auto.ConfigValue(relay.url))
    stack.stack.set_config(f"{PROJECT}:rotation", auto.ConfigValue("2"))
    stack.emulator.admin.clear_requests()
    rotated = stack.up()
    assert changes(rotated.summary.resource_changes) == {"same": 2, "replace": 1}
    assert writes(stack.emulator) == [
        ("DELETE", credentials_path(fra_id), []),
        ("POST", credentials_path(fra_id), []),
    ]
    # The new set was minted through the new URL: its password crossed the relay.
    through_relay = relay.passwords == {shown_secrets(stack)["password"]}
    assert through_relay, "the up still used the previous nodion:apiUrl"
    assert rotated.outputs["mirrorId"].value == first.outputs["mirrorId"].value
    [provider] = stack.resources("pulumi:providers:nodion")
    assert provider["outputs"]["apiUrl"] == relay.url
    assert "ciphertext" in provider["outputs"]["apiToken"]
    stack.destroy()


def test_values_unknown_at_preview_and_numbers_in_triggers(
    yaml_stack: Callable[..., NodionStack],
) -> None:
    """A trigger that holds another resource's output is unknown at the first preview and
    reaches the plugin as the engine's unknown; it goes back as one, and the preview shows
    it. A number as a trigger comes back from the state as the same number: a second
    preview finds nothing to change."""
    stack = yaml_stack(UNKNOWNS, "nodion-yaml-unknowns")
    preview = cli(stack, "preview", "--diff")
    output = text(preview)
    no_traceback(output)
    shown = " ".join(output.split())
    assert "mirror : [unknown] rotation: 1" in shown, output
    assert "+ 3 to create" in shown, output
    assert stack.emulator.admin.writes() == []

    up = stack.up()
    assert up.outputs["triggers"].value == {"mirror": up.outputs["mirrorId"].value, "rotation": 1}
    stack.emulator.admin.clear_requests()
    cli(stack, "preview", "--expect-no-changes")
    assert stack.emulator.admin.writes() == []
    stack.destroy()
