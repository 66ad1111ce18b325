"""Every committed checkpoint's providers still unpickle, and this release stores the contract.

The engine test (tests/e2e/test_state_contract.py) replays the checkpoints through the CLI;
this one reads the pickled ``__provider`` of each resource directly, so that breaking the
state contract fails in the fast suite too, without the CLI. The contract (DESIGN.md,
"Dependencies and the state contract"): from 0.2.0 a provider pickles as
``nodion_pulumi.state.provider(kind)``; state written by 0.1.0 names the provider classes,
which stay importable under those names for ever.
"""

from __future__ import annotations

import base64
import importlib
import json
import pickletools
import subprocess
import sys
from typing import Any

import dill
import pytest
from pulumi.dynamic.dynamic import serialize_provider

from nodion_devkit.checkpoint import Checkpoint, checkpoints
from nodion_pulumi import state

REGISTRY = "pulumi-python:dynamic/nodion:ContainerRegistry"
CREDENTIALS = "pulumi-python:dynamic/nodion:RegistryCredentials"
# What 0.1.0 wrote: the classes themselves, importable under these names for ever.
CLASSES = {
    REGISTRY: ("nodion_pulumi.container_registry", "ContainerRegistryProvider"),
    CREDENTIALS: ("nodion_pulumi.registry_credentials", "RegistryCredentialsProvider"),
}
# What every later release writes: a call of the contract function with the type's kind.
CONTRACT = ("nodion_pulumi.state", "provider")
KINDS = {REGISTRY: "registry", CREDENTIALS: "credentials"}
CHECKPOINTS = checkpoints()


def _globals(pickled: bytes) -> list[tuple[str, str]]:
    """Every (module, name) a pickle makes the unpickler import, in order.

    STACK_GLOBAL takes its two names from the stack, pushed as strings or fetched from the
    memo, so both are tracked; any other value on top of the stack is not a name.
    """
    found: list[tuple[str, str]] = []
    strings: list[str] = []
    memo: dict[int, Any] = {}
    top: Any = None
    for opcode, arg, _pos in pickletools.genops(pickled):
        kind = opcode.name
        if kind in ("SHORT_BINUNICODE", "BINUNICODE", "BINUNICODE8", "UNICODE"):
            top = str(arg)
            strings.append(top)
        elif kind == "MEMOIZE":
            memo[len(memo)] = top
        elif kind in ("PUT", "BINPUT", "LONG_BINPUT"):
            memo[int(arg)] = top
        elif kind in ("GET", "BINGET", "LONG_BINGET"):
            top = memo.get(int(arg))
            if isinstance(top, str):
                strings.append(top)
        elif kind == "STACK_GLOBAL":
            found.append((strings[-2], strings[-1]))
            top = None
        elif kind in ("GLOBAL", "INST"):
            module, name = str(arg).split(" ", 1)
            found.append((module, name))
            top = None
        else:
            top = None
    return found


def _arguments(pickled: bytes) -> list[str]:
    """The strings a pickle pushes after its last import: a call's arguments."""
    after: list[str] = []
    for opcode, arg, _pos in pickletools.genops(pickled):
        if opcode.name in ("STACK_GLOBAL", "GLOBAL", "INST"):
            after = []
        elif isinstance(arg, str) and "UNICODE" in opcode.name:
            after.append(arg)
    return after


def _class(type_: str) -> type:
    module, name = CLASSES[type_]
    cls: type = getattr(importlib.import_module(module), name)
    return cls


def _committed_providers(checkpoint: Checkpoint) -> list[tuple[str, str, bytes]]:
    resources = checkpoint.deployment["deployment"]["resources"]
    return [
        (resource["type"], section, base64.b64decode(resource[section]["__provider"]))
        for resource in resources
        if resource["type"].startswith("pulumi-python:dynamic/")
        for section in ("inputs", "outputs")
    ]


def _names_the_contract(checkpoint: Checkpoint) -> bool:
    return checkpoint.release != "v0.1.0"


def test_at_least_two_releases_committed_a_checkpoint() -> None:
    assert [c.release for c in CHECKPOINTS][:2] == ["v0.1.0", "v0.2.0"], (
        "run python -m nodion_devkit.checkpoint --release <version>"
    )


@pytest.mark.parametrize("checkpoint", CHECKPOINTS, ids=lambda c: c.release)
def test_each_committed_provider_names_exactly_what_its_release_promised(
    checkpoint: Checkpoint,
) -> None:
    providers = _committed_providers(checkpoint)
    assert {type_ for type_, _, _ in providers} == set(CLASSES)
    for type_, section, pickled in providers:
        if _names_the_contract(checkpoint):
            assert _globals(pickled) == [CONTRACT], f"{type_} {section}"
            assert _arguments(pickled) == [KINDS[type_]], f"{type_} {section}"
        else:
            assert _globals(pickled) == [CLASSES[type_]], f"{type_} {section}"


@pytest.mark.parametrize("checkpoint", CHECKPOINTS, ids=lambda c: c.release)
def test_each_committed_provider_still_unpickles_to_its_provider(checkpoint: Checkpoint) -> None:
    for type_, _section, pickled in _committed_providers(checkpoint):
        # Committed bytes whose imports were checked above: loading them is what the engine
        # does with every stack's state.
        assert type(dill.loads(pickled)) is _class(type_)  # noqa: S301


_FRESH_PROCESS = """
import base64, json, sys
import dill
blobs = json.loads(sys.stdin.read())
before = sorted(m for m in sys.modules if m.startswith("nodion_pulumi"))
loaded = [type(dill.loads(base64.b64decode(blob))) for blob in blobs]
print(json.dumps({"before": before, "loaded": [f"{c.__module__}.{c.__name__}" for c in loaded]}))
"""


@pytest.mark.parametrize("checkpoint", CHECKPOINTS, ids=lambda c: c.release)
def test_each_committed_provider_unpickles_in_a_process_that_imported_nothing_of_ours(
    checkpoint: Checkpoint,
) -> None:
    """The provider process starts empty: the pickle alone must import what it needs."""
    providers = _committed_providers(checkpoint)
    blobs = [base64.b64encode(pickled).decode() for _, _, pickled in providers]
    proc = subprocess.run(
        [sys.executable, "-c", _FRESH_PROCESS],
        input=json.dumps(blobs),
        capture_output=True,
        text=True,
        check=True,
    )
    result = json.loads(proc.stdout)
    assert result["before"] == []
    classes = [_class(type_) for type_, _, _ in providers]
    assert result["loaded"] == [f"{c.__module__}.{c.__name__}" for c in classes]


@pytest.mark.parametrize("type_", CLASSES)
def test_what_this_release_stores_is_a_call_of_the_contract_with_the_kind(type_: str) -> None:
    pickled = base64.b64decode(serialize_provider(_class(type_)()))
    assert _globals(pickled) == [CONTRACT]
    assert _arguments(pickled) == [KINDS[type_]]
    opcodes = [opcode.name for opcode, _arg, _pos in pickletools.genops(pickled)]
    assert not {"EMPTY_DICT", "BUILD"} & set(opcodes), "no instance state"


def test_each_kind_is_the_one_its_provider_is_stored_under() -> None:
    assert set(state.KINDS) == set(KINDS.values())
    for type_, kind in KINDS.items():
        provider = state.provider(kind)
        assert type(provider) is _class(type_)
        assert type(provider).kind == kind  # type: ignore[attr-defined]


def test_a_kind_this_release_does_not_know_asks_for_an_upgrade() -> None:
    with pytest.raises(ValueError, match="later nodion-pulumi; upgrade"):
        state.provider("repository")
