"""The bundled pack directory, the `policy-pack` command, and the optional dependency."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import yaml

import nodion_pulumi
from nodion_pulumi import cli
from nodion_pulumi.policy_pack import PACK_DIR, pack_for_interpreter

REPO_ROOT = Path(__file__).resolve().parents[2]


def _run_python(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        check=False,
        cwd=REPO_ROOT,
        timeout=60,
    )


def test_the_pack_directory_is_inside_the_package() -> None:
    assert PACK_DIR.is_absolute()
    assert PACK_DIR.parent == Path(nodion_pulumi.__file__).resolve().parent
    assert (PACK_DIR / "__main__.py").is_file()


def test_pulumi_policy_yaml_is_a_python_pack_versioned_like_the_package() -> None:
    project = yaml.safe_load((PACK_DIR / "PulumiPolicy.yaml").read_text())
    assert project["runtime"] == "python"
    assert str(project["version"]) == nodion_pulumi.__version__
    assert project["description"]


def test_policy_pack_command_prints_the_pack_for_this_python(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert cli.main(["policy-pack"]) == 0
    out, err = capsys.readouterr()
    assert out == f"{pack_for_interpreter()}\n"
    assert out.startswith(f"{tmp_path}/nodion-pulumi/policy-pack-")
    assert err == ""


def test_policy_pack_is_listed_in_the_help() -> None:
    assert "policy-pack" in cli.build_parser().format_help()


def test_importing_the_package_does_not_need_pulumi_policy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    proc = _run_python(
        """
        import sys
        sys.modules["pulumi_policy"] = None  # as if not installed
        import nodion_pulumi, nodion_pulumi.cli, nodion_pulumi.policy_pack
        assert "nodion_pulumi.policies" not in sys.modules
        sys.exit(nodion_pulumi.cli.main(["policy-pack"]))
        """
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == f"{pack_for_interpreter()}\n"
    assert "pip install 'nodion-pulumi[policy]'" in proc.stderr


def test_the_pack_explains_a_missing_pulumi_policy_instead_of_a_traceback() -> None:
    proc = _run_python(
        f"""
        import runpy, sys
        sys.modules["pulumi_policy"] = None  # as if not installed
        runpy.run_path({str(PACK_DIR)!r}, run_name="__main__")
        """
    )
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    assert "pip install 'nodion-pulumi[policy]'" in proc.stderr
    assert proc.stdout == ""  # the engine reads a port from stdout: nothing misleading there
