"""examples/ci/deploy.yml is a valid GitHub Actions workflow that deploys non-interactively."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

WORKFLOW = Path(__file__).resolve().parents[2] / "examples" / "ci" / "deploy.yml"


def _load() -> dict[Any, Any]:
    document = yaml.safe_load(WORKFLOW.read_text())
    assert isinstance(document, dict)
    return document


def test_workflow_is_valid_yaml_with_triggers_and_one_job() -> None:
    workflow = _load()
    # YAML 1.1 reads the bare key `on` as True.
    triggers = workflow.get("on", workflow.get(True))
    assert set(triggers) == {"push", "pull_request"}
    assert list(workflow["jobs"]) == ["deploy"]
    steps = workflow["jobs"]["deploy"]["steps"]
    assert all(("uses" in step) != ("run" in step) for step in steps)


def test_pulumi_commands_never_prompt_and_the_policy_pack_is_enforced() -> None:
    runs = [s["run"] for s in _load()["jobs"]["deploy"]["steps"] if "run" in s]
    pulumi_runs = [r for r in runs if r.lstrip().startswith("pulumi ")]
    assert pulumi_runs
    assert all("--non-interactive" in r for r in pulumi_runs)
    up = next(r for r in pulumi_runs if r.lstrip().startswith("pulumi up"))
    assert "--yes" in up
    assert '--policy-pack "$(nodion-pulumi policy-pack)"' in up
    assert "--skip-preview" not in up, "stack policies only gate during the preview"


def test_secrets_come_from_repository_secrets_only() -> None:
    env = _load()["env"]
    for key in ("NODION_API_TOKEN", "PULUMI_CONFIG_PASSPHRASE"):
        assert env[key] == f"${{{{ secrets.{key} }}}}"
