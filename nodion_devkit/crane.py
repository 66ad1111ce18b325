"""go-containerregistry's ``crane``: a real registry client for the engine tests.

The package checks captured credentials against a registry with its own code (DESIGN 3a);
``crane`` is the independent witness that a ``docker_config_json`` output really logs in, the
way ``docker`` or a Kubernetes node would use it.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping
from pathlib import Path

from nodion_devkit.engine import ensure_tool


def ensure_crane() -> Path:
    """Return the directory holding ``crane``, building it if needed.

    ``NODION_CRANE_BIN_DIR`` points at an installed crane instead. Failing here fails the tests
    that need crane: a missing client must never turn into a skip.
    """
    return ensure_tool("ensure-crane", "NODION_CRANE_BIN_DIR")


def crane_auth_token(
    bin_dir: Path,
    repository: str,
    docker_config_json: str,
    registry_environment: Mapping[str, str],
    root: Path,
) -> subprocess.CompletedProcess[str]:
    """Run ``crane auth token <repository>`` logged in with a ``.dockerconfigjson`` document.

    The document is written to ``<root>/docker/config.json`` and crane runs with nothing of
    this process's environment: a clean ``HOME``, ``DOCKER_CONFIG`` pointing at that file, and
    ``registry_environment`` (the proxy and CA that lead to the registry). So no login of the
    machine running the tests can make a rejected document pass. The result is returned
    unchecked; its stdout holds a token and must not be printed.
    """
    docker_dir = root / "docker"
    home = root / "home"
    docker_dir.mkdir(parents=True, exist_ok=True)
    home.mkdir(parents=True, exist_ok=True)
    config = docker_dir / "config.json"
    config.write_text(docker_config_json)
    config.chmod(0o600)
    env = {
        "HOME": str(home),
        "DOCKER_CONFIG": str(docker_dir),
        "PATH": os.defpath,
        **registry_environment,
    }
    return subprocess.run(
        [str(bin_dir / "crane"), "auth", "token", repository],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
