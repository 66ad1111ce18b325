"""Driving the real Pulumi CLI from tests.

Mocks (`pulumi.runtime.set_mocks`) never call a dynamic provider and ignore
`additional_secret_outputs`, so everything this package promises about state, secrets,
refresh, import and replacement is proven here against the real engine: an isolated
`PULUMI_HOME`, a `file://` backend in a temporary directory, passphrase secrets, and programs
(and dynamic providers) running on this test interpreter so the package under test is the one
imported.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pulumi import automation as auto

REPO_ROOT = Path(__file__).resolve().parents[1]
PROGRAMS = REPO_ROOT / "tests" / "e2e" / "programs"
PASSPHRASE = "engine-test-passphrase"


def ensure_tool(script: str, override_variable: str) -> Path:
    """Run ``scripts/<script>`` (which builds a tool from its Go modules once and caches it)
    and return the directory it prints last; ``override_variable`` names a directory to use
    instead.

    Failing here fails the tests that need the tool: a missing tool must never turn into a
    skip.
    """
    override = os.environ.get(override_variable)
    if override:
        return Path(override)
    proc = subprocess.run(
        [str(REPO_ROOT / "scripts" / script)], capture_output=True, text=True, check=False
    )
    if proc.returncode != 0:
        raise RuntimeError(
            f"scripts/{script} failed with exit code {proc.returncode}:\n{proc.stderr[-4000:]}"
        )
    return Path(proc.stdout.strip().splitlines()[-1])


def ensure_pulumi() -> Path:
    """Return the directory holding `pulumi`, building the CLI if needed."""
    return ensure_tool("ensure-pulumi", "NODION_PULUMI_BIN_DIR")


@dataclass
class Engine:
    """One isolated Pulumi installation context: home, backend and environment."""

    bin_dir: Path
    root: Path
    extra_env: dict[str, str] = field(default_factory=dict)
    #: Directories put on ``PATH`` right after ``bin_dir``: tools the CLI finds only there,
    #: such as Pulumi YAML's language host (``pulumi-language-yaml``), which is built apart
    #: from the CLI and lives in a directory of its own.
    path_dirs: list[Path] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.home.mkdir(parents=True, exist_ok=True)
        self.backend.mkdir(parents=True, exist_ok=True)

    @property
    def home(self) -> Path:
        return self.root / "pulumi-home"

    @property
    def backend(self) -> Path:
        return self.root / "backend"

    def env(self) -> dict[str, str]:
        """Environment for the CLI and, through it, the language host and providers."""
        env = {
            "PULUMI_HOME": str(self.home),
            "PULUMI_BACKEND_URL": f"file://{self.backend}",
            "PULUMI_CONFIG_PASSPHRASE": PASSPHRASE,
            "PULUMI_SKIP_UPDATE_CHECK": "true",
            "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
            "PULUMI_AUTOMATION_API_SKIP_VERSION_CHECK": "true",
            "PULUMI_PYTHON_CMD": sys.executable,
            "PATH": os.pathsep.join(
                [str(self.bin_dir), *map(str, self.path_dirs), os.environ.get("PATH", "")]
            ),
            "PYTHONPATH": os.pathsep.join(
                p for p in (str(REPO_ROOT), os.environ.get("PYTHONPATH", "")) if p
            ),
        }
        env.update(self.extra_env)
        return env

    def stack(
        self,
        program: str | Path,
        stack_name: str = "test",
        config: Mapping[str, str] | None = None,
        secrets: Mapping[str, str] | None = None,
    ) -> auto.Stack:
        """Create a fresh stack for a program directory copied into this engine's root.

        The copy keeps `Pulumi.<stack>.yaml` files out of the source tree.
        """
        source = Path(program) if Path(program).is_absolute() else PROGRAMS / program
        work_dir = self.root / "programs" / f"{source.name}-{stack_name}"
        if not work_dir.exists():
            shutil.copytree(source, work_dir)
        stack = auto.create_or_select_stack(
            stack_name=stack_name,
            work_dir=str(work_dir),
            opts=auto.LocalWorkspaceOptions(
                pulumi_home=str(self.home),
                env_vars=self.env(),
                pulumi_command=auto.PulumiCommand(
                    root=str(self.bin_dir.parent), skip_version_check=True
                ),
            ),
        )
        for key, value in (config or {}).items():
            stack.set_config(key, auto.ConfigValue(value=value))
        for key, value in (secrets or {}).items():
            stack.set_config(key, auto.ConfigValue(value=value, secret=True))
        return stack

    def cli(self, *args: str, cwd: Path, check: bool = True) -> subprocess.CompletedProcess[str]:
        """Run the CLI directly, for commands the Automation API does not wrap."""
        proc = subprocess.run(
            [str(self.bin_dir / "pulumi"), *args, "--non-interactive"],
            cwd=cwd,
            env={**os.environ, **self.env()},
            capture_output=True,
            text=True,
            check=False,
        )
        if check and proc.returncode != 0:
            raise AssertionError(
                f"pulumi {' '.join(args)} exited {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
            )
        return proc

    def state_files(self) -> Iterator[Path]:
        """Every file the backend wrote: stack checkpoints, backups and history."""
        yield from (p for p in self.backend.rglob("*") if p.is_file())

    def checkpoint(self, project: str, stack_name: str = "test") -> dict[str, Any]:
        """The stack's checkpoint exactly as stored on disk (not decrypted)."""
        path = self.backend / ".pulumi" / "stacks" / project / f"{stack_name}.json"
        data: dict[str, Any] = json.loads(path.read_text())
        return data

    def resources(self, project: str, stack_name: str = "test") -> list[dict[str, Any]]:
        resources: list[dict[str, Any]] = (
            self.checkpoint(project, stack_name)
            .get("checkpoint", {})
            .get("latest", {})
            .get("resources")
            or []
        )
        return resources


def assert_no_plaintext(haystacks: Mapping[str, str], secrets: list[str]) -> None:
    """Fail if any secret (or its base64 form) appears in any of the given texts."""
    import base64

    needles: dict[str, str] = {}
    for secret in secrets:
        needles[secret] = "secret"
        needles[base64.b64encode(secret.encode()).decode()] = "base64 of a secret"
    for name, text in haystacks.items():
        for needle, kind in needles.items():
            at = text.find(needle)
            if at >= 0:
                # Where it leaked, with the secret itself masked: the report must not leak it.
                around = text[max(0, at - 300) : at + len(needle) + 100].replace(needle, "[LEAK]")
                raise AssertionError(f"{kind} found in plaintext in {name}: ...{around}...")
