"""`nodion-pulumi plugin`: a plugin directory the engine runs on this Python."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from nodion_pulumi.cli import main


def test_the_command_prints_a_plugin_directory_run_on_this_python(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert main(["plugin"]) == 0
    plugin = Path(capsys.readouterr().out.strip())
    assert plugin.parent == tmp_path / "nodion-pulumi"
    runtime = yaml.safe_load((plugin / "PulumiPlugin.yaml").read_text())["runtime"]
    assert runtime == {"name": "python", "options": {"virtualenv": "interpreter"}}
    # The interpreter the engine starts is this one, with this package importable.
    python = plugin / "interpreter" / "bin" / "python"
    found = subprocess.run(
        [str(python), "-c", "import sys, nodion_pulumi.plugin; print(sys.executable)"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert found.stdout.strip() == sys.executable
    assert "from nodion_pulumi.plugin.__main__ import main" in (plugin / "__main__.py").read_text()


def test_a_directory_that_cannot_be_written_is_one_line_naming_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    blocked = tmp_path / "file"
    blocked.write_text("not a directory")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocked))
    assert main(["plugin"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("nodion-pulumi plugin: cannot write the plugin: ")
    assert str(blocked) in err
    assert err.count("\n") == 1
