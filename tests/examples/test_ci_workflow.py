"""examples/ci/deploy.yml is a valid GitHub Actions workflow that runs examples/ci/deploy.py.

The program itself runs end to end in tests/e2e/test_ci_deploy.py; this checks that the
workflow calls it the way that test does, that only the deploy job on main sees production
secrets (pull requests preview against the emulator), and that what it runs is pinned.
"""

from __future__ import annotations

import ast
import os
import re
import shlex
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import yaml

CI = Path(__file__).resolve().parents[2] / "examples" / "ci"
WORKFLOW = CI / "deploy.yml"
PROGRAM = CI / "deploy.py"
SECRET_REFERENCE = re.compile(r"\$\{\{\s*secrets\.")


def _load() -> dict[Any, Any]:
    document = yaml.safe_load(WORKFLOW.read_text())
    assert isinstance(document, dict)
    return document


def _job(name: str) -> dict[str, Any]:
    job: dict[str, Any] = _load()["jobs"][name]
    return job


def _steps(job: str | None = None) -> list[dict[str, Any]]:
    jobs = [job] if job else list(_load()["jobs"])
    return [step for name in jobs for step in _job(name)["steps"]]


def _program_steps() -> dict[str, list[str]]:
    """The `if:` condition of each job that runs the program, with its command line."""
    found: dict[str, list[str]] = {}
    for name, job in _load()["jobs"].items():
        for step in _steps(name):
            words = shlex.split(step.get("run", ""))
            if words[:2] == ["python", "ci/deploy.py"]:
                found[job["if"]] = words[2:]
    return found


def test_workflow_is_valid_yaml_with_triggers_and_two_jobs() -> None:
    workflow = _load()
    # YAML 1.1 reads the bare key `on` as True.
    triggers = workflow["on"] if "on" in workflow else workflow[True]
    assert set(triggers) == {"push", "pull_request"}
    assert list(workflow["jobs"]) == ["preview", "deploy"]
    assert all(("uses" in step) != ("run" in step) for step in _steps())


def test_pull_requests_preview_and_pushes_deploy_through_the_program() -> None:
    assert _program_steps() == {
        "github.event_name == 'pull_request'": ["preview"],
        "github.event_name == 'push'": ["up"],
    }
    runs = [step.get("run", "") for step in _steps()]
    assert not [r for r in runs if r.lstrip().startswith("pulumi ")], "the program drives pulumi"


def test_the_program_offers_those_operations_and_enforces_the_policy_pack() -> None:
    source = PROGRAM.read_text()
    tree = ast.parse(source)
    choices = [
        node for node in ast.walk(tree) if isinstance(node, ast.keyword) and node.arg == "choices"
    ]
    assert [ast.literal_eval(c.value) for c in choices] == [("preview", "up")]
    policy_calls = [
        node.func.attr
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and any(k.arg == "policy_packs" for k in node.keywords)
    ]
    assert policy_calls == ["preview", "up"]


def test_the_program_never_puts_the_token_in_the_stack_configuration() -> None:
    """`pulumi config set` takes the value on its command line (/proc/*/cmdline)."""
    tree = ast.parse(PROGRAM.read_text())
    called = {
        node.func.attr
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
    }
    assert not called & {"set_config", "set_all_config"}


def test_the_install_steps_install_pinned_versions_and_the_matching_cli() -> None:
    for job in _load()["jobs"]:
        runs = "\n".join(step.get("run", "") for step in _steps(job))
        installs = [line for line in runs.splitlines() if " install " in line]
        assert installs == [
            '.venv/bin/pip install "nodion-pulumi[policy]==${NODION_PULUMI_VERSION}"'
        ]
        assert 'm.version("pulumi")' in runs
        assert "get.pulumi.com" in runs
    assert re.fullmatch(r"\d+\.\d+\.\d+", _load()["env"]["NODION_PULUMI_VERSION"])


def test_actions_are_pinned_by_full_commit_with_the_version_in_a_comment() -> None:
    lines = [line.strip() for line in WORKFLOW.read_text().splitlines()]
    uses = [line for line in lines if line.startswith(("uses:", "- uses:"))]
    assert len(uses) == 4
    for line in uses:
        assert re.fullmatch(r"(- )?uses: [\w-]+/[\w-]+@[0-9a-f]{40} # v\d+\.\d+\.\d+", line), line


def test_only_the_deploy_job_on_main_sees_secrets() -> None:
    workflow = _load()
    assert not SECRET_REFERENCE.search(yaml.safe_dump(workflow["env"]))
    assert not SECRET_REFERENCE.search(yaml.safe_dump(_job("preview")))
    deploy = _job("deploy")
    assert deploy["if"] == "github.event_name == 'push'"
    assert deploy["environment"] == "production"
    for key in ("NODION_API_TOKEN", "PULUMI_CONFIG_PASSPHRASE"):
        assert deploy["env"][key] == f"${{{{ secrets.{key} }}}}"
    assert "NODION_API_URL" not in deploy["env"], "the real API unless a URL is given"


def test_the_preview_jobs_emulator_step_gives_the_next_steps_a_working_api(
    tmp_path: Path,
) -> None:
    """The step's script, run as the runner would (bash -e), with the package's console
    script on PATH: the URL and token it writes to $GITHUB_ENV answer."""
    step = next(s for s in _steps("preview") if s.get("name") == "Start the Nodion API emulator")
    github_env = tmp_path / "github_env"
    environ = {
        **{k: v for k, v in os.environ.items() if not k.startswith("NODION_")},
        "RUNNER_TEMP": str(tmp_path),
        "GITHUB_ENV": str(github_env),
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
    }
    shell = subprocess.Popen(["bash", "-e", "-c", step["run"]], env=environ, start_new_session=True)
    try:
        assert shell.wait(timeout=90) == 0
        values = dict(line.split("=", 1) for line in github_env.read_text().splitlines())
        assert set(values) == {"PULUMI_BACKEND_URL", "NODION_API_URL", "NODION_API_TOKEN"}
        assert values["PULUMI_BACKEND_URL"] == f"file://{tmp_path}/state"
        answer = httpx.get(
            f"{values['NODION_API_URL']}/container_registries",
            headers={"Authorization": f"Bearer {values['NODION_API_TOKEN']}"},
        )
        assert answer.status_code == 200
    finally:
        # The emulator runs on in the step's process group, as it would for the job.
        os.killpg(shell.pid, signal.SIGTERM)
