"""Settings resolution: precedence, validation, and keeping the token out of sight."""

from __future__ import annotations

import pickle
from typing import Any

import pytest
from pydantic import SecretStr

from nodion_pulumi._config import (
    DEFAULT_API_URL,
    MISSING_TOKEN_MESSAGE,
    Settings,
    resolve_settings,
)
from nodion_pulumi._errors import ConfigurationError

PROJECT = "428d037e-9ba6-4dab-92bd-8d816c523126"


def test_defaults() -> None:
    settings = resolve_settings({"nodion:apiToken": "tok"}, {})
    assert settings.api_token.get_secret_value() == "tok"
    assert settings.api_url == DEFAULT_API_URL == "https://api.nodion.com/v1"
    assert settings.project_id is None
    assert settings.timeout == 30.0
    assert settings.verify_credentials is True


def test_stack_config_wins_over_environment() -> None:
    settings = resolve_settings(
        {
            "nodion:apiToken": "from-stack",
            "nodion:apiUrl": "http://127.0.0.1:8181/v1",
            "nodion:projectId": PROJECT,
        },
        {
            "NODION_API_TOKEN": "from-env",
            "NODION_API_URL": "https://example.com/v1",
            "NODION_PROJECT_ID": "00000000-0000-0000-0000-000000000000",
        },
    )
    assert settings.api_token.get_secret_value() == "from-stack"
    assert settings.api_url == "http://127.0.0.1:8181/v1"
    assert settings.project_id == PROJECT


def test_environment_is_the_fallback() -> None:
    settings = resolve_settings(
        None,
        {
            "NODION_API_TOKEN": "from-env",
            "NODION_API_URL": "https://api.example.test/v1/",
            "NODION_PROJECT_ID": PROJECT.upper(),
        },
    )
    assert settings.api_token.get_secret_value() == "from-env"
    assert settings.api_url == "https://api.example.test/v1"
    assert settings.project_id == PROJECT


def test_blank_values_count_as_unset() -> None:
    settings = resolve_settings(
        {"nodion:apiToken": "  ", "nodion:apiUrl": "", "nodion:projectId": ""},
        {"NODION_API_TOKEN": "env-tok", "NODION_PROJECT_ID": "", "NODION_API_URL": " "},
    )
    assert settings.api_token.get_secret_value() == "env-tok"
    assert settings.api_url == DEFAULT_API_URL
    assert settings.project_id is None


def test_os_environ_is_the_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NODION_API_TOKEN", "os-env-token")
    monkeypatch.delenv("NODION_API_URL", raising=False)
    monkeypatch.delenv("NODION_PROJECT_ID", raising=False)
    assert resolve_settings().api_token.get_secret_value() == "os-env-token"


def test_token_whitespace_is_trimmed() -> None:
    settings = resolve_settings({"nodion:apiToken": "tok\n"}, {})
    assert settings.api_token.get_secret_value() == "tok"


def test_missing_token_gives_the_exact_commands() -> None:
    with pytest.raises(ConfigurationError) as caught:
        resolve_settings({}, {})
    message = str(caught.value)
    assert message == MISSING_TOKEN_MESSAGE
    assert "pulumi config set --secret nodion:apiToken <token>" in message
    assert "export NODION_API_TOKEN=<token>" in message


@pytest.mark.parametrize("token", ["Bearer abc", "abc\ndef", "ab\x00c", "tökén"])
def test_malformed_tokens_are_refused_without_echo(token: str) -> None:
    with pytest.raises(ConfigurationError, match="NODION_API_TOKEN contains") as caught:
        resolve_settings({}, {"NODION_API_TOKEN": token})
    assert token.strip() not in str(caught.value)


def test_non_string_config_value() -> None:
    with pytest.raises(ConfigurationError, match="nodion:apiUrl must be a string"):
        resolve_settings({"nodion:apiToken": "t", "nodion:apiUrl": 8181}, {})


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://api.nodion.com/v1", "https://api.nodion.com/v1"),
        ("https://api.nodion.com/v1///", "https://api.nodion.com/v1"),
        ("https://api.nodion.com", "https://api.nodion.com"),
        ("https://api.nodion.com:8443/v1", "https://api.nodion.com:8443/v1"),
        ("http://127.0.0.1:8181/v1", "http://127.0.0.1:8181/v1"),
        ("http://127.8.9.10/v1", "http://127.8.9.10/v1"),
        ("http://[::1]:8181/v1/", "http://[::1]:8181/v1"),
        ("http://localhost:8181/v1", "http://localhost:8181/v1"),
        ("  https://api.nodion.com/v1  ", "https://api.nodion.com/v1"),
    ],
)
def test_valid_urls(url: str, expected: str) -> None:
    settings = resolve_settings({"nodion:apiToken": "t", "nodion:apiUrl": url}, {})
    assert settings.api_url == expected


@pytest.mark.parametrize(
    ("url", "match"),
    [
        ("http://api.nodion.com/v1", "plain http for a non-loopback host"),
        ("http://10.0.0.1/v1", "plain http for a non-loopback host"),
        ("http://localhost.evil.com/v1", "plain http for a non-loopback host"),
        ("ftp://api.nodion.com/v1", "is not usable"),
        ("api.nodion.com/v1", "is not usable"),
        ("https:///v1", "is not usable"),
        ("https://api.nodion.com/v1?x=1", "query string or fragment"),
        ("https://api.nodion.com/v1#top", "query string or fragment"),
        ("https://api.nodion.com/v1?", "query string or fragment"),
        ("https://api.nodion.com:99999/v1", "not a valid URL"),
    ],
)
def test_invalid_urls_name_the_key_and_what_is_valid(url: str, match: str) -> None:
    with pytest.raises(ConfigurationError, match=match) as caught:
        resolve_settings({"nodion:apiToken": "t"}, {"NODION_API_URL": url})
    message = str(caught.value)
    assert message.startswith("NODION_API_URL")
    assert "https" in message
    # Loopback as DESIGN defines it, which accepts 127.0.0.2 as well as 127.0.0.1.
    assert "localhost, 127.0.0.0/8 or [::1]" in message


def test_url_with_credentials_is_refused_without_echo() -> None:
    with pytest.raises(ConfigurationError, match="must not contain a user name") as caught:
        resolve_settings(
            {"nodion:apiToken": "t", "nodion:apiUrl": "https://me:hunter2@api.nodion.com/v1"}, {}
        )
    assert "hunter2" not in str(caught.value)
    assert str(caught.value).startswith("nodion:apiUrl")


@pytest.mark.parametrize("value", ["abc", "428d037e-9ba6-4dab-92bd", "12345"])
def test_project_id_must_be_a_uuid(value: str) -> None:
    with pytest.raises(ConfigurationError, match=r"nodion:projectId='.*' is not a project id"):
        resolve_settings({"nodion:apiToken": "t", "nodion:projectId": value}, {})


def test_settings_repr_hides_token() -> None:
    settings = resolve_settings({"nodion:apiToken": "super-secret-token"}, {})
    for text in (repr(settings), str(settings), f"{settings}", str(settings.api_token)):
        assert "super-secret-token" not in text
    assert "api_url='https://api.nodion.com/v1'" in repr(settings)


def test_settings_direct_construction_validates_and_wraps() -> None:
    settings = Settings(api_token="tok", api_url="http://127.0.0.1:1/v1/")  # type: ignore[arg-type]
    assert isinstance(settings.api_token, SecretStr)
    assert settings.api_url == "http://127.0.0.1:1/v1"
    assert Settings(api_token=SecretStr("tok"), timeout=5).timeout == 5.0
    with pytest.raises(ConfigurationError, match="api_url"):
        Settings(api_token=SecretStr("tok"), api_url="http://example.com")
    with pytest.raises(ConfigurationError, match="timeout"):
        Settings(api_token=SecretStr("tok"), timeout=0)
    with pytest.raises(ConfigurationError, match="project_id"):
        Settings(api_token=SecretStr("tok"), project_id="nope")
    with pytest.raises(ConfigurationError, match="No Nodion API token"):
        Settings(api_token=SecretStr(""))


@pytest.mark.parametrize(
    ("field", "value"), [("api_url", None), ("api_url", 8181), ("project_id", 5)]
)
def test_settings_of_the_wrong_type_are_a_configuration_error(field: str, value: object) -> None:
    with pytest.raises(ConfigurationError, match=f"{field} must be a string, got"):
        Settings(api_token=SecretStr("tok"), **{field: value})  # type: ignore[arg-type]


def test_settings_are_frozen_hashable_and_picklable() -> None:
    settings = resolve_settings({"nodion:apiToken": "tok", "nodion:projectId": PROJECT}, {})
    with pytest.raises(AttributeError):
        settings.api_url = "x"  # type: ignore[misc]
    assert hash(settings) == hash(
        resolve_settings({"nodion:apiToken": "tok", "nodion:projectId": PROJECT}, {})
    )
    assert pickle.loads(pickle.dumps(settings)) == settings  # noqa: S301


def test_pulumi_dynamic_config_object_is_accepted() -> None:
    from pulumi.dynamic import Config

    config = Config(raw_config={"nodion:apiToken": "from-pulumi"}, project_name="proj")
    settings = resolve_settings(config, {})
    assert settings.api_token.get_secret_value() == "from-pulumi"


def test_plain_mapping_values_of_other_projects_are_ignored() -> None:
    raw: dict[str, Any] = {"apiToken": "wrong-namespace", "proj:apiToken": "also-wrong"}
    with pytest.raises(ConfigurationError):
        resolve_settings(raw, {})


def test_timeout_from_stack_config_then_environment() -> None:
    base = {"nodion:apiToken": "t"}
    assert resolve_settings(base, {}).timeout == 30.0
    assert resolve_settings({**base, "nodion:timeout": "2.5"}, {}).timeout == 2.5
    assert resolve_settings(base, {"NODION_TIMEOUT": "7"}).timeout == 7.0


@pytest.mark.parametrize("value", ["soon", "0", "-1", "nan", "inf"])
def test_bad_timeout_names_the_key_and_what_is_valid(value: str) -> None:
    with pytest.raises(ConfigurationError, match=r"nodion:timeout must be a .*number of seconds"):
        resolve_settings({"nodion:apiToken": "t", "nodion:timeout": value}, {})


@pytest.mark.parametrize(
    ("config", "environ", "expected"),
    [
        ({"nodion:verifyCredentials": "false"}, {}, False),
        ({"nodion:verifyCredentials": " TRUE "}, {"NODION_VERIFY_CREDENTIALS": "false"}, True),
        ({"nodion:verifyCredentials": False}, {}, False),
        ({}, {"NODION_VERIFY_CREDENTIALS": "False"}, False),
        ({"nodion:verifyCredentials": ""}, {"NODION_VERIFY_CREDENTIALS": "false"}, False),
    ],
)
def test_verify_credentials_from_stack_config_then_environment(
    config: dict[str, Any], environ: dict[str, str], expected: bool
) -> None:
    settings = resolve_settings({"nodion:apiToken": "tok", **config}, environ)
    assert settings.verify_credentials is expected


@pytest.mark.parametrize("value", ["no", "0", "off", "yes please"])
def test_bad_verify_credentials_names_the_key_and_what_is_valid(value: str) -> None:
    with pytest.raises(ConfigurationError) as caught:
        resolve_settings({"nodion:apiToken": "tok"}, {"NODION_VERIFY_CREDENTIALS": value})
    assert str(caught.value) == f"NODION_VERIFY_CREDENTIALS must be true or false, got {value!r}"


def test_resolved_settings_are_validated_once_and_equal_direct_ones(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from nodion_pulumi import _config

    calls: list[str] = []
    validate = _config._validate_api_url

    def counting(value: str, source: str) -> str:
        calls.append(source)
        return validate(value, source)

    monkeypatch.setattr(_config, "_validate_api_url", counting)
    config = {"nodion:apiToken": "tok", "nodion:apiUrl": "http://127.0.0.1:8181/v1/"}
    resolved = resolve_settings(config, {})
    assert calls == ["nodion:apiUrl"]
    direct = Settings(api_token=SecretStr("tok"), api_url="http://127.0.0.1:8181/v1")
    assert resolved == direct
    assert hash(resolved) == hash(direct)
    assert pickle.loads(pickle.dumps(resolved)) == direct  # noqa: S301 - our own bytes


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("https://api.nodion.com/v1?api_key=k3y-s3cr3t-value", "'https://api.nodion.com/v1'"),
        ("https://api.nodion.com/v1#api_key=k3y-s3cr3t-value", "'https://api.nodion.com/v1'"),
        ("http://api.nodion.com/v1?api_key=k3y-s3cr3t-value", "'http://api.nodion.com/v1'"),
        ("ftp://api.nodion.com/v1?api_key=k3y-s3cr3t-value", "'ftp://api.nodion.com/v1'"),
    ],
)
def test_a_bad_api_url_is_shown_without_its_query_or_fragment(url: str, shown: str) -> None:
    with pytest.raises(ConfigurationError) as caught:
        resolve_settings({"nodion:apiToken": "t", "nodion:apiUrl": url}, {})
    message = str(caught.value)
    assert message.startswith(f"nodion:apiUrl={shown} ")
    assert "k3y-s3cr3t" not in message
    assert "api_key" not in message
