"""A lookup's result exports as it is, through the real CLI, as generated SDKs' results do."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest

from nodion_devkit.nodion_stack import NodionStack

pytestmark = pytest.mark.engine

ISO_8601 = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}[+-]\d\d:\d\d")
FIELDS = {"id", "status", "registry_type", "name", "hostname", "has_credentials", "created_at"}


def test_lookup_results_export_as_objects_with_iso_timestamps(
    nodion_stack: Callable[..., NodionStack],
) -> None:
    stack = nodion_stack("lookups")
    preview = stack.preview()
    assert "Traceback" not in preview.stdout + preview.stderr

    up = stack.up()
    printed = up.stdout + up.stderr
    assert up.summary.result == "succeeded"
    assert "Traceback" not in printed
    assert "unexpected input" not in printed

    fra, nbg, every = (up.outputs[key].value for key in ("fra", "nbg", "all"))
    for exported, slug in ((fra, "fra"), (nbg, "nbg")):
        assert isinstance(exported, dict)
        assert set(exported) >= FIELDS
        assert exported["id"] == stack.emulator.nodion_registry_id(slug)
        assert exported["hostname"] == f"registry.{slug}.nodion.net"
        assert exported["registry_type"] == "nodion"
        assert ISO_8601.fullmatch(exported["created_at"])
        assert ISO_8601.fullmatch(exported["updated_at"])
    assert fra in every
    assert up.outputs["fra_hostname"].value == "registry.fra.nodion.net"
    # The CLI shows the export as an object, its fields by name.
    assert re.search(r"fra\s*:\s*\{", printed)
    assert re.search(r'hostname\s*:\s*"registry\.fra\.nodion\.net"', printed)
