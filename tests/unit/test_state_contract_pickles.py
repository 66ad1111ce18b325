"""The provider classes every committed checkpoint refers to still exist under those names.

The engine test (tests/e2e/test_state_contract.py) replays the checkpoints through the CLI;
this one reads the pickled ``__provider`` of each resource directly, so that moving or
renaming a provider class fails in the fast suite too, without the CLI.
"""

from __future__ import annotations

import base64
import importlib
import pickletools
from typing import Any

import dill
import pytest
from pulumi.dynamic.dynamic import serialize_provider

from nodion_devkit.checkpoint import Checkpoint, checkpoints

# The public, permanent names (DESIGN.md, "Dependencies and the state contract").
PROVIDERS = {
    "pulumi-python:dynamic/nodion:ContainerRegistry": (
        "nodion_pulumi.container_registry",
        "ContainerRegistryProvider",
    ),
    "pulumi-python:dynamic/nodion:RegistryCredentials": (
        "nodion_pulumi.registry_credentials",
        "RegistryCredentialsProvider",
    ),
}
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


def _committed_providers(checkpoint: Checkpoint) -> list[tuple[str, str, bytes]]:
    resources = checkpoint.deployment["deployment"]["resources"]
    return [
        (resource["type"], section, base64.b64decode(resource[section]["__provider"]))
        for resource in resources
        if resource["type"].startswith("pulumi-python:dynamic/")
        for section in ("inputs", "outputs")
    ]


def test_at_least_one_release_committed_a_checkpoint() -> None:
    assert CHECKPOINTS, "no checkpoint: run python -m nodion_devkit.checkpoint"


@pytest.mark.parametrize("checkpoint", CHECKPOINTS, ids=lambda c: c.release)
def test_each_committed_provider_refers_to_exactly_its_public_class(
    checkpoint: Checkpoint,
) -> None:
    providers = _committed_providers(checkpoint)
    assert {type_ for type_, _, _ in providers} == set(PROVIDERS)
    for type_, section, pickled in providers:
        assert _globals(pickled) == [PROVIDERS[type_]], f"{type_} {section}"


@pytest.mark.parametrize("checkpoint", CHECKPOINTS, ids=lambda c: c.release)
def test_each_committed_provider_still_unpickles_to_that_class(checkpoint: Checkpoint) -> None:
    for type_, _section, pickled in _committed_providers(checkpoint):
        module, name = PROVIDERS[type_]
        cls = getattr(importlib.import_module(module), name)
        # Committed bytes whose only import is checked first: loading them is what the engine
        # does with every stack's state.
        assert _globals(pickled) == [(module, name)]
        assert type(dill.loads(pickled)) is cls  # noqa: S301


@pytest.mark.parametrize(("type_", "public"), PROVIDERS.items())
def test_what_this_release_would_store_refers_to_the_same_class(
    type_: str, public: tuple[str, str]
) -> None:
    module, name = public
    provider = getattr(importlib.import_module(module), name)()
    assert _globals(base64.b64decode(serialize_provider(provider))) == [public]
