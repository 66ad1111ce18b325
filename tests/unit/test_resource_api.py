"""The resources' Python API as users meet it: outputs that resolve and are documented, and
signatures that a type checker holds calls to."""

from __future__ import annotations

import inspect
import json
import os
import pydoc
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

import nodion_pulumi as nodion
from nodion_pulumi import ContainerRegistry, RegistryCredentials, _models, _registry_provider

REGISTRY_OUTPUTS = {
    "name": "Hub",
    "registry_type": "docker_hub",
    "hostname": "docker.io",
    "username": "me",
    "password": "pw",
    "status": "available",
    "has_credentials": True,
    "region_id": None,
    "created_at": "2025-01-15T10:00:00.000+01:00",
    "updated_at": "2025-01-15T10:00:01.000+01:00",
}
CREDENTIALS_OUTPUTS = {
    "registry_id": "r1",
    "triggers": {"v": "1"},
    "hostname": "registry.fra.nodion.net",
    "username": "robot",
    "password": "pw2",
    "docker_config_json": '{"auths":{}}',
}

# Under Pulumi's mocks, in a child process so that the mocked runtime leaks into no other
# test. The mocks answer like the providers: every output filled in.
PROGRAM = textwrap.dedent(
    """
    import json
    import sys

    import pulumi

    REGISTRY, CREDENTIALS = json.loads(sys.argv[1])

    class Mocks(pulumi.runtime.Mocks):
        registered = {}

        def new_resource(self, args):
            self.registered[args.name] = sorted(args.inputs)
            outputs = REGISTRY if args.name == "hub" else CREDENTIALS
            return [args.name + "-id", {**args.inputs, **outputs}]

        def call(self, args):
            return {}

    pulumi.runtime.set_mocks(Mocks(), preview=False)
    import nodion_pulumi as nodion

    def properties(cls):
        return sorted(k for k, v in vars(cls).items() if isinstance(v, property))

    read = {}

    @pulumi.runtime.test
    def declare():
        hub = nodion.ContainerRegistry(
            "hub", name="Hub", registry_type="docker_hub", username="me", password="pw"
        )
        creds = nodion.RegistryCredentials("creds", registry_id="r1", triggers={"v": "1"})
        outputs = []
        for name, resource in (("hub", hub), ("creds", creds)):
            for key in properties(type(resource)):
                value = getattr(resource, key)
                assert isinstance(value, pulumi.Output), (name, key, value)
                outputs.append(
                    value.apply(lambda v, name=name, key=key: read.setdefault(name, {})
                                .__setitem__(key, v))
                )
        return pulumi.Output.all(*outputs)

    declare()
    print(json.dumps({
        "read": read,
        "registered": Mocks.registered,
        "properties": {
            "hub": properties(nodion.ContainerRegistry),
            "creds": properties(nodion.RegistryCredentials),
        },
    }))
    """
)


@pytest.fixture(scope="module")
def declared(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    program = tmp_path_factory.mktemp("outputs") / "program.py"
    program.write_text(PROGRAM)
    proc = subprocess.run(
        [sys.executable, str(program), json.dumps([REGISTRY_OUTPUTS, CREDENTIALS_OUTPUTS])],
        capture_output=True,
        text=True,
        check=True,
    )
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def test_every_output_property_resolves_to_what_the_provider_returned(
    declared: dict[str, Any],
) -> None:
    assert declared["read"] == {"hub": REGISTRY_OUTPUTS, "creds": CREDENTIALS_OUTPUTS}


def test_the_properties_are_exactly_the_providers_outputs() -> None:
    """Each property reads a key the provider returns; none is missing or misspelt."""
    registry = _models.Registry.model_validate({**REGISTRY_OUTPUTS, "id": "r1"})
    assert set(_registry_provider._outputs(registry, "me", "pw")) == set(REGISTRY_OUTPUTS)
    assert _properties(ContainerRegistry) == set(REGISTRY_OUTPUTS)
    # test_registry_credentials checks these against what the provider's create returns.
    assert _properties(RegistryCredentials) == set(CREDENTIALS_OUTPUTS)


def test_every_registered_input_is_an_output(declared: dict[str, Any]) -> None:
    internal = {"__provider", "adopt_id"}
    assert set(declared["registered"]["hub"]) - internal <= _properties(ContainerRegistry)
    assert set(declared["registered"]["creds"]) - internal <= _properties(RegistryCredentials)


def _properties(cls: type) -> set[str]:
    return {name for name, value in vars(cls).items() if isinstance(value, property)}


@pytest.mark.parametrize("cls", [ContainerRegistry, RegistryCredentials])
def test_help_shows_each_propertys_docstring(cls: type) -> None:
    text = pydoc.render_doc(cls, renderer=pydoc.plaintext)
    properties = _properties(cls)
    assert len(properties) >= 6
    for name in sorted(properties):
        doc = inspect.getdoc(getattr(cls, name))
        assert doc, f"{cls.__name__}.{name} has no docstring"
        first_line = doc.splitlines()[0]
        assert first_line in text, f"{cls.__name__}.{name}: {first_line!r} not in help()"


NO_OVERLOAD = "No overload variant of"
# (call, what mypy must say about it: None for nothing). Each failing call differs from an
# accepted one by the one argument that is missing or wrong, so the error is about that.
TYPED_CALLS: list[tuple[str, str | None]] = [
    ('nodion.ContainerRegistry("a", name="A", registry_type="docker_hub")', None),
    ('nodion.ContainerRegistry("a", registry_type="docker_hub")', NO_OVERLOAD),
    ('nodion.ContainerRegistry("a", name="A")', NO_OVERLOAD),
    ('nodion.ContainerRegistry("a", name="A", registry_type="quay")', NO_OVERLOAD),
    ('nodion.ContainerRegistry("a", name="A", registry_type="nodion")', NO_OVERLOAD),
    (
        'nodion.ContainerRegistry("b", name="B", registry_type="custom", hostname="r.example", '
        'username="u", password=token, adopt_id="id", opts=pulumi.ResourceOptions(protect=True))',
        None,
    ),
    ('nodion.ContainerRegistryArgs(name="C", registry_type="ghcr")', None),
    ('nodion.ContainerRegistryArgs(registry_type="ghcr")', 'Missing named argument "name"'),
    ('nodion.ContainerRegistryArgs(name="C")', 'Missing named argument "registry_type"'),
    (
        'nodion.ContainerRegistryArgs(name="C", registry_type="quay")',
        'Argument "registry_type" to "ContainerRegistryArgs" has incompatible type '
        "\"Literal['quay']\"",
    ),
    ('nodion.ContainerRegistry("c", args)', None),
    ('nodion.ContainerRegistry("c", args, name="X")', NO_OVERLOAD),
    ('nodion.ContainerRegistry("h", name="H", registry_type=kind)', None),
    ('nodion.ContainerRegistry("j", name=hub.name, registry_type=hub.registry_type)', None),
    ('nodion.RegistryCredentials("k", registry_id="r1", triggers={"v": 1})', None),
    ('nodion.RegistryCredentials("k", triggers={"v": 1})', NO_OVERLOAD),
    ('nodion.RegistryCredentials("k")', NO_OVERLOAD),
    ('nodion.RegistryCredentials("l", nodion.RegistryCredentialsArgs(registry_id=hub.id))', None),
    ("nodion.RegistryCredentialsArgs()", 'Missing named argument "registry_id"'),
    (
        'secret: pulumi.Output[str] = nodion.RegistryCredentials("o", registry_id="r").password',
        None,
    ),
    ('created: str = nodion.get_nodion_registry("fra").created_at', None),
    ("found: list[nodion.Registry] = nodion.get_container_registries()", None),
    ('nodion.get_nodion_registry(region="fra").hostname = "x"', "is read-only"),
    # A misspelt or missing public name is an error, not silently `Any`.
    ('nodion.ContainerRegistri("a", name="A")', 'has no attribute "ContainerRegistri"'),
    # Every public name is seen with its type: an `Any` would be accepted as an int.
    *[(f"_{name}: int = nodion.{name}", "Incompatible types") for name in nodion.__all__],
]
PRELUDE = """\
import pulumi
import nodion_pulumi as nodion

token: pulumi.Output[str] = pulumi.Output.secret("t")
kind: nodion.ExternalRegistryType = "ghcr"
hub = nodion.ContainerRegistry("hub", name="Hub", registry_type="docker_hub")
args = nodion.ContainerRegistryArgs(name="C", registry_type="ghcr")
"""


def test_a_type_checker_holds_calls_to_the_signatures(tmp_path: Path) -> None:
    snippet = tmp_path / "calls.py"
    first = PRELUDE.count("\n") + 1
    snippet.write_text(PRELUDE + "".join(f"{call}\n" for call, _ in TYPED_CALLS))
    # One mypy run for every case; the cache stays in tmp_path.
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--no-error-summary",
            "--show-error-codes",
            "--cache-dir",
            str(tmp_path / "mypy-cache"),
            "--config-file",
            os.devnull,
            str(snippet),
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert proc.returncode in (0, 1), proc.stderr
    errors: dict[int, list[str]] = {}
    for line in proc.stdout.splitlines():
        location, _, message = line.partition(": error: ")
        if message:
            errors.setdefault(int(location.split(":")[1]), []).append(message)
    assert not any(number < first for number in errors), errors
    for number, (call, expected) in enumerate(TYPED_CALLS, start=first):
        found = errors.get(number, [])
        if expected is None:
            assert found == [], (call, found)
        else:
            assert any(expected in message for message in found), (call, found)


@pytest.mark.parametrize(
    ("make", "named"),
    [
        pytest.param(
            lambda: ContainerRegistry(
                "r",
                nodion.ContainerRegistryArgs(name="hub", registry_type="docker_hub"),
                name="other",
                password="p",
            ),
            "name, password",
            id="ContainerRegistry",
        ),
        pytest.param(
            lambda: RegistryCredentials(
                "r", nodion.RegistryCredentialsArgs(registry_id="abc"), triggers={"v": 1}
            ),
            "triggers",
            id="RegistryCredentials",
        ),
    ],
)
def test_args_with_keywords_are_refused_naming_the_keywords(make: Any, named: str) -> None:
    with pytest.raises(TypeError) as raised:
        make()
    assert str(raised.value).endswith(
        f"'r': pass either args or keyword arguments, not both (got args and {named})"
    )
