"""The real CLI runs a Python program with a dynamic provider, and keeps its secret encrypted."""

from __future__ import annotations

import json

import pytest

from nodion_devkit.engine import Engine, assert_no_plaintext
from tests.e2e.smoke_provider import derived_secret

pytestmark = pytest.mark.engine

DYNAMIC_TYPE = "pulumi-python:dynamic:Resource"


@pytest.mark.compat
def test_up_refresh_destroy_with_secret_output_encrypted_on_disk(engine: Engine) -> None:
    stack = engine.stack("smoke", config={"smoke:value": "abc"})
    secret = derived_secret("abc")

    up = stack.up(on_output=lambda _line: None)
    assert up.summary.result == "succeeded"
    assert up.outputs["value"].value == "abc"
    assert up.outputs["token"].secret is True
    assert up.outputs["token"].value == secret  # decrypted by the Automation API, as designed

    [resource] = [r for r in engine.resources("smoke") if r["type"] == DYNAMIC_TYPE]
    assert resource["id"] == "echo-abc"
    stored_token = resource["outputs"]["token"]
    assert isinstance(stored_token, dict)
    assert "ciphertext" in stored_token
    assert_no_plaintext(
        {path.name: path.read_text(errors="replace") for path in engine.state_files()},
        [secret],
    )
    assert_no_plaintext({"up stdout": up.stdout, "up stderr": up.stderr}, [secret])

    refresh = stack.refresh(on_output=lambda _line: None)
    assert refresh.summary.result == "succeeded"
    assert json.dumps(engine.resources("smoke")).count("ciphertext") >= 1

    destroy = stack.destroy(on_output=lambda _line: None)
    assert destroy.summary.result == "succeeded"
    assert [r for r in engine.resources("smoke") if r["type"] == DYNAMIC_TYPE] == []
