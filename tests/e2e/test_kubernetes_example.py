"""examples/kubernetes feeds the captured credentials to a real third-party provider.

pulumi-kubernetes (the plugin from scripts/ensure-kubernetes-plugin) renders the example's
``kubernetes.io/dockerconfigjson`` Secret and Deployment to YAML files, so the whole path runs
through the real engine with no cluster: what a node would pull with is read back from the
rendered Secret and logged in with by ``crane`` against the emulated registry. The rendered
files are the one place the password may be plaintext; the state and the CLI output are
scanned at teardown (and by the tests themselves) for the password, its ``auth`` and their
base64 forms.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from pulumi import automation as auto

from nodion_devkit.crane import crane_auth_token
from nodion_devkit.engine import REPO_ROOT, Engine
from nodion_devkit.kubernetes import ensure_kubernetes_plugin, install_kubernetes_plugin
from nodion_devkit.nodion_stack import NodionStack

pytestmark = pytest.mark.engine

EXAMPLE = REPO_ROOT / "examples" / "kubernetes"
QUICKSTART = REPO_ROOT / "examples" / "quickstart"
PROJECT = "nodion-kubernetes"
# The example's default region, not the quickstart's "fra": the two run side by side.
HOSTNAME = "registry.nbg.nodion.net"
SECRET_TYPE = "kubernetes:core/v1:Secret"
# How a checkpoint marks an encrypted value: {SIG_KEY: SECRET_SIG, "ciphertext": ...}.
SIG_KEY, SECRET_SIG = "4dabf18193072939515e22adb298388d", "1b47061264138c4ac30d75fd1eb44270"


@pytest.fixture(scope="session")
def kubernetes_plugin_dir() -> Path:
    return ensure_kubernetes_plugin()


@pytest.fixture
def example(
    nodion_stack: Callable[..., NodionStack],
    engine: Engine,
    kubernetes_plugin_dir: Path,
    tmp_path: Path,
) -> NodionStack:
    """The example's stack with its default region, rendering to ``<tmp>/rendered``, with the
    plugin in its home."""
    install_kubernetes_plugin(engine.home, kubernetes_plugin_dir)
    stack = nodion_stack(str(EXAMPLE), project=PROJECT)
    for key, value in {
        "app": "web",
        "tag": "1.4.2",
        "renderDirectory": str(tmp_path / "rendered"),
    }.items():
        stack.stack.set_config(f"{PROJECT}:{key}", auto.ConfigValue(value))
    return stack


def _rendered(stack: NodionStack) -> dict[str, dict[str, Any]]:
    """The rendered manifests by kind (each kind appears once in the example)."""
    directory = Path(stack.stack.get_config(f"{PROJECT}:renderDirectory").value)
    manifests: dict[str, dict[str, Any]] = {}
    for path in sorted(directory.rglob("*.yaml")):
        for document in yaml.safe_load_all(path.read_text()):
            if document:
                assert document["kind"] not in manifests, f"two {document['kind']}s rendered"
                manifests[document["kind"]] = document
    return manifests


def _pull_secret_document(secret: dict[str, Any]) -> str:
    """The ``.dockerconfigjson`` a node would pull with, as the rendered Secret holds it.

    The example gives it as ``stringData``; pulumi-kubernetes renders it base64 under ``data``,
    as the API server would store it.
    """
    assert secret["type"] == "kubernetes.io/dockerconfigjson"
    assert "stringData" not in secret
    return base64.b64decode(secret["data"][".dockerconfigjson"], validate=True).decode()


def _assert_pulls_with(document: str, username: str, password: str) -> None:
    """The document's auth for the registry is exactly these credentials."""
    entry = json.loads(document)["auths"][HOSTNAME]
    assert entry["username"] == username
    assert entry["password"] == password, "the rendered password is not the captured one"
    expected_auth = base64.b64encode(f"{username}:{password}".encode()).decode()
    assert entry["auth"] == expected_auth, "the rendered auth is not the captured credentials"


def _crane_login(
    stack: NodionStack, crane_bin_dir: Path, document: str, root: Path
) -> tuple[int, str]:
    """crane's exit code and (masked) stderr for a login with this document."""
    result = crane_auth_token(
        crane_bin_dir, f"{HOSTNAME}/web", document, stack.emulator.registry_environment(), root
    )
    if result.returncode == 0:
        token = json.loads(result.stdout)["token"]
        assert token, "crane printed an empty token"
        stack.secrets.append(token)
    stack.transcript.append(result.stderr)  # scanned at teardown like the CLI's output
    return result.returncode, stack.masked(result.stderr)


def test_the_rendered_pull_secret_logs_in_and_the_deployment_names_it(
    example: NodionStack,
    nodion_stack: Callable[..., NodionStack],
    crane_bin_dir: Path,
    tmp_path: Path,
) -> None:
    # The quickstart first, on the same Nodion project, both with their default regions: a
    # registry has one owner of its credentials, so a shared default would fail the second up.
    quickstart = nodion_stack(str(QUICKSTART), project="nodion-quickstart")
    for key in ("dockerHubToken", "ghcrToken"):
        quickstart.stack.set_config(
            f"nodion-quickstart:{key}", auto.ConfigValue(f"{key}-k8s-5c1e", secret=True)
        )
        quickstart.secrets.append(f"{key}-k8s-5c1e")
    beside = quickstart.up().outputs["registryHostname"].value
    assert beside == "registry.fra.nodion.net"

    up = example.up()
    outputs = up.outputs
    assert outputs["registryPassword"].secret
    assert outputs["dockerConfigJson"].secret
    username, password = outputs["registryUsername"].value, outputs["registryPassword"].value

    manifests = _rendered(example)

    assert sorted(manifests) == ["Deployment", "Secret"]
    secret, deployment = manifests["Secret"], manifests["Deployment"]
    document = _pull_secret_document(secret)
    example.remember_secret(document)
    assert document == outputs["dockerConfigJson"].value, "not the captured docker_config_json"
    _assert_pulls_with(document, username, password)
    # The registry accepts what a node would pull with.
    example.emulator.admin.clear_registry_requests()
    status, stderr = _crane_login(example, crane_bin_dir, document, tmp_path / "crane")
    assert status == 0, f"crane refused the rendered pull secret: {stderr}"
    assert [
        (r["path"], r["auth"], r["status"])
        for r in example.emulator.admin.registry_requests()
        if r["path"] == "/token"
    ] == [("/token", "basic", 200)]

    pod = deployment["spec"]["template"]["spec"]
    assert pod["imagePullSecrets"] == [{"name": secret["metadata"]["name"]}]
    assert deployment["metadata"]["namespace"] == secret["metadata"]["namespace"]
    assert [c["image"] for c in pod["containers"]] == [f"{HOSTNAME}/web:1.4.2"]
    assert outputs["image"].value == f"{HOSTNAME}/web:1.4.2"
    assert outputs["pullSecretName"].value == secret["metadata"]["name"] == "nodion-nbg-pull"

    # The Secret's data is ciphertext in the state; the scan proves nothing else holds it.
    [state] = example.resources(SECRET_TYPE)
    for stored in (state["inputs"]["data"], state["outputs"]["data"]):
        assert sorted(stored) == [SIG_KEY, "ciphertext"]
        assert stored[SIG_KEY] == SECRET_SIG
    example.assert_no_secret_leaked()
    # The plugin came from the home's plugin cache, not from $PATH (which warns), and it says
    # where the plaintext is.
    assert "from $PATH" not in "\n".join(example.transcript)
    assert "rendered YAML will contain a secret value in plaintext" in up.stdout


def test_a_rotation_rerenders_the_secret_in_the_same_up_and_destroy_removes_the_files(
    example: NodionStack, crane_bin_dir: Path, tmp_path: Path
) -> None:
    first = example.up().outputs
    before = _rendered(example)
    old_document = _pull_secret_document(before["Secret"])

    example.stack.set_config(f"{PROJECT}:triggers", auto.ConfigValue(json.dumps({"rotation": "2"})))
    rotated = example.up()

    # The credentials are replaced, the Secret updated in place, the Deployment left alone.
    assert rotated.summary.resource_changes == {"replace": 1, "update": 1, "same": 3}
    username, password = (
        rotated.outputs["registryUsername"].value,
        rotated.outputs["registryPassword"].value,
    )
    assert password != first["registryPassword"].value, "the rotation kept the password"
    after = _rendered(example)
    assert after["Deployment"] == before["Deployment"]
    document = _pull_secret_document(after["Secret"])
    example.remember_secret(document)
    assert document == rotated.outputs["dockerConfigJson"].value
    _assert_pulls_with(document, username, password)
    status, stderr = _crane_login(example, crane_bin_dir, document, tmp_path / "crane-new")
    assert status == 0, f"crane refused the re-rendered pull secret: {stderr}"
    status, _ = _crane_login(example, crane_bin_dir, old_document, tmp_path / "crane-old")
    assert status != 0, "the registry still accepts the credentials rotated away"
    example.assert_no_secret_leaked()

    example.destroy()

    assert _rendered(example) == {}, "destroy left rendered manifests behind"
