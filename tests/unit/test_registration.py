"""What each resource registers with the engine: its type token and the serialized provider.

Existing stacks hold a pickled reference to each provider class, so the class a resource
registers must stay exactly the one named here, and the provider (which holds no secret)
must not be stored as a secret. Checked through Pulumi's public mocks, in a child process
so that the mocked runtime leaks into no other test.
"""

from __future__ import annotations

import base64
import importlib
import json
import subprocess
import sys
import textwrap
from typing import Any

import dill
import pytest

from nodion_pulumi._facts import CONTAINER_REGISTRY_TYPE, REGISTRY_CREDENTIALS_TYPE
from nodion_pulumi._provider import NodionProvider
from nodion_pulumi.container_registry import ContainerRegistryProvider
from nodion_pulumi.registry_credentials import RegistryCredentialsProvider

PROGRAM = textwrap.dedent(
    """
    import json
    import pulumi

    class Mocks(pulumi.runtime.Mocks):
        registered = {}

        def new_resource(self, args):
            inputs = args.inputs
            self.registered[args.name] = {
                "type": args.typ,
                "provider": inputs["__provider"],
                # A secret input reaches the mocks wrapped, a plain one as its value.
                "password_is_plain": isinstance(inputs.get("password"), str),
            }
            return [args.name + "-id", inputs]

        def call(self, args):
            return {}

    pulumi.runtime.set_mocks(Mocks(), preview=False)
    import nodion_pulumi as nodion

    @pulumi.runtime.test
    def declare():
        hub = nodion.ContainerRegistry(
            "hub", name="Hub", registry_type="docker_hub", username="me", password="pw"
        )
        creds = nodion.RegistryCredentials("creds", registry_id="r1")
        return pulumi.Output.all(hub.id, creds.id)

    declare()
    print(json.dumps(Mocks.registered))
    """
)


@pytest.fixture(scope="module")
def registered(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    program = tmp_path_factory.mktemp("registration") / "program.py"
    program.write_text(PROGRAM)
    proc = subprocess.run(
        [sys.executable, str(program)], capture_output=True, text=True, check=True
    )
    result: dict[str, dict[str, Any]] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


@pytest.mark.parametrize(
    ("resource", "token"),
    [("hub", CONTAINER_REGISTRY_TYPE), ("creds", REGISTRY_CREDENTIALS_TYPE)],
)
def test_the_resources_register_the_type_tokens_the_package_matches(
    registered: dict[str, dict[str, Any]], resource: str, token: str
) -> None:
    assert registered[resource]["type"] == token


@pytest.mark.parametrize(
    ("resource", "cls", "module", "name"),
    [
        (
            "hub",
            ContainerRegistryProvider,
            "nodion_pulumi.container_registry",
            "ContainerRegistryProvider",
        ),
        (
            "creds",
            RegistryCredentialsProvider,
            "nodion_pulumi.registry_credentials",
            "RegistryCredentialsProvider",
        ),
    ],
)
def test_the_registered_provider_unpickles_to_the_permanent_class(
    registered: dict[str, dict[str, Any]],
    resource: str,
    cls: type[NodionProvider],
    module: str,
    name: str,
) -> None:
    serialized = registered[resource]["provider"]
    # Stored as plain text: a secret would reach the mocks wrapped, not as a string.
    assert isinstance(serialized, str)
    provider = dill.loads(base64.b64decode(serialized))  # noqa: S301 (our own test output)
    assert type(provider) is cls
    # Earlier releases pickled the class by these names: they stay importable for ever.
    assert getattr(importlib.import_module(module), name) is cls
    assert cls.serialize_as_secret_always is False


def test_a_secret_input_does_reach_the_mocks_as_a_secret(
    registered: dict[str, dict[str, Any]],
) -> None:
    """The control for the check above: the mocks do tell secrets from plain values."""
    assert registered["hub"]["password_is_plain"] is False
