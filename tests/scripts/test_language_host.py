"""The Python language host's Go unit tests (scripts/pulumi-language-python) run in the suite.

The host is a Go module of its own; its tests cover what the engine tests cannot reach
cheaply: the interpreter it picks (a virtualenv relative to the project root or absolute, the
Windows layout, PULUMI_PYTHON_CMD, python3), the program path it hands the exec shim, the
refusal of the uv and poetry toolchains, and `pulumi install` creating the virtualenv and
installing requirements.txt. `make test` needs Go anyway (the ensure-* builds), so a missing
`go` fails here instead of skipping.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

MODULE = Path(__file__).resolve().parents[2] / "scripts" / "pulumi-language-python"

#: Tests that must be among those that ran and passed, so that a module whose tests were
#: dropped or no longer compile into this package cannot pass by running nothing.
EXPECTED = {
    "TestInterpreterVirtualenvRelativeToProjectRoot",
    "TestInterpreterAbsoluteVirtualenv",
    "TestInterpreterWindowsVirtualenvLayout",
    "TestInterpreterFallbacks",
    "TestEntryPoint",
    "TestToolchainOption",
    "TestInstallCreatesVirtualenvAndInstallsRequirements",
    "TestInstallDependenciesGivesPipTheTerminal",
    "TestInstallDependenciesStreamsBothOutputsWithoutATerminal",
    "TestInstallDependenciesRefusesLanguageVersionTools",
}


def test_go_unit_tests_pass() -> None:
    go = shutil.which("go")
    if go is None:
        pytest.fail("Go is not on PATH; the language host's tests (and make test's builds) need it")
    env = dict(os.environ)
    env.setdefault("GOTOOLCHAIN", "local")
    # -mod=readonly: the committed go.mod and go.sum must be enough, as for scripts/ensure-pulumi;
    # -trimpath as its build uses, so the dependencies it compiled are reused, not compiled again.
    result = subprocess.run(
        [go, "test", "-mod=readonly", "-trimpath", "-count=1", "-v", "./..."],
        cwd=MODULE,
        env=env,
        capture_output=True,
        text=True,
        timeout=1200,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-8000:]
    passed = set(re.findall(r"^--- PASS: (\w+)", result.stdout, re.MULTILINE))
    missing = EXPECTED - passed
    assert not missing, f"these tests did not run and pass: {sorted(missing)}\n{output[-4000:]}"
