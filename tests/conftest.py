"""Suite-wide rules.

Every test that drives the real Pulumi CLI (it uses the ``pulumi_bin_dir`` fixture, directly
or through another fixture) must carry the ``engine`` marker, so that ``-m "not engine"`` is
the fast suite and never silently includes a CLI run.
"""

from __future__ import annotations

import pytest


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    unmarked = [
        item.nodeid
        for item in items
        if "pulumi_bin_dir" in getattr(item, "fixturenames", ())
        and item.get_closest_marker("engine") is None
    ]
    if unmarked:
        raise pytest.UsageError(
            "these tests run the Pulumi CLI but lack the 'engine' marker "
            "(add `pytestmark = pytest.mark.engine`): " + ", ".join(unmarked)
        )
