"""Write the checkpoint of a stack made by this release, for the state contract test.

Pulumi keeps each resource's provider pickled in its state (from 0.2.0 as a call of
``nodion_pulumi.state.provider``, before that as a reference to the provider class), so a
stack written by one release has to refresh, update and destroy with every later one. The
only convincing proof is a stack that an earlier release really wrote, so each release
commits one, as one of the steps of releasing it:

    python -m nodion_devkit.checkpoint [--release X.Y.Z] [OUT_DIR]

(``--release`` defaults to the package's version, ``OUT_DIR`` to
tests/fixtures/state_contract) runs the program below with the real CLI against a fresh
emulator (`up`, then a `refresh` that must change nothing) and writes
``OUT_DIR/v<release>/``:

- ``program/``: the program, its ``Pulumi.yaml`` and ``Pulumi.<stack>.yaml`` (the passphrase
  salt, and the API token and the registry password as ciphertext);
- ``deployment.json``: ``pulumi stack export``, secrets as ciphertext under
  ``nodion_devkit.engine.PASSPHRASE``;
- ``emulator-state.json``: ``Emulator.export_state()`` after the ``up``, so that a restored
  emulator holds the same random external registry id and the already-minted credentials
  (as salted digests: the emulator never keeps a password);
- ``checkpoint.json``: what the test checks against (project, stack, resources and their
  secret outputs, secret config keys) and the versions that wrote it, with the commit of
  this tree (a checkpoint written before the version bump of its release names the release
  with ``--release`` and records the version the tree still had).

The API URL comes from ``NODION_API_URL``, never from stack config: the engine keeps the
provider's configuration in the state and configures a refresh from it, so a URL with this
run's random port would send every later refresh to a dead port. The registry password is a
fresh obviously-fake value, so it exists nowhere in plaintext: not in these files and not in
this source. An existing release directory is never overwritten
(it is evidence of what that release wrote) unless ``--force`` is given.
"""

from __future__ import annotations

import argparse
import json
import platform
import secrets
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path
from typing import Any

from pulumi import automation as auto

from nodion_devkit.engine import REPO_ROOT, Engine, assert_no_plaintext, ensure_pulumi
from nodion_devkit.nodion_stack import TOKEN, NodionStack
from nodion_pulumi._facts import CONTAINER_REGISTRY_TYPE, REGISTRY_CREDENTIALS_TYPE
from nodion_pulumi._version import __version__
from nodion_pulumi.emulator import Emulator

CHECKPOINTS_DIR = REPO_ROOT / "tests" / "fixtures" / "state_contract"
PROJECT = "nodion-state-contract"
STACK = "checkpoint"
PASSWORD_KEY = f"{PROJECT}:registryPassword"
SECRET_CONFIG = ("nodion:apiToken", PASSWORD_KEY)

PROJECT_YAML = f"""\
name: {PROJECT}
runtime: python
description: The program that wrote this state contract checkpoint; the test runs it again.
"""

PROGRAM = '''\
"""One resource of each type, with every kind of secret the package keeps in the state.

Written by nodion_devkit.checkpoint; the state contract test runs this exact program against
the checkpoint, so keep it as it was when the checkpoint was written.
"""

import pulumi

import nodion_pulumi as nodion

config = pulumi.Config()

mirror = nodion.ContainerRegistry(
    "mirror",
    name="State contract mirror",
    registry_type="custom",
    hostname="registry.example.test:5000",
    username="state-contract-user",
    password=config.require_secret("registryPassword"),
)

push = nodion.RegistryCredentials(
    "fra-push",
    registry_id=nodion.get_nodion_registry("fra").id,
    triggers={"rotation": "1"},
)

pulumi.export("mirror_id", mirror.id)
pulumi.export("mirror_hostname", mirror.hostname)
pulumi.export("push_id", push.id)
pulumi.export("push_username", push.username)
pulumi.export("push_password", push.password)
pulumi.export("push_docker_config_json", push.docker_config_json)
'''


@dataclass(frozen=True)
class Checkpoint:
    """One committed release directory, as the state contract test reads it."""

    directory: Path

    @property
    def release(self) -> str:
        return self.directory.name

    @property
    def manifest(self) -> dict[str, Any]:
        manifest: dict[str, Any] = json.loads((self.directory / "checkpoint.json").read_text())
        return manifest

    @property
    def program(self) -> Path:
        return self.directory / "program"

    @property
    def deployment_file(self) -> Path:
        return self.directory / "deployment.json"

    @property
    def deployment(self) -> dict[str, Any]:
        deployment: dict[str, Any] = json.loads(self.deployment_file.read_text())
        return deployment

    @property
    def emulator_state(self) -> dict[str, Any]:
        state: dict[str, Any] = json.loads((self.directory / "emulator-state.json").read_text())
        return state

    def files(self) -> dict[str, str]:
        """Every committed file by its path, for plaintext scans."""
        return {
            str(path.relative_to(self.directory)): path.read_text(errors="replace")
            for path in sorted(self.directory.rglob("*"))
            if path.is_file()
        }


@dataclass
class CheckpointStack(NodionStack):
    """A NodionStack whose configuration is the checkpoint's own, not the test defaults.

    The token and the URL are not set here: the generator sets the token once, the test
    keeps the committed one, and both take the URL from ``NODION_API_URL``.
    """

    @property
    def stack(self) -> auto.Stack:
        if self._stack is None:
            self._stack = self.engine.stack(self.program, self.stack_name)
        return self._stack


def checkpoints(root: Path = CHECKPOINTS_DIR) -> list[Checkpoint]:
    return [
        Checkpoint(path)
        for path in sorted(root.iterdir() if root.is_dir() else [])
        if (path / "checkpoint.json").is_file()
    ]


def _is_ciphertext(value: Any) -> bool:
    return isinstance(value, dict) and "ciphertext" in value


def _resources(engine: Engine) -> list[dict[str, Any]]:
    """The package's resources on disk, with the outputs that are stored as ciphertext."""
    return [
        {
            "type": resource["type"],
            "name": resource["urn"].rsplit("::", 1)[-1],
            "id": resource["id"],
            "secret_outputs": sorted(
                key for key, value in resource["outputs"].items() if _is_ciphertext(value)
            ),
        }
        for resource in engine.resources(PROJECT, STACK)
        if resource["type"] in (CONTAINER_REGISTRY_TYPE, REGISTRY_CREDENTIALS_TYPE)
    ]


def _only_same(summary: auto.UpdateSummary, operation: str) -> None:
    changes = summary.resource_changes or {}
    if set(changes) != {"same"}:
        raise RuntimeError(f"the {operation} after the first up changed something: {changes}")


def _commit() -> str:
    """The commit of the tree writing the checkpoint (``-dirty`` with local changes)."""
    proc = subprocess.run(
        ["git", "describe", "--always", "--dirty"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    return proc.stdout.strip() or "unknown"


def _write(stack: NodionStack, emulator: Emulator, target: Path, release: str) -> None:
    engine = stack.engine
    password = f"fake-state-contract-password-{secrets.token_hex(8)}"
    stack.secrets.append(password)
    stack.stack.set_config("nodion:apiToken", auto.ConfigValue(TOKEN, secret=True))
    stack.stack.set_config(PASSWORD_KEY, auto.ConfigValue(password, secret=True))
    stack.up()
    _only_same(stack.refresh().summary, "refresh")

    program = target / "program"
    program.mkdir(parents=True)
    for name in ("Pulumi.yaml", "__main__.py", f"Pulumi.{STACK}.yaml"):
        shutil.copyfile(stack.work_dir / name, program / name)
    export = engine.cli(
        "stack", "export", "--stack", STACK, "--file", str(target / "deployment.json"),
        cwd=stack.work_dir,
    )  # fmt: skip
    stack.transcript += [export.stdout, export.stderr]
    state = emulator.export_state()
    (target / "emulator-state.json").write_text(json.dumps(state, indent=2) + "\n")
    manifest = {
        "release": release,
        "project": PROJECT,
        "stack": STACK,
        "secret_config": list(SECRET_CONFIG),
        "resources": _resources(engine),
        "written_by": {
            "command": "python -m nodion_devkit.checkpoint"
            + ("" if release == __version__ else f" --release {release}"),
            "nodion-pulumi": __version__,
            "commit": _commit(),
            "pulumi": version("pulumi"),
            "dill": version("dill"),
            "pulumi-cli": engine.cli("version", cwd=stack.work_dir).stdout.strip(),
            "python": platform.python_version(),
        },
    }
    (target / "checkpoint.json").write_text(json.dumps(manifest, indent=2) + "\n")

    stack.assert_no_secret_leaked()
    written = Checkpoint(target).files()
    assert_no_plaintext(written, stack.secrets)


def write_checkpoint(out_dir: Path, *, release: str = __version__, force: bool = False) -> Path:
    """Write ``out_dir/v<release>/`` and return it; nothing is left behind on failure."""
    target = out_dir / f"v{release}"
    if target.exists() and not force:
        raise FileExistsError(
            f"{target} exists: it records what release {release} wrote. "
            "Pass --force to write it again."
        )
    with tempfile.TemporaryDirectory(prefix="nodion-checkpoint-") as tmp:
        root = Path(tmp)
        engine = Engine(bin_dir=ensure_pulumi(), root=root / "engine")
        source = root / "source"
        source.mkdir()
        (source / "Pulumi.yaml").write_text(PROJECT_YAML)
        (source / "__main__.py").write_text(PROGRAM)
        staged = root / "out" / target.name
        with Emulator(token=TOKEN, data_path=root / "emulator.db") as emulator:
            engine.extra_env["NODION_API_URL"] = emulator.url
            stack = CheckpointStack(engine, emulator, str(source), PROJECT, STACK)
            _write(stack, emulator, staged, release)
        if target.exists():
            shutil.rmtree(target)
        out_dir.mkdir(parents=True, exist_ok=True)
        shutil.copytree(staged, target)
    return target


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m nodion_devkit.checkpoint",
        description="Write the state contract checkpoint of this release.",
    )
    parser.add_argument(
        "out_dir",
        nargs="?",
        type=Path,
        default=CHECKPOINTS_DIR,
        help=f"where v<release>/ is written (default: {CHECKPOINTS_DIR.relative_to(REPO_ROOT)})",
    )
    parser.add_argument(
        "--release",
        default=__version__,
        help=f"the release this tree is (default: the package's version, {__version__})",
    )
    parser.add_argument("--force", action="store_true", help="replace an existing v<release>/")
    args = parser.parse_args(argv)
    try:
        target = write_checkpoint(args.out_dir, release=args.release, force=args.force)
    except FileExistsError as error:
        print(error, file=sys.stderr)
        return 1
    print(target)
    return 0


if __name__ == "__main__":
    sys.exit(main())
