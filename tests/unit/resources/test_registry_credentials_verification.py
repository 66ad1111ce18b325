"""``RegistryCredentialsProvider.read`` asks the registry whether the captured password works.

The emulator here also serves its registries; the provider reaches them through the standard
``HTTPS_PROXY`` / ``SSL_CERT_FILE`` environment, as it would reach Nodion's.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pulumi.dynamic import Config, ConfigureRequest

from nodion_pulumi.emulator import Emulator
from nodion_pulumi.registry_credentials import RegistryCredentialsProvider

TOKEN = "test-token"


@pytest.fixture
def emulator(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Emulator]:
    with Emulator(token=TOKEN, data_path=tmp_path / "e.db", serve_registries=True) as served:
        for name, value in served.registry_environment().items():
            monkeypatch.setenv(name, value)
        yield served


@pytest.fixture
def fra(emulator: Emulator) -> str:
    return emulator.nodion_registry_id("fra")


@pytest.fixture
def created(credentials: RegistryCredentialsProvider, fra: str) -> dict[str, Any]:
    outs = credentials.create({"registry_id": fra}).outs
    assert outs is not None
    return dict(outs)


def _logins(emulator: Emulator) -> list[dict[str, Any]]:
    return [r for r in emulator.admin.registry_requests() if r["auth"] == "basic"]


def test_working_credentials_are_kept_after_one_login(
    credentials: RegistryCredentialsProvider,
    created: dict[str, Any],
    fra: str,
    emulator: Emulator,
    capsys: pytest.CaptureFixture[str],
) -> None:
    emulator.admin.clear_registry_requests()
    result = credentials.read(fra, created)
    assert result.id == fra
    assert result.outs == created
    [login] = _logins(emulator)
    assert (login["host"], login["path"], login["status"]) == (
        "registry.fra.nodion.net",
        "/token",
        200,
    )
    assert capsys.readouterr().err == ""


def test_regenerated_credentials_are_dropped_with_a_warning(
    credentials: RegistryCredentialsProvider,
    created: dict[str, Any],
    fra: str,
    emulator: Emulator,
    capsys: pytest.CaptureFixture[str],
) -> None:
    emulator.admin.regenerate_credentials(fra)
    result = credentials.read(fra, created)
    assert result.id == ""
    assert not result.outs
    warning = capsys.readouterr().err
    assert warning.startswith(f"warning: the registry refused the credentials of registry {fra}")
    assert "registry.fra.nodion.net refused user" in warning
    # One line, ending with the two ways on, each as something to type or write.
    assert "\n" not in warning.rstrip("\n")
    assert "the next preview refuses to capture new ones" in warning
    assert "`nodion-pulumi credentials revoke fra`" in warning
    assert "pulumi.StackReference" in warning
    assert created["password"] not in warning


def test_revoked_credentials_are_dropped_without_asking_the_registry(
    credentials: RegistryCredentialsProvider,
    created: dict[str, Any],
    fra: str,
    emulator: Emulator,
    capsys: pytest.CaptureFixture[str],
) -> None:
    emulator.admin.drop_credentials(fra)
    emulator.admin.clear_registry_requests()
    assert credentials.read(fra, created).id == ""
    assert emulator.admin.registry_requests() == []
    assert "were revoked outside this stack" in capsys.readouterr().err


def test_switched_off_no_registry_is_asked(
    created: dict[str, Any], fra: str, emulator: Emulator
) -> None:
    provider = RegistryCredentialsProvider()
    config = {
        "nodion:apiUrl": emulator.url,
        "nodion:apiToken": TOKEN,
        "nodion:verifyCredentials": "false",
    }
    provider.configure(ConfigureRequest(Config(config, "proj")))
    emulator.admin.regenerate_credentials(fra)
    emulator.admin.clear_registry_requests()
    assert provider.read(fra, created).id == fra
    assert emulator.admin.registry_requests() == []


def test_an_unreachable_registry_keeps_them_with_a_warning(
    credentials: RegistryCredentialsProvider,
    created: dict[str, Any],
    fra: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:9")
    assert credentials.read(fra, created).outs == created
    warning = " ".join(capsys.readouterr().err.split())
    assert warning.startswith(
        f"warning: could not verify the credentials of registry {fra} against "
        "registry.fra.nodion.net: no answer from https://registry.fra.nodion.net/v2/ "
        "through the proxy http://127.0.0.1:9 (HTTPS_PROXY)"
    )
    assert "check HTTPS_PROXY and NO_PROXY" in warning
    assert warning.endswith(
        "set nodion:verifyCredentials to false and run `pulumi refresh --run-program` (a "
        "plain refresh uses the configuration of the last `pulumi up`)."
    )


def test_a_403_from_the_realm_keeps_them_with_a_warning(
    credentials: RegistryCredentialsProvider,
    created: dict[str, Any],
    fra: str,
    emulator: Emulator,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # A firewall, a geo-block or a rate limit answers 403 to a working password: dropping
    # the credentials would throw away the only copy of it.
    proxy = emulator._proxy  # the switch is not offered by the admin API
    assert proxy is not None
    proxy.realm.answer_logins_with("registry.fra.nodion.net", 403)

    assert credentials.read(fra, created).outs == created

    warning = " ".join(capsys.readouterr().err.split())
    assert warning.startswith(f"warning: could not verify the credentials of registry {fra}")
    assert "answered HTTP 403 to https://registry.fra.nodion.net/token" in warning
    assert "They stay in the state." in warning
    assert created["password"] not in warning


def test_a_client_that_cannot_be_built_keeps_them_with_a_warning(
    credentials: RegistryCredentialsProvider,
    created: dict[str, Any],
    fra: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Any exception is an unknown verdict, also one raised before the registry is asked.
    monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "missing.pem"))
    assert credentials.read(fra, created).outs == created
    warning = " ".join(capsys.readouterr().err.split())
    assert warning.startswith(f"warning: could not verify the credentials of registry {fra}")
    assert "FileNotFoundError" in warning
    assert "SSL_CERT_FILE" in warning
    assert "They stay in the state." in warning
