"""The bundled policy pack under the real Pulumi CLI, from a non-editable install.

The package is built into a wheel and installed into a fresh virtualenv; the programs, their
dynamic providers and the pack all run on that virtualenv's interpreter with no PYTHONPATH,
and the pack is the directory that virtualenv's `nodion-pulumi policy-pack` prints, exactly
as a CI job would use it:

    pulumi preview --policy-pack "$(nodion-pulumi policy-pack)" [--policy-pack-config cfg.json]
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
import uuid
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from pulumi import automation as auto

from nodion_devkit.engine import PROGRAMS, REPO_ROOT, Engine
from nodion_pulumi._facts import CONTAINER_REGISTRY_TYPE, REGISTRY_CREDENTIALS_TYPE
from nodion_pulumi._version import __version__
from nodion_pulumi.emulator import Emulator

pytestmark = pytest.mark.engine

TOKEN = "policy-test-token"
PACK_FILES = {"PulumiPolicy.yaml", "__main__.py", "__init__.py"}


@dataclass(frozen=True)
class Installed:
    """The package installed from its wheel into a virtualenv of its own."""

    venv: Path
    python: Path
    site_packages: Path
    pack: Path


def _run(*args: str | Path, **kwargs: Any) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        [str(a) for a in args], capture_output=True, text=True, check=False, **kwargs
    )
    assert proc.returncode == 0, f"{args} exited {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    return proc


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # `make compat` hands over the wheel it built (and runs from a tree without the package).
    given = os.environ.get("NODION_TEST_WHEEL")
    if given:
        return Path(given)
    wheels = tmp_path_factory.mktemp("wheels")
    _run(sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", wheels, REPO_ROOT)
    [built] = wheels.glob("nodion_pulumi-*.whl")
    with zipfile.ZipFile(built) as archive:
        shipped = {
            name.rsplit("/", 1)[-1]
            for name in archive.namelist()
            if name.startswith("nodion_pulumi/policy_pack/")
        }
    assert shipped == PACK_FILES
    return built


def _clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    return {**env, **extra}


def _install(venv: Path, wheel: Path, cache: Path) -> Installed:
    """A virtualenv at ``venv`` with the wheel installed, and the pack its command prints."""
    _run(sys.executable, "-m", "venv", "--without-pip", venv)
    python = venv / "bin" / "python"
    site_packages = Path(
        _run(
            python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"
        ).stdout.strip()
    )
    # Dependencies (pulumi, pulumi-policy, grpc, httpx, pydantic) come from the test virtualenv.
    # A plain path line does not process that directory's own .pth files, so the editable
    # install of this repository there stays invisible: nodion_pulumi comes from the wheel
    # (installed even where the test virtualenv holds the same version, as under make compat).
    deps = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    (site_packages / "_test_dependencies.pth").write_text("".join(f"{d}\n" for d in deps))
    _run(
        sys.executable, "-m", "pip", "--python", python,
        "install", "--no-deps", "--no-index", "--ignore-installed", "-q", wheel,
    )  # fmt: skip

    clean_env = _clean_env(XDG_CACHE_HOME=str(cache))
    printed = _run(venv / "bin" / "nodion-pulumi", "policy-pack", cwd=venv, env=clean_env)
    pack = Path(printed.stdout.strip())
    assert pack.is_absolute()
    assert pack.parent == cache / "nodion-pulumi", "not in the cache XDG_CACHE_HOME names"
    assert {"PulumiPolicy.yaml", "__main__.py"} <= {p.name for p in pack.iterdir()}
    imported = _run(
        python,
        "-c",
        "import nodion_pulumi.policies as p, pulumi_policy; print(p.__file__)",
        cwd=venv,
        env=clean_env,
    )
    assert Path(imported.stdout.strip()).resolve().is_relative_to(site_packages.resolve())
    return Installed(venv, python, site_packages, pack)


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory, wheel: Path) -> Installed:
    root = tmp_path_factory.mktemp("installed")
    return _install(root / "venv", wheel, root / "cache")


@pytest.fixture
def engine(pulumi_bin_dir: Path, tmp_path: Path, installed: Installed) -> Engine:
    """An engine whose programs, providers and policy packs run on the installed package."""
    return Engine(
        bin_dir=pulumi_bin_dir,
        root=tmp_path,
        extra_env={"PULUMI_PYTHON_CMD": str(installed.python), "PYTHONPATH": ""},
    )


@pytest.fixture
def emulator(tmp_path: Path) -> Iterator[Emulator]:
    with Emulator(token=TOKEN, data_path=tmp_path / "emulator.db") as em:
        yield em


@dataclass
class Project:
    engine: Engine
    stack: auto.Stack
    pack: Path

    @property
    def work_dir(self) -> Path:
        return Path(self.stack.workspace.work_dir)

    def run(
        self, command: str, *args: str, config: dict[str, Any] | None = None
    ) -> subprocess.CompletedProcess[str]:
        """`pulumi <command> --policy-pack <pack> [--policy-pack-config <file>]`."""
        flags = ["--policy-pack", str(self.pack)]
        if config is not None:
            path = self.engine.root / f"policy-config-{uuid.uuid4().hex[:8]}.json"
            path.write_text(json.dumps(config))
            flags += ["--policy-pack-config", str(path)]
        return self.engine.cli(
            command, *args, *flags, "--stack", self.stack.name, cwd=self.work_dir, check=False
        )


def _project(
    engine: Engine, emulator: Emulator, installed: Installed, program: str, **secrets: str
) -> Project:
    stack = engine.stack(
        program,
        config={"nodion:apiUrl": emulator.url},
        secrets={"nodion:apiToken": TOKEN, **{f"{program}:{k}": v for k, v in secrets.items()}},
    )
    return Project(engine, stack, installed.pack)


def _violations(output: str, policy: str) -> list[str]:
    """The lines that name ``policy`` in the Policies section, e.g. '[mandatory]  <name> (...)'."""
    return [line.strip() for line in output.splitlines() if f"]  {policy}" in line]


def _pack_line(installed: Installed) -> str:
    """How the CLI names the pack (it shortens the directory: '/tmp/.../nodion-pulumi/...')."""
    pack = installed.pack
    return f"nodion@v{__version__} (local: /{pack.parts[1]}/.../{pack.parent.name}/{pack.name})"


def _out(proc: subprocess.CompletedProcess[str]) -> str:
    return proc.stdout + proc.stderr


# --- nodion-one-credentials-per-registry ---------------------------------------------------


@pytest.mark.compat
def test_two_credentials_for_one_registry_block_preview_and_up_without_any_write(
    engine: Engine, emulator: Emulator, installed: Installed
) -> None:
    # The provider refuses the second owner itself when it checks the resource, before the
    # engine gets to the stack policies (which run once the whole stack is known), so the
    # policy stays a second line for stacks checked without the provider's list call.
    project = _project(engine, emulator, installed, "policy_duplicate_credentials")

    preview = project.run("preview")

    output = " ".join(_out(preview).split())
    assert preview.returncode != 0, output
    assert _pack_line(installed) in output
    refusal = "cannot get a second owner of its push/pull credentials"
    assert output.split("Diagnostics:")[1].count(refusal) == 1, output
    assert "another RegistryCredentials of this program is about to capture them" in output
    assert _violations(_out(preview), "nodion-one-credentials-per-registry") == []
    assert emulator.admin.writes() == []

    # `pulumi up` previews first, and the refusal stops it there.
    up = project.run("up", "--yes")

    assert up.returncode != 0, _out(up)
    assert refusal in " ".join(_out(up).split())
    assert emulator.admin.writes() == []
    assert not [
        r for r in engine.resources("policy_duplicate_credentials") if "nodion" in r["type"]
    ]


# --- nodion-allowed-registry-hosts ---------------------------------------------------------


def test_a_disallowed_host_is_blocked_when_allowed_hosts_are_configured(
    engine: Engine, emulator: Emulator, installed: Installed
) -> None:
    project = _project(
        engine, emulator, installed, "policy_registries", ghcrToken="gh-t", mirrorPassword="m-p"
    )

    proc = project.run(
        "preview",
        config={"nodion-allowed-registry-hosts": {"allowedHosts": ["ghcr.io", "*.corp.example"]}},
    )

    output = _out(proc)
    assert proc.returncode != 0, output
    [line] = _violations(output, "nodion-allowed-registry-hosts")
    assert line.startswith("- [mandatory]")
    assert f"({CONTAINER_REGISTRY_TYPE}: mirror)" in line
    assert "uses registry host 'registry.evil.example:5000'" in output
    assert emulator.admin.writes() == []
    for secret in ("gh-t", "m-p"):
        assert secret not in output


def test_hosts_are_unrestricted_until_configured_and_the_level_follows_pack_config(
    engine: Engine, emulator: Emulator, installed: Installed
) -> None:
    project = _project(
        engine, emulator, installed, "policy_registries", ghcrToken="gh-t", mirrorPassword="m-p"
    )

    unconfigured = project.run("preview")
    matching = project.run(
        "preview",
        config={"nodion-allowed-registry-hosts": {"allowedHosts": ["GHCR.io", "*.evil.example:*"]}},
    )
    advisory = project.run(
        "preview",
        config={
            "nodion-allowed-registry-hosts": {
                "enforcementLevel": "advisory",
                "allowedHosts": ["ghcr.io"],
            }
        },
    )

    for proc in (unconfigured, matching):
        assert proc.returncode == 0, _out(proc)
        assert _pack_line(installed) in _out(proc)
        assert not _violations(_out(proc), "nodion-allowed-registry-hosts")
    assert advisory.returncode == 0, _out(advisory)
    [line] = _violations(_out(advisory), "nodion-allowed-registry-hosts")
    assert line.startswith("- [advisory]")
    assert emulator.admin.writes() == []


# --- nodion-docker-hub-authenticated and nodion-credentials-protected ----------------------


@pytest.mark.compat
def test_docker_hub_without_credentials_warns_but_passes(
    engine: Engine, emulator: Emulator, installed: Installed
) -> None:
    project = _project(engine, emulator, installed, "policy_docker_hub")

    preview = project.run("preview")

    output = _out(preview)
    assert preview.returncode == 0, output
    [line] = _violations(output, "nodion-docker-hub-authenticated")
    assert line.startswith("- [advisory]")
    assert f"({CONTAINER_REGISTRY_TYPE}: hub)" in line
    assert "pulls from Docker Hub without credentials" in output
    [line] = _violations(output, "nodion-credentials-protected")
    assert line.startswith("- [advisory]")
    assert f"({REGISTRY_CREDENTIALS_TYPE}: fra-push)" in line
    assert emulator.admin.writes() == []

    mandatory = project.run("preview", config={"nodion-docker-hub-authenticated": "mandatory"})

    assert mandatory.returncode != 0, _out(mandatory)
    [line] = _violations(_out(mandatory), "nodion-docker-hub-authenticated")
    assert line.startswith("- [mandatory]")
    assert emulator.admin.writes() == []

    up = project.run("up", "--yes")

    assert up.returncode == 0, _out(up)
    assert _violations(_out(up), "nodion-docker-hub-authenticated")
    assert len(emulator.admin.writes()) == 2  # the registry and the credentials


# --- a `pulumi new` project ----------------------------------------------------------------


def test_a_pulumi_new_project_runs_the_pack_on_its_virtualenv_with_no_extra_variable(
    engine: Engine, emulator: Emulator, wheel: Path, tmp_path: Path
) -> None:
    """`pulumi new`'s layout: `virtualenv: venv` in Pulumi.yaml, nothing activated, no
    PULUMI_PYTHON_CMD. Any `python3` or `python` taken from PATH fails loudly, so the pack can
    only start on the interpreter the command's output names."""
    project = tmp_path / "project"
    project.mkdir()
    (project / "Pulumi.yaml").write_text(
        "name: venv-project\nruntime:\n  name: python\n  options:\n    virtualenv: venv\n"
    )
    program = PROGRAMS / "policy_docker_hub" / "__main__.py"
    (project / "__main__.py").write_text(program.read_text())
    installed = _install(project / "venv", wheel, tmp_path / "cache")
    decoys = tmp_path / "decoys"
    decoys.mkdir()
    for name in ("python3", "python"):
        decoy = decoys / name
        decoy.write_text(f"#!/bin/sh\necho '{name} from PATH was used' >&2\nexit 3\n")
        decoy.chmod(0o755)
    env = {
        k: v
        for k, v in {**os.environ, **engine.env()}.items()
        if k not in ("PULUMI_PYTHON_CMD", "PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")
    }
    env["PATH"] = os.pathsep.join([str(engine.bin_dir), str(decoys), "/usr/bin", "/bin"])

    def pulumi(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(engine.bin_dir / "pulumi"), *args, "--non-interactive"],
            cwd=project, env=env, capture_output=True, text=True, check=False, timeout=300,
        )  # fmt: skip

    for args in (
        ("stack", "init", "dev"),
        ("config", "set", "nodion:apiUrl", emulator.url),
        ("config", "set", "--secret", "nodion:apiToken", TOKEN),
    ):
        done = pulumi(*args)
        assert done.returncode == 0, _out(done)
    printed = subprocess.run(
        [str(project / "venv" / "bin" / "nodion-pulumi"), "policy-pack"],
        cwd=project, env={**env, "XDG_CACHE_HOME": str(tmp_path / "cache")},
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert printed.stdout.strip() == str(installed.pack)

    config = tmp_path / "policy-config.json"
    config.write_text(json.dumps({"nodion-docker-hub-authenticated": "mandatory"}))

    preview = pulumi(
        "preview", "--policy-pack", printed.stdout.strip(), "--policy-pack-config", str(config)
    )

    output = _out(preview)
    assert "from PATH was used" not in output
    assert "No module named" not in output
    assert preview.returncode != 0, output
    assert _pack_line(installed) in output
    [line] = _violations(output, "nodion-docker-hub-authenticated")
    assert line.startswith("- [mandatory]")
    assert f"({CONTAINER_REGISTRY_TYPE}: hub)" in line
    assert emulator.admin.writes() == []
