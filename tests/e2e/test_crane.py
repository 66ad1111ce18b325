"""A real registry client logs in with the ``docker_config_json`` a stack captured.

``crane`` (go-containerregistry) reads the output as ``~/.docker/config.json``, reaches the
emulated ``registry.fra.nodion.net`` through the emulator's HTTPS proxy, and runs the Docker
Registry v2 token flow, exactly as it would against Nodion's registry: the output is usable as
it is, and credentials regenerated outside the stack stop working for it at once.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from nodion_devkit.crane import crane_auth_token
from nodion_devkit.nodion_stack import NodionStack

pytestmark = pytest.mark.engine

HOSTNAME = "registry.fra.nodion.net"
REPOSITORY = f"{HOSTNAME}/app"


def _token_requests(stack: NodionStack) -> list[tuple[str, str, int]]:
    """Basic-authenticated requests to the fra registry's token realm: (method, auth, status)."""
    return [
        (r["method"], r["auth"], r["status"])
        for r in stack.emulator.admin.registry_requests()
        if r["host"] == HOSTNAME and r["path"] == "/token"
    ]


def test_crane_logs_in_with_the_docker_config_json_output_until_it_is_regenerated(
    nodion_stack: Callable[..., NodionStack], crane_bin_dir: Path, tmp_path: Path
) -> None:
    stack = nodion_stack()
    stack.set_spec({"credentials": [{"resource": "fra", "region": "fra"}]})
    up = stack.up()
    output = up.outputs["fra.docker_config_json"]
    assert output.secret, "docker_config_json must be a secret output"
    docker_config_json: str = output.value
    # `up` adds secret outputs (and the password inside the document) to the teardown's scan.
    assert docker_config_json in stack.secrets
    assert up.outputs["fra.password"].value in stack.secrets
    assert list(json.loads(docker_config_json)["auths"]) == [HOSTNAME]
    environment = stack.emulator.registry_environment()
    stack.emulator.admin.clear_registry_requests()

    accepted = crane_auth_token(
        crane_bin_dir, REPOSITORY, docker_config_json, environment, tmp_path / "crane"
    )

    assert accepted.returncode == 0, (
        f"crane auth token {REPOSITORY} exited {accepted.returncode}: "
        f"{stack.masked(accepted.stderr)}"
    )
    token = json.loads(accepted.stdout).get("token")
    assert isinstance(token, str), "crane printed no token"
    assert token, "crane printed an empty token"
    stack.secrets.append(token)
    # crane asked the emulated registry, with the captured credentials, and got the token.
    assert _token_requests(stack) == [("GET", "basic", 200)]

    stack.emulator.admin.regenerate_credentials(stack.emulator.nodion_registry_id("fra"))
    stack.emulator.admin.clear_registry_requests()

    refused = crane_auth_token(
        crane_bin_dir, REPOSITORY, docker_config_json, environment, tmp_path / "crane"
    )

    stderr = stack.masked(refused.stderr)
    assert refused.returncode != 0, "crane logged in with regenerated-away credentials"
    assert "UNAUTHORIZED" in stderr or "401" in stderr, stderr
    assert refused.stdout.strip() == "", "crane printed something (a token?) for a refused login"
    assert _token_requests(stack) == [("GET", "basic", 401)]
    stack.transcript += [accepted.stderr, refused.stdout, refused.stderr]
