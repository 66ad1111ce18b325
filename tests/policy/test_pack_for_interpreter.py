"""The pack directory `nodion-pulumi policy-pack` writes: it names the Python that wrote it.

Through the real CLI, in a `pulumi new`-style project, in tests/e2e/test_policy_pack.py.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

import nodion_pulumi
from nodion_pulumi.policy_pack import PACK_DIR, pack_for_interpreter


def _runtime(pack: Path) -> dict[str, object]:
    runtime = yaml.safe_load((pack / "PulumiPolicy.yaml").read_text())["runtime"]
    assert isinstance(runtime, dict)
    return runtime


def test_the_pack_runs_on_the_interpreter_that_wrote_it(tmp_path: Path) -> None:
    pack = pack_for_interpreter(cache_root=tmp_path)

    assert pack.parent == tmp_path
    assert pack.name.startswith("policy-pack-")
    runtime = _runtime(pack)
    assert runtime["name"] == "python"
    options = runtime["options"]
    assert isinstance(options, dict)
    # Both language hosts resolve the option against the pack directory and run bin/python.
    python = pack / str(options["virtualenv"]) / "bin" / "python"
    assert os.access(python, os.X_OK)
    ran = subprocess.run(
        [str(python), "-c", "import sys, nodion_pulumi; print(sys.executable, sys.prefix)"],
        capture_output=True,
        text=True,
        check=True,
        env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"},
        cwd=tmp_path,
    )
    assert ran.stdout.split() == [sys.executable, sys.prefix]


def test_the_pack_keeps_the_bundled_name_version_and_entry_point(tmp_path: Path) -> None:
    pack = pack_for_interpreter(cache_root=tmp_path)

    written = yaml.safe_load((pack / "PulumiPolicy.yaml").read_text())
    bundled = yaml.safe_load((PACK_DIR / "PulumiPolicy.yaml").read_text())
    assert {k: v for k, v in written.items() if k != "runtime"} == {
        k: v for k, v in bundled.items() if k != "runtime"
    }
    assert str(written["version"]) == nodion_pulumi.__version__
    assert (
        "from nodion_pulumi.policy_pack.__main__ import main" in (pack / "__main__.py").read_text()
    )


def test_one_directory_per_interpreter_written_once(tmp_path: Path) -> None:
    first = pack_for_interpreter(cache_root=tmp_path)
    stamps = {p: p.stat().st_mtime_ns for p in first.rglob("*") if p.is_file()}

    again = pack_for_interpreter(cache_root=tmp_path)
    other = pack_for_interpreter("/opt/other venv/bin/python", cache_root=tmp_path)

    assert again == first
    assert {p: p.stat().st_mtime_ns for p in first.rglob("*") if p.is_file()} == stamps
    assert other != first
    wrapper = (other / "interpreter" / "bin" / "python").read_text()
    assert wrapper == "#!/bin/sh\nexec '/opt/other venv/bin/python' \"$@\"\n"


def test_a_stale_file_is_rewritten(tmp_path: Path) -> None:
    pack = pack_for_interpreter(cache_root=tmp_path)
    (pack / "PulumiPolicy.yaml").write_text("runtime: python\nversion: 0.0.1\n")

    assert pack_for_interpreter(cache_root=tmp_path) == pack
    assert str(yaml.safe_load((pack / "PulumiPolicy.yaml").read_text())["version"]) == (
        nodion_pulumi.__version__
    )


def test_the_cache_follows_xdg_cache_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert pack_for_interpreter().parent == tmp_path / "nodion-pulumi"


@pytest.mark.parametrize("executable", ["", "python3"])
def test_an_unknown_interpreter_is_refused(tmp_path: Path, executable: str) -> None:
    with pytest.raises(RuntimeError, match="cannot tell which Python"):
        pack_for_interpreter(executable, cache_root=tmp_path)
