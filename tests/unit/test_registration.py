"""How the package's resources register: the source position the SDK records is the program
line that declared the resource, and the serialized provider is what the SDK would store."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

from pulumi.dynamic.dynamic import serialize_provider

from nodion_pulumi.container_registry import ContainerRegistryProvider
from nodion_pulumi.registry_credentials import RegistryCredentialsProvider

# Run under Pulumi's mocks in a child process, so the mocked runtime leaks into no other test.
PROGRAM = textwrap.dedent(
    """
    import json
    import pulumi
    import pulumi.runtime.resource as runtime_resource

    positions = {}
    original = runtime_resource._get_stack_trace

    def capture():
        trace = original()
        top = trace.frames[0].pc if trace.frames else None
        positions[len(positions)] = f"{top.uri}#{top.line}" if top else ""
        return trace

    runtime_resource._get_stack_trace = capture

    class Mocks(pulumi.runtime.Mocks):
        inputs = {}

        def new_resource(self, args):
            self.inputs[args.name] = args.inputs
            return [args.name + "-id", args.inputs]

        def call(self, args):
            return {}

    pulumi.runtime.set_mocks(Mocks(), preview=False)
    import nodion_pulumi as nodion

    @pulumi.runtime.test
    def declare():
        hub = nodion.ContainerRegistry("hub", name="Hub", registry_type="docker_hub")
        creds = nodion.RegistryCredentials("creds", registry_id="r1")
        return pulumi.Output.all(hub.id, creds.id)

    declare()
    providers = {name: inputs["__provider"] for name, inputs in Mocks.inputs.items()}
    print(json.dumps({"positions": list(positions.values()), "providers": providers}))
    """
)


def test_source_position_is_the_declaring_line_and_the_provider_is_unchanged(
    tmp_path: Path,
) -> None:
    program = tmp_path / "program.py"
    program.write_text(PROGRAM)
    proc = subprocess.run(
        [sys.executable, str(program)], capture_output=True, text=True, check=True
    )
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    lines = PROGRAM.splitlines()
    declared = [
        f"{program.as_uri()}#{number}"
        for number, line in enumerate(lines, start=1)
        if "= nodion." in line
    ]
    # The first position is the stack resource's, registered by the mocks.
    assert result["positions"][1:] == declared
    assert result["providers"] == {
        "hub": serialize_provider(ContainerRegistryProvider()),
        "creds": serialize_provider(RegistryCredentialsProvider()),
    }
