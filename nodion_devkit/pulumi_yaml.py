"""Pulumi YAML programs under the real engine: the YAML language host and the provider plugin.

A YAML program reaches the package through its provider plugin (DESIGN 9): the directory that
``nodion-pulumi plugin`` prints, named in the program's ``Pulumi.yaml`` under
``plugins: providers``. The examples name it through a link, ``nodion-plugin`` beside their
``Pulumi.yaml`` (the printed directory differs per machine and per Python), which
:func:`link_provider_plugin` makes in a copy of the project.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from nodion_devkit.engine import ensure_tool

#: The link the YAML examples' ``plugins: providers`` entry names, beside their Pulumi.yaml.
PLUGIN_LINK = "nodion-plugin"


def ensure_pulumi_yaml() -> Path:
    """Return the directory holding ``pulumi-language-yaml``, building it if needed.

    ``NODION_PULUMI_YAML_DIR`` points at an installed language host instead. Failing here fails
    the tests that need it: a missing language host must never turn into a skip.
    """
    return ensure_tool("ensure-pulumi-yaml", "NODION_PULUMI_YAML_DIR")


def provider_plugin_dir(cache_home: Path) -> Path:
    """The directory ``nodion-pulumi plugin`` prints, run from this interpreter's environment.

    The console script beside ``sys.executable`` is the command a user types, and the one of
    the installed package wherever the tests run (``make compat`` runs them on a virtualenv
    holding the wheel, from a tree without the package). ``cache_home`` becomes its
    ``XDG_CACHE_HOME``, so that the plugin directory it writes belongs to the caller.
    """
    command = Path(sys.executable).parent / "nodion-pulumi"
    if not os.access(command, os.X_OK):
        raise RuntimeError(
            f"{command} is missing: install the package into {Path(sys.executable).parent.parent}"
        )
    proc = subprocess.run(
        [str(command), "plugin"],
        env={**os.environ, "XDG_CACHE_HOME": str(cache_home)},
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    if proc.returncode != 0:
        raise RuntimeError(
            f"nodion-pulumi plugin exited {proc.returncode}:\n{proc.stdout}\n{proc.stderr}"
        )
    printed = Path(proc.stdout.strip())
    if not printed.is_absolute() or not (printed / "PulumiPlugin.yaml").is_file():
        raise RuntimeError(
            f"nodion-pulumi plugin printed {proc.stdout.strip()!r}, "
            "not a directory holding PulumiPlugin.yaml"
        )
    return printed


def link_provider_plugin(project_dir: Path, plugin_dir: Path) -> Path:
    """Make the ``nodion-plugin`` link of a YAML project point at ``plugin_dir``; return it."""
    link = project_dir / PLUGIN_LINK
    if link.is_dir() and not link.is_symlink():
        # A copy of a project whose link was made in place holds the linked directory's files.
        shutil.rmtree(link)
    elif link.is_symlink() or link.exists():
        link.unlink()
    link.symlink_to(plugin_dir, target_is_directory=True)
    return link
