"""A registry's name and hostname come from the API, and whoever names a registry must not
control the terminal of whoever runs `pulumi preview`: through the real CLI, a name holding
an ESC sequence, a newline and U+202E shows as escapes."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest
from pulumi import automation as auto

from nodion_devkit.nodion_stack import TOKEN, NodionStack

pytestmark = pytest.mark.engine

# Created straight through the API, which does not validate names like our checks do.
HOSTILE_NAME = "Hub \x1b[31mred\x1b[0m\nerror: forged\u202eevil"
HOSTILE_HOSTNAME = "hub\x1b[2J.example.com"


def test_a_check_failure_naming_a_hostile_registry_prints_it_escaped(
    nodion_stack: Callable[..., NodionStack],
) -> None:
    stack = nodion_stack()
    created = httpx.post(
        f"{stack.emulator.url}/container_registries",
        headers={"Authorization": f"Bearer {TOKEN}"},
        json={"name": HOSTILE_NAME, "registry_type": "custom", "hostname": HOSTILE_HOSTNAME},
    )
    assert created.is_success, created.text
    registry_id = created.json()["container_registry"]["id"]
    stack.set_spec({"credentials": [{"resource": "creds", "registryId": registry_id}]})

    with pytest.raises(auto.CommandError) as failure:
        stack.preview()
    printed = str(failure.value)

    assert "is an external registry" in printed
    assert "Hub \\x1b[31mred\\x1b[0m\\nerror: forged\\u202eevil" in printed
    assert "hub\\x1b[2J.example.com" in printed
    hidden = sorted({ch for ch in printed if ch not in "\n\t" and not ch.isprintable()})
    assert hidden == [], f"raw control or format characters printed: {hidden!r}"
    assert not [line for line in printed.splitlines() if line.lstrip().startswith("error: forged")]
