"""examples/ci/deploy.py, the program the CI workflow calls, run the way the workflow runs it."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from pulumi import automation as auto

from nodion_devkit.engine import REPO_ROOT, Engine, assert_no_plaintext
from nodion_devkit.nodion_stack import TOKEN
from nodion_pulumi.emulator import Emulator

pytestmark = pytest.mark.engine

DEPLOY = REPO_ROOT / "examples" / "ci" / "deploy.py"
QUICKSTART = REPO_ROOT / "examples" / "quickstart"
EXTERNAL_TOKENS = {"dockerHubToken": "hub-token-ci-7b3e9d", "ghcrToken": "ghcr-token-ci-4f1a8c"}


def _ghcr(emulator: Emulator) -> list[dict[str, object]]:
    return [r for r in emulator.admin.registries() if r["registry_type"] == "ghcr"]


def _record_pulumi_commands(engine: Engine) -> Path:
    """Put a `pulumi` first on the program's PATH that appends its command line to a file,
    then runs the real CLI: what any process on a CI runner could read in /proc/*/cmdline."""
    real = shutil.which("pulumi", path=engine.env()["PATH"])
    assert real is not None
    wrapper_dir = engine.root / "recorded-bin"
    wrapper_dir.mkdir(exist_ok=True)
    log = engine.root / "pulumi-commands.log"
    wrapper = wrapper_dir / "pulumi"
    wrapper.write_text(f'#!/bin/sh\necho "pulumi $*" >> "{log}"\nexec "{real}" "$@"\n')
    wrapper.chmod(wrapper.stat().st_mode | stat.S_IXUSR)
    return log


def _deploy(
    engine: Engine, work_dir: Path, operation: str, **env: str
) -> subprocess.CompletedProcess[str]:
    environ = {**os.environ, **engine.env()}
    recorded = engine.root / "recorded-bin"
    if recorded.is_dir():
        environ["PATH"] = f"{recorded}{os.pathsep}{environ['PATH']}"
    return subprocess.run(
        [sys.executable, str(DEPLOY), operation],
        cwd=work_dir,
        # XDG_CACHE_HOME: where the program writes the policy pack for its Python.
        env={
            **environ,
            "STACK": "ci",
            "XDG_CACHE_HOME": str(engine.root / "cache"),
            **env,
        },
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def test_the_ci_program_deploys_the_quickstart_then_changes_nothing(
    engine: Engine, nodion_emulator: Emulator
) -> None:
    # The stack's own secrets are committed configuration in a real project, set once here.
    stack = engine.stack(
        QUICKSTART,
        stack_name="ci",
        secrets={f"nodion-quickstart:{k}": v for k, v in EXTERNAL_TOKENS.items()},
    )
    # A token an older version of this example stored in the configuration, where it would
    # win over the environment's.
    stack.set_config("nodion:apiToken", auto.ConfigValue(value="stale-token-5d1f", secret=True))
    work_dir = Path(stack.workspace.work_dir)
    api = {"NODION_API_TOKEN": TOKEN, "NODION_API_URL": nodion_emulator.url}
    commands = _record_pulumi_commands(engine)

    preview = _deploy(engine, work_dir, "preview", **api)
    assert preview.returncode == 0, preview.stdout + preview.stderr
    assert "deploy: preview of ci: 4 change(s)" in preview.stdout
    assert "nodion-credentials-protected" in preview.stdout  # the policy pack ran
    assert _ghcr(nodion_emulator) == []

    wrong = _deploy(engine, work_dir, "up", **{**api, "NODION_API_TOKEN": "wrong-token-2c9e"})
    assert wrong.returncode == 1
    assert wrong.stderr.startswith("deploy: up failed:\nerror: ")
    assert "HTTP 401" in wrong.stderr
    assert "Traceback" not in wrong.stderr
    assert _ghcr(nodion_emulator) == []

    first = _deploy(engine, work_dir, "up", **api)
    assert first.returncode == 0, first.stdout + first.stderr
    assert "deploy: up of ci: 4 change(s)" in first.stdout
    assert "  registryPassword: [secret]" in first.stdout
    assert "  dockerConfigJson: [secret]" in first.stdout
    assert "  registryHostname: registry.fra.nodion.net" in first.stdout
    assert len(_ghcr(nodion_emulator)) == 1

    second = _deploy(engine, work_dir, "up", **api)
    assert second.returncode == 0, second.stdout + second.stderr
    assert "deploy: preview of ci: 0 change(s)" in second.stdout
    assert "deploy: up of ci: 0 change(s)" in second.stdout

    # The token reached the providers through the environment only: no command line held it.
    command_lines = commands.read_text()
    assert {"preview", "up"} <= set(command_lines.split())
    for token in (TOKEN, "wrong-token-2c9e"):
        assert token not in command_lines, "a pulumi command line held the API token"
    assert not {"nodion:apiToken", "nodion:apiUrl"} & set(stack.get_all_config())

    outputs = stack.outputs()
    leaked = [TOKEN, *EXTERNAL_TOKENS.values(), str(outputs["registryPassword"].value)]
    haystacks = {
        f"{name} {stream}": getattr(run, stream)
        for name, run in (("preview", preview), ("wrong", wrong), ("up", first), ("again", second))
        for stream in ("stdout", "stderr")
    }
    haystacks.update({str(p): p.read_text(errors="replace") for p in engine.state_files()})
    assert_no_plaintext(haystacks, leaked)


def test_without_a_token_it_stops_before_touching_the_stack(
    engine: Engine, nodion_emulator: Emulator, tmp_path: Path
) -> None:
    environ = {"NODION_API_TOKEN": "", "NODION_API_URL": nodion_emulator.url}
    run = _deploy(engine, tmp_path, "up", **environ)
    assert run.returncode == 1
    assert run.stderr.strip() == (
        "deploy: NODION_API_TOKEN is not set; add it as a repository secret and pass it "
        "in the workflow's env"
    )
    assert list(engine.state_files()) == []
