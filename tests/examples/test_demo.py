"""`make demo` (scripts/demo) never leaves the emulator, whatever NODION_* the shell holds.

A shell set up for a real Nodion project holds NODION_API_TOKEN and maybe more. The demo must
still deploy the quickstart to its own emulator: its stack configuration names the emulator's
URL and token, and every NODION_* variable, which the provider would read for whatever the
stack configuration leaves unset, is kept away from its Pulumi runs.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

from nodion_devkit.engine import REPO_ROOT

pytestmark = pytest.mark.engine

DEMO = REPO_ROOT / "scripts" / "demo"
# Each one, were it read by the provider, would fail the run or send it elsewhere.
REAL_PROJECT_ENV = {
    "NODION_API_TOKEN": "x",
    "NODION_API_URL": "https://api.nodion.com/v1",
    "NODION_PROJECT_ID": "0b7e3c52-9d1f-4a8e-b6c4-2f5a9e7d1c30",
    "NODION_TIMEOUT": "not-a-number",
    "NODION_VERIFY_CREDENTIALS": "not-a-boolean",
}


def _demo(demo_dir: Path, nodion_env: dict[str, str]) -> str:
    """Run the demo with exactly these NODION_* variables (besides the build's own)."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("NODION_") or k.startswith("NODION_PULUMI_")
    }
    env.update(nodion_env, NODION_DEMO_DIR=str(demo_dir))
    proc = subprocess.run(
        [str(DEMO)], env=env, capture_output=True, text=True, timeout=900, check=False
    )
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output
    return output


def _outputs_table(output: str) -> str:
    return output.partition("==> stack outputs (secrets masked)")[2]


def test_the_demo_deploys_to_its_emulator_with_a_real_projects_variables_set(
    tmp_path: Path,
) -> None:
    demo_dir = tmp_path / "demo"

    first = _demo(demo_dir, {"NODION_API_TOKEN": "x"})

    assert "==> starting the Nodion API emulator" in first
    assert "real Nodion API" not in first
    assert re.search(r"registryHostname\s+registry\.fra\.nodion\.net", _outputs_table(first))
    assert re.search(r"registryPassword\s+\[secret\]", _outputs_table(first))
    stack_config = (demo_dir / "project" / "Pulumi.dev.yaml").read_text()
    assert re.search(r"nodion:apiUrl: http://127\.0\.0\.1:\d+/v1", stack_config)

    # Every setting a real project's shell may hold: the second run changes nothing.
    second = _demo(demo_dir, REAL_PROJECT_ENV)

    up = second.partition("==> pulumi up")[2].partition("==> pulumi refresh")[0]
    assert re.search(r"\b4 unchanged\b", up), up
    assert not re.search(r"\b\d+ (created|updated|deleted|replaced)\b", up), up
    assert re.search(r"registryHostname\s+registry\.fra\.nodion\.net", _outputs_table(second))
    stack_config = (demo_dir / "project" / "Pulumi.dev.yaml").read_text()
    assert "api.nodion.com" not in stack_config
