"""A mint whose answer was lost, followed by a lookup that fails, must say what it left.

Found by the stateful machine: the credentials POST's answer was dropped, then the GET that
should find out whether Nodion minted answered 500. The provider raised a bare ServerError:
nothing said that credentials nobody holds may now sit on the registry, and the next `up`
blamed another owner.
"""

from __future__ import annotations

import pytest

from nodion_pulumi._errors import NodionError
from nodion_pulumi._ownership import REVOKE_COMMAND
from nodion_pulumi.emulator import Emulator
from nodion_pulumi.registry_credentials import RegistryCredentialsProvider


def test_a_lost_mint_whose_lookup_fails_names_what_was_left_and_the_way_out(
    credentials: RegistryCredentialsProvider, emulator: Emulator, fra: str
) -> None:
    checked = credentials.check({}, {"registry_id": fra})
    assert checked.failures == []
    emulator.admin.add_fault("drop_after", method="POST", path="/credentials$", times=1)
    # Every way of looking the registry up (its GET, the list) fails from now on.
    emulator.admin.add_fault(
        "status", method="GET", path=r"^/v1/container_registries(/[^/]+)?$", status=500, times=None
    )

    with pytest.raises(NodionError) as raised:
        credentials.create(checked.inputs)

    message = str(raised.value)
    assert fra in message, message
    assert "credentials" in message, message
    assert REVOKE_COMMAND in message, message
