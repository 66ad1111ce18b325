"""pulumi-kubernetes' provider plugin, made available to an isolated Pulumi home.

The Kubernetes example consumes captured credentials through a real third-party provider.
``scripts/ensure-kubernetes-plugin`` builds that provider once per machine; each engine test
then links it into its own ``PULUMI_HOME``, where the engine finds it silently. On ``PATH`` the
engine would take it too, but it prefers ``PATH`` over its plugin cache and warns on every run.
"""

from __future__ import annotations

import os
from importlib import metadata
from pathlib import Path

from nodion_devkit.engine import ensure_tool

#: The plugin the script builds; the ``pulumi-kubernetes`` Python package asks for exactly it.
KUBERNETES_PLUGIN_VERSION = "4.25.0"
PLUGIN_BINARY = "pulumi-resource-kubernetes"


def ensure_kubernetes_plugin() -> Path:
    """Return the directory holding ``pulumi-resource-kubernetes``, building it if needed.

    ``NODION_KUBERNETES_PLUGIN_DIR`` points at an installed plugin instead. Failing here fails
    the tests that need the plugin: a missing plugin must never turn into a skip.
    """
    return ensure_tool("ensure-kubernetes-plugin", "NODION_KUBERNETES_PLUGIN_DIR")


def install_kubernetes_plugin(pulumi_home: Path, plugin_dir: Path) -> Path:
    """Put the plugin in ``pulumi_home``'s plugin cache, where the engine looks up its version.

    The entry is a real directory (the engine lists only directories as plugins) holding a
    link to the built binary, so an isolated home costs no copy of a ~320 MB file. Returns the
    entry. Refuses a ``pulumi-kubernetes`` package of another version: the engine would then
    look for a plugin that is not there and fail with a message that hides why.
    """
    installed = metadata.version("pulumi-kubernetes")
    if installed != KUBERNETES_PLUGIN_VERSION:
        raise RuntimeError(
            f"the pulumi-kubernetes Python package is {installed}, but "
            f"scripts/ensure-kubernetes-plugin builds the {KUBERNETES_PLUGIN_VERSION} plugin, "
            "which the engine will not use for it; install the version pinned in "
            "constraints.txt (`make setup`) or change both together"
        )
    binary = plugin_dir / PLUGIN_BINARY
    if not os.access(binary, os.X_OK):
        raise RuntimeError(
            f"{binary} is missing or not executable; run scripts/ensure-kubernetes-plugin "
            "(or point NODION_KUBERNETES_PLUGIN_DIR at a directory holding the plugin)"
        )
    entry = pulumi_home / "plugins" / f"resource-kubernetes-v{KUBERNETES_PLUGIN_VERSION}"
    entry.mkdir(parents=True, exist_ok=True)
    link = entry / PLUGIN_BINARY
    if not link.exists():
        link.unlink(missing_ok=True)  # a link left dangling by a rebuilt cache
        link.symlink_to(binary.resolve())
    return entry
