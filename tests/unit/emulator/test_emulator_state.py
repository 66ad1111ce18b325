"""`export_state` / `restore_state`: a committed Pulumi checkpoint needs the exact Nodion side
it was written against, down to random ids, timestamps and already-minted credentials."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from nodion_pulumi.emulator import Emulator

Create = Callable[..., dict[str, Any]]
ClientFactory = Callable[[Emulator], httpx.Client]

OTHER_PROJECT = "0b6f3c2e-1d4a-4f5b-8c7d-9e0a1b2c3d4e"


def test_a_restored_emulator_answers_exactly_like_the_exported_one(
    tmp_path: Path, client_for: ClientFactory, create_registry: Create
) -> None:
    with Emulator(token="test-token", data_path=tmp_path / "a.db") as source:
        api = client_for(source)
        kept = create_registry(
            api, name="kept", registry_type="custom", hostname="r.example.test", username="u"
        )
        create_registry(api, name="second", password="fake-test-password")
        fra = source.nodion_registry_id("fra")
        assert api.post(f"/container_registries/{fra}/credentials").status_code == 201
        before = source.admin.registries()
        # The export is plain JSON: it is meant to be committed next to a checkpoint.
        state = json.loads(json.dumps(source.export_state()))

    assert "fake-test-password" not in json.dumps(state)
    with Emulator(token="test-token", data_path=tmp_path / "b.db") as restored:
        api = client_for(restored)
        create_registry(api, name="replaced by the restore")
        restored.restore_state(state)
        assert restored.admin.registries() == before
        assert restored.export_state() == state
        # Credentials minted before the export still count as minted.
        again = api.post(f"/container_registries/{fra}/credentials")
        assert again.json() == {"errors": ["Credentials already exist"]}
        # The stored password digest still matches: re-sending it changes nothing.
        second = before[-1]
        unchanged = api.patch(
            f"/container_registries/{second['id']}", json={"password": "fake-test-password"}
        )
        assert unchanged.json()["container_registry"]["updated_at"] == second["updated_at"]
        assert api.delete(f"/container_registries/{kept['id']}").status_code == 200


def test_regions_missing_from_the_state_are_seeded(tmp_path: Path) -> None:
    with Emulator(regions=["fra"], data_path=tmp_path / "a.db") as source:
        state = source.export_state()
    with Emulator(regions=["fra", "nbg"], data_path=tmp_path / "b.db") as restored:
        restored.restore_state(state)
        ids = [r["id"] for r in restored.admin.registries()]
        assert ids == [restored.nodion_registry_id("fra"), restored.nodion_registry_id("nbg")]


def test_a_state_of_another_project_is_refused_with_the_way_to_restore_it(
    tmp_path: Path,
) -> None:
    with Emulator(project_id=OTHER_PROJECT) as source:
        state = source.export_state()
    refused = pytest.raises(ValueError, match=f"project_id='{OTHER_PROJECT}'")
    with Emulator() as restored, refused:
        restored.restore_state(state)
    with Emulator(project_id=OTHER_PROJECT) as restored:
        restored.restore_state(state)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"format": 2}, "unsupported emulator state format 2"),
        ({"registries": [{"id": "x"}]}, "'name' must be a string"),
        ({"registries": [{"id": "x", "colour": "red"}]}, "unknown field 'colour'"),
        ({"registries": ["x"]}, "must be an object"),
    ],
)
def test_a_malformed_state_is_refused_and_nothing_is_replaced(
    change: dict[str, Any], message: str
) -> None:
    with Emulator() as emulator:
        before = emulator.admin.registries()
        state = {**emulator.export_state(), **change}
        with pytest.raises(ValueError, match=message):
            emulator.restore_state(state)
        assert emulator.admin.registries() == before


def test_export_and_restore_need_a_running_emulator() -> None:
    emulator = Emulator()
    with pytest.raises(RuntimeError, match="start"):
        emulator.export_state()
    state = {"format": 1, "project_id": emulator.project_id, "registries": []}
    with pytest.raises(RuntimeError, match="start"):
        emulator.restore_state(state)
