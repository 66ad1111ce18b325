"""Secrets stay secret even in `pulumi up --debug` output and when an operation fails."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from pulumi import automation as auto

from nodion_devkit.nodion_stack import NodionStack

pytestmark = pytest.mark.engine


@pytest.mark.compat
def test_debug_output_and_failures_never_show_a_secret(
    nodion_stack: Callable[..., NodionStack],
) -> None:
    stack = nodion_stack()
    registry = {"resource": "hub", "name": "Hub", "type": "ghcr", "username": "u", "password": True}
    stack.set_spec(
        {"registries": [registry], "credentials": [{"resource": "ams", "region": "ams"}]},
        passwords={"hub": "debug-pass-4f0b9d27"},
    )
    up = stack.up(debug=True)
    assert up.outputs["ams.password"].secret
    assert any("debug" in line.lower() for line in stack.transcript), "debug output was captured"

    # A failing update (Nodion rejects the PATCH) while a new password is in flight.
    stack.emulator.admin.add_fault(method="PATCH", kind="status", status=500, times=None)
    stack.set_spec(
        {"registries": [registry], "credentials": [{"resource": "ams", "region": "ams"}]},
        passwords={"hub": "next-pass-a83c51e6"},
    )
    with pytest.raises(auto.CommandError) as failure:
        stack.up(debug=True)
    assert "update container registry failed: HTTP 500" in str(failure.value)
    stack.emulator.admin.clear_faults()
    stack.refresh(debug=True)
    stack.destroy(debug=True)
    # The fixture's teardown scans the state files and every line the CLI printed.
