"""What the property tests and the reliability run share: hypothesis profiles, a clean
process state, and providers configured as the engine configures them.

The providers keep process state (settings, sessions, the shared client, which registries'
credentials the run creates). A property test runs many examples in one process, and each
example (each command of the stateful machine) must start as a fresh provider process would,
so isolation is a context manager that can wrap one example, not only a pytest fixture.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Mapping
from typing import Any, TypeVar

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from pulumi.dynamic import ConfigureRequest, ResourceProvider
from pulumi.dynamic.config import Config

from nodion_pulumi import _runtime
from nodion_pulumi.emulator import Emulator

__all__ = [
    "BOUNDED",
    "PROFILE_VARIABLE",
    "RELIABILITY",
    "TOKEN",
    "configured",
    "examples",
    "isolated_process_state",
    "json_values",
    "provider_config",
    "register_profiles",
]

TOKEN = "test-token"
PROFILE_VARIABLE = "NODION_HYPOTHESIS_PROFILE"
BOUNDED = "bounded"
"""The profile of `make test`: few examples, the same ones on every run."""
RELIABILITY = "reliability"
"""The profile of `make reliability`: many more examples, still derandomized."""

# How many more examples the reliability profile runs than the bounded one.
_RELIABILITY_FACTOR = 8

_P = TypeVar("_P", bound=ResourceProvider)


def register_profiles() -> None:
    """Register both profiles and load the one ``NODION_HYPOTHESIS_PROFILE`` names
    (``bounded`` when unset). ``derandomize``: a failure in CI replays on any machine;
    ``deadline=None``: one example talks to an emulator on a loaded machine, and how long it
    takes is not what is under test; no example database, so no run depends on an earlier
    one."""
    common: dict[str, Any] = {
        "derandomize": True,
        "deadline": None,
        "database": None,
        "print_blob": True,
        "suppress_health_check": [HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    }
    settings.register_profile(BOUNDED, **common)
    settings.register_profile(RELIABILITY, **common)
    settings.load_profile(os.environ.get(PROFILE_VARIABLE) or BOUNDED)


def examples(bounded: int) -> int:
    """``bounded`` examples under the bounded profile, many more under the reliability one."""
    if (os.environ.get(PROFILE_VARIABLE) or BOUNDED) == RELIABILITY:
        return bounded * _RELIABILITY_FACTOR
    return bounded


@contextlib.contextmanager
def isolated_process_state() -> Iterator[None]:
    """Run the enclosed code as a fresh provider process would: no cached settings,
    sessions, clients or ownership record from before, and none left behind (the package's
    process-state owner, isolated)."""
    with _runtime.isolated():
        yield


def provider_config(
    emulator: Emulator,
    *,
    timeout: float | None = None,
    verify_credentials: bool | None = None,
) -> dict[str, Any]:
    """The stack configuration of a provider that talks to ``emulator``."""
    raw: dict[str, Any] = {"nodion:apiUrl": emulator.url, "nodion:apiToken": TOKEN}
    if timeout is not None:
        raw["nodion:timeout"] = str(timeout)
    if verify_credentials is not None:
        raw["nodion:verifyCredentials"] = "true" if verify_credentials else "false"
    return raw


def configured(provider: _P, config: Mapping[str, Any]) -> _P:
    """``provider`` after ``configure``, as the engine calls it with the stack's config."""
    provider.configure(ConfigureRequest(Config(dict(config), "proj")))
    return provider


# Any value a program may put in `triggers`: what Pulumi carries as JSON, nested a little.
json_values = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-(2**31), 2**31),
        st.floats(allow_nan=False, allow_infinity=False),
        st.text(max_size=20),
    ),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=6,
)
