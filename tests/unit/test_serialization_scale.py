"""A program may declare thousands of our resources: each costs the same to register.

``pulumi.dynamic.Resource.__init__`` serializes its provider with the SDK's
``serialize_provider``, which wraps pickle's pure-Python dictionary writer once more on every
call and never unwraps it (docs/limits.md). A provider that pickled a dictionary (0.1.0's
``__getstate__`` returned ``{}``) walked every wrapper so far: quadratic time, and a
``RecursionError`` at about 985 resources. Ours pickle as ``nodion_pulumi.state.provider(kind)``
and write no dictionary, so the n-th serialization costs what the first did, whether or not
the installed SDK has the fix that restores the writer (in its source from v3.276.0).
"""

from __future__ import annotations

import pickle
import time
from collections.abc import Iterator

import pytest
from pulumi.dynamic.dynamic import serialize_provider

from nodion_pulumi.container_registry import ContainerRegistryProvider
from nodion_pulumi.registry_credentials import RegistryCredentialsProvider

TOTAL = 20_000
BATCH = 1_000
# Batches compared at each end: the fastest of them, so that a busy spell of a shared
# machine in one batch does not decide the verdict.
ENDS = 3
# A late batch may cost this many times an early one. Linear cost gives about 1x; the
# quadratic cost of a provider that pickles a dictionary gives far more (and a
# RecursionError long before the first late batch).
FACTOR = 3.0
_PATCHED = ("_batch_setitems", "save_dict")


@pytest.fixture
def sdk_patches_undone() -> Iterator[None]:
    """Put pickle back as it was: the SDK's wrappers would otherwise stay for the rest of
    the test process, 20,000 deep, and break any later pure-Python pickling of a dict."""
    saved = {name: pickle._Pickler.__dict__[name] for name in _PATCHED}  # type: ignore[attr-defined]
    pickler = pickle.Pickler
    try:
        yield
    finally:
        for name, value in saved.items():
            setattr(pickle._Pickler, name, value)  # type: ignore[attr-defined]
        pickle.Pickler = pickler  # type: ignore[misc]


@pytest.mark.usefixtures("sdk_patches_undone")
def test_twenty_thousand_serializations_cost_the_same_late_as_early() -> None:
    providers = (ContainerRegistryProvider(), RegistryCredentialsProvider())
    seconds: list[float] = []
    blobs: set[str] = set()
    for _ in range(TOTAL // BATCH):
        started = time.perf_counter()
        for index in range(BATCH):
            blobs.add(serialize_provider(providers[index % 2]))
        seconds.append(time.perf_counter() - started)

    # Deterministic: one blob per provider, however long the chain behind it.
    assert len(blobs) == len(providers)
    early, late = min(seconds[:ENDS]), min(seconds[-ENDS:])
    assert late <= FACTOR * early, (
        f"serializations {TOTAL - ENDS * BATCH}-{TOTAL} took {late / BATCH * 1e6:.0f} us each, "
        f"the first {ENDS * BATCH} {early / BATCH * 1e6:.0f} us: the cost grows with the "
        "number of resources declared before"
    )
