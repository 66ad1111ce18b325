"""examples/ci/deploy.yml is a valid GitHub Actions workflow that runs examples/ci/deploy.py.

The program itself runs end to end in tests/e2e/test_ci_deploy.py; this checks that the
workflow calls it the way that test does, with the secrets it needs.
"""

from __future__ import annotations

import ast
import shlex
from pathlib import Path
from typing import Any

import yaml

CI = Path(__file__).resolve().parents[2] / "examples" / "ci"
WORKFLOW = CI / "deploy.yml"
PROGRAM = CI / "deploy.py"


def _load() -> dict[Any, Any]:
    document = yaml.safe_load(WORKFLOW.read_text())
    assert isinstance(document, dict)
    return document


def _steps() -> list[dict[str, Any]]:
    steps: list[dict[str, Any]] = _load()["jobs"]["deploy"]["steps"]
    return steps


def _program_steps() -> dict[str, list[str]]:
    """The `if:` condition of each step that runs the program, with its command line."""
    found: dict[str, list[str]] = {}
    for step in _steps():
        words = shlex.split(step.get("run", ""))
        if words[:2] == ["python", "ci/deploy.py"]:
            found[step["if"]] = words[2:]
    return found


def test_workflow_is_valid_yaml_with_triggers_and_one_job() -> None:
    workflow = _load()
    # YAML 1.1 reads the bare key `on` as True.
    triggers = workflow["on"] if "on" in workflow else workflow[True]
    assert set(triggers) == {"push", "pull_request"}
    assert list(workflow["jobs"]) == ["deploy"]
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


def test_the_install_step_installs_the_policy_extra_and_the_matching_cli() -> None:
    runs = "\n".join(step.get("run", "") for step in _steps())
    assert '"nodion-pulumi[policy]"' in runs
    assert 'm.version("pulumi")' in runs
    assert "get.pulumi.com" in runs


def test_secrets_come_from_repository_secrets_only() -> None:
    env = _load()["env"]
    for key in ("NODION_API_TOKEN", "PULUMI_CONFIG_PASSPHRASE"):
        assert env[key] == f"${{{{ secrets.{key} }}}}"
    assert "NODION_API_URL" not in env, "the real API unless a URL is given"
