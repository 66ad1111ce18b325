"""Response models: the spec's examples, tolerance for API growth, and secrecy."""

from __future__ import annotations

import base64
import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from nodion_pulumi._errors import InvalidRegistryIdError
from nodion_pulumi._facts import REGISTRY_ID_RULE
from nodion_pulumi._models import (
    Credentials,
    Registry,
    ResponseShapeError,
    parse_credentials,
    parse_registry,
    parse_registry_list,
    validate_registry_id,
)

SPEC_DIR = Path(__file__).resolve().parents[1] / "fixtures" / "spec"


def _spec(name: str) -> Any:
    return json.loads((SPEC_DIR / name).read_text(encoding="utf-8"))


def _registry(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": "b2c3d4e5-f6a7-8901-bcde-f12345678901",
        "status": "available",
        "registry_type": "docker_hub",
        "name": "My Docker Hub",
        "hostname": "docker.io",
        "has_credentials": True,
        "region_id": None,
        "created_at": "2025-02-01T14:30:00.000+01:00",
        "updated_at": "2025-02-01T14:30:00.000+01:00",
    }
    data.update(overrides)
    return data


def test_spec_list_example_parses() -> None:
    registries = parse_registry_list(_spec("list_registries.json"))
    assert [r.registry_type for r in registries] == ["nodion", "docker_hub"]
    nodion, hub = registries
    assert nodion.id == "a1b2c3d4-e5f6-7890-abcd-ef1234567890"
    assert nodion.is_nodion
    assert nodion.region_slug == "fra"
    assert nodion.region_id == "428d037e-9ba6-4dab-92bd-8d816c523126"
    assert nodion.has_credentials is False
    assert not hub.is_nodion
    assert hub.region_slug is None
    assert hub.region_id is None
    assert hub.created_at.utcoffset() == timedelta(hours=1)
    assert hub.created_at.isoformat() == "2025-02-01T14:30:00+01:00"


def test_spec_get_example_parses() -> None:
    registry = parse_registry(_spec("get_registry.json"))
    assert registry.name == "My Docker Hub"
    assert registry.hostname == "docker.io"
    assert registry.has_credentials is True


def test_spec_credentials_example_parses() -> None:
    credentials = parse_credentials(_spec("create_credentials.json"))
    assert credentials.id == "a1b2c3d4-e5f6-7890-abcd-ef1234567890"
    assert credentials.hostname == "registry.fra.nodion.net"
    assert credentials.username == "robot$project-a1b2c3d4"
    assert credentials.password.get_secret_value() == "secret-token-value"


def test_credentials_never_show_password() -> None:
    credentials = parse_credentials(_spec("create_credentials.json"))
    for text in (repr(credentials), str(credentials), f"{credentials}", str(credentials.password)):
        assert "secret-token-value" not in text
    dumped = credentials.model_dump_json()
    assert "secret-token-value" not in dumped


def test_docker_config() -> None:
    credentials = parse_credentials(_spec("create_credentials.json"))
    config = credentials.docker_config()
    entry = config["auths"]["registry.fra.nodion.net"]
    assert entry["username"] == "robot$project-a1b2c3d4"
    assert entry["password"] == "secret-token-value"
    assert base64.b64decode(entry["auth"]).decode() == "robot$project-a1b2c3d4:secret-token-value"
    assert list(config) == ["auths"]
    assert json.loads(credentials.docker_config_json()) == config


def test_unknown_fields_and_registry_types_are_tolerated() -> None:
    registry = Registry.model_validate(
        _registry(registry_type="quay", labels={"a": 1}, new_field=[1, 2])
    )
    assert registry.registry_type == "quay"
    assert not registry.is_nodion
    assert not hasattr(registry, "new_field")


def test_registry_is_frozen() -> None:
    registry = Registry.model_validate(_registry())
    with pytest.raises(ValueError, match="frozen"):
        registry.name = "other"


def test_naive_timestamps_are_rejected() -> None:
    with pytest.raises(ResponseShapeError, match="created_at"):
        parse_registry({"container_registry": _registry(created_at="2025-02-01T14:30:00")})


def test_region_slug_comes_from_the_hostname() -> None:
    assert Registry.model_validate(_registry(hostname="registry.nbg.nodion.net")).region_slug == (
        "nbg"
    )
    assert Registry.model_validate(_registry(hostname="ghcr.io")).region_slug is None


def test_a_blank_name_knows_no_registry() -> None:
    # A registry without a region id or a Nodion hostname has "" for both: a blank argument
    # (``credentials revoke " "``) must not pick it.
    registry = Registry.model_validate(_registry(hostname="ghcr.io", region_id=None))
    assert not registry.known_as("")
    assert not registry.known_as("  ")
    assert registry.known_as("GHCR.io")


def test_list_tolerates_extra_metadata_and_empty_list() -> None:
    payload = {"container_registries": [_registry()], "meta": {"total": 1}, "links": {}}
    assert len(parse_registry_list(payload)) == 1
    assert parse_registry_list({"container_registries": []}) == []


@pytest.mark.parametrize(
    ("payload", "match"),
    [
        ({"registry": {}}, "missing 'container_registry'"),
        ([], "expected a JSON object"),
        (None, "expected a JSON object"),
        ({"container_registry": None}, "container_registry"),
        ({"container_registry": {"id": "x"}}, r"container_registry\.status: Field required"),
    ],
)
def test_parse_registry_shape_errors(payload: Any, match: str) -> None:
    with pytest.raises(ResponseShapeError, match=match):
        parse_registry(payload)


def test_parse_list_shape_errors() -> None:
    with pytest.raises(ResponseShapeError, match="missing 'container_registries'"):
        parse_registry_list({"container_registry": _registry()})
    with pytest.raises(ResponseShapeError, match="to be an array"):
        parse_registry_list({"container_registries": {"a": 1}})
    with pytest.raises(ResponseShapeError, match=r"container_registries\.1\.has_credentials"):
        parse_registry_list(
            {"container_registries": [_registry(), _registry(has_credentials="maybe")]}
        )


def test_shape_errors_do_not_echo_values() -> None:
    payload = {
        "container_registry": {
            "id": "a",
            "hostname": "h",
            "username": ["robot"],
            "password": {"oops": "leaked-secret"},
        }
    }
    with pytest.raises(ResponseShapeError) as caught:
        parse_credentials(payload)
    assert "leaked-secret" not in str(caught.value)
    assert "container_registry.password" in str(caught.value)


def test_credentials_model_direct() -> None:
    credentials = Credentials(id="x", hostname="h", username="u", password="p")  # type: ignore[arg-type]
    assert credentials.docker_config()["auths"]["h"]["auth"] == base64.b64encode(b"u:p").decode()


def test_valid_registry_ids_are_returned() -> None:
    assert validate_registry_id("a1b2c3d4-e5f6-7890-abcd-ef1234567890") == (
        "a1b2c3d4-e5f6-7890-abcd-ef1234567890"
    )


@pytest.mark.parametrize("value", ["a/b", "..", 5, None])
def test_invalid_registry_ids_say_what_is_valid(value: Any) -> None:
    with pytest.raises(InvalidRegistryIdError, match="invalid registry id") as raised:
        validate_registry_id(value)
    assert isinstance(raised.value, ValueError)
    assert REGISTRY_ID_RULE in str(raised.value)


def test_a_long_invalid_id_is_not_echoed() -> None:
    with pytest.raises(InvalidRegistryIdError, match="the given value"):
        validate_registry_id("/" * 200)
