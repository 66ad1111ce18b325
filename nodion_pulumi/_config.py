"""Where the client's settings come from, and the checks that make bad ones fail early.

Stack configuration wins over the environment so that one shell can drive stacks that
point at different Nodion projects or at the local emulator. Every problem is reported
as a :class:`ConfigurationError` that names the setting and says what would be valid,
because a provider that fails on its first request with a 401 or a DNS error leaves the
user guessing which of three places the wrong value came from.
"""

from __future__ import annotations

import math
import os
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import urlsplit, urlunsplit

from nodion_pulumi._errors import ConfigurationError
from nodion_pulumi._facts import is_loopback_host

if TYPE_CHECKING:
    from pydantic import SecretStr

__all__ = [
    "CONFIG_API_TOKEN",
    "CONFIG_API_URL",
    "CONFIG_KEYS",
    "CONFIG_PROJECT_ID",
    "CONFIG_TIMEOUT",
    "CONFIG_VERIFY_CREDENTIALS",
    "DEFAULT_API_URL",
    "DEFAULT_TIMEOUT",
    "ENV_API_TOKEN",
    "ENV_API_URL",
    "ENV_PROJECT_ID",
    "ENV_TIMEOUT",
    "ENV_VERIFY_CREDENTIALS",
    "MISSING_TOKEN_MESSAGE",
    "ConfigSource",
    "Settings",
    "resolve_settings",
]

DEFAULT_API_URL = "https://api.nodion.com/v1"
DEFAULT_TIMEOUT = 30.0

CONFIG_API_TOKEN = "nodion:apiToken"  # noqa: S105 (a key name, not a secret)
CONFIG_API_URL = "nodion:apiUrl"
CONFIG_PROJECT_ID = "nodion:projectId"
CONFIG_TIMEOUT = "nodion:timeout"
CONFIG_VERIFY_CREDENTIALS = "nodion:verifyCredentials"
ENV_API_TOKEN = "NODION_API_TOKEN"  # noqa: S105 (a variable name, not a secret)
ENV_API_URL = "NODION_API_URL"
ENV_PROJECT_ID = "NODION_PROJECT_ID"
ENV_TIMEOUT = "NODION_TIMEOUT"
ENV_VERIFY_CREDENTIALS = "NODION_VERIFY_CREDENTIALS"
# Every stack configuration key the package reads.
CONFIG_KEYS = (
    CONFIG_API_TOKEN,
    CONFIG_API_URL,
    CONFIG_PROJECT_ID,
    CONFIG_TIMEOUT,
    CONFIG_VERIFY_CREDENTIALS,
)

# One line, like every message of ours: a line break would be escaped when printed.
MISSING_TOKEN_MESSAGE = (
    "No Nodion API token is configured. Set one for this stack with "
    f"pulumi config set --secret {CONFIG_API_TOKEN} <token> "
    f"or in the environment with export {ENV_API_TOKEN}=<token>"
)


class ConfigSource(Protocol):
    """Anything with ``get(key)``: a plain mapping or Pulumi's dynamic-provider ``Config``."""

    def get(self, key: str, /) -> Any: ...


def _require_string(value: object, source: str) -> str:
    """``value``, if it is a string: settings built directly (not by
    :func:`resolve_settings`) and a program's own configuration may hold anything."""
    if not isinstance(value, str):
        raise ConfigurationError(f"{source} must be a string, got {type(value).__name__}")
    return value


def _validate_api_url(value: str, source: str) -> str:
    _require_string(value, source)
    valid = (
        f"expected an https URL such as {DEFAULT_API_URL} "
        "(plain http is accepted only for loopback hosts: localhost, 127.0.0.0/8 or [::1])"
    )
    try:
        parts = urlsplit(value.strip())
        host = parts.hostname
        _ = parts.port  # raises ValueError on an out-of-range port
    except ValueError:
        raise ConfigurationError(f"{source} is not a valid URL: {valid}") from None
    if parts.username is not None or parts.password is not None:
        # The value is not echoed: it contains a credential.
        raise ConfigurationError(
            f"{source} must not contain a user name or password; set the API token with "
            f"{CONFIG_API_TOKEN} or {ENV_API_TOKEN} instead"
        )
    # Shown as scheme, host and path only: a query or fragment may carry a key
    # ("?api_key=..."), and the point of the message is which URL is wrong, not its secrets.
    bare = urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))
    shown = repr(bare) if len(bare) <= 200 else "the given URL"
    if parts.scheme not in ("https", "http") or not host:
        raise ConfigurationError(f"{source}={shown} is not usable: {valid}")
    if parts.scheme == "http" and not is_loopback_host(host):
        raise ConfigurationError(
            f"{source}={shown} uses plain http for a non-loopback host, which would send "
            f"the API token unencrypted: {valid}"
        )
    if parts.query or parts.fragment or value.strip().endswith(("?", "#")):
        raise ConfigurationError(
            f"{source}={shown} must not have a query string or fragment: {valid}"
        )
    path = parts.path.rstrip("/")
    return urlunsplit((parts.scheme, parts.netloc, path, "", ""))


def _validate_project_id(value: str, source: str) -> str:
    _require_string(value, source)
    try:
        return str(uuid.UUID(value.strip()))
    except ValueError:
        shown = repr(value) if len(value) <= 80 else "the given value"
        raise ConfigurationError(
            f"{source}={shown} is not a project id: expected the UUID of a Nodion project, "
            "e.g. 428d037e-9ba6-4dab-92bd-8d816c523126"
        ) from None


def _validate_token(value: str, source: str) -> str:
    token = value.strip()
    if not token:
        raise ConfigurationError(MISSING_TOKEN_MESSAGE)
    if not token.isascii() or any(ch.isspace() or not ch.isprintable() for ch in token):
        # Usually a pasted "Bearer <token>" or two lines; the value is not echoed.
        raise ConfigurationError(
            f"{source} contains spaces, control or non-ASCII characters: set only the token "
            "itself, without a 'Bearer ' prefix or line breaks"
        )
    return token


def _validate_timeout(value: float, source: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConfigurationError(f"{source} must be a number of seconds")
    if math.isnan(value) or value <= 0 or math.isinf(value):
        raise ConfigurationError(f"{source} must be a positive number of seconds, got {value!r}")
    return float(value)


@dataclass(frozen=True)
class Settings:
    """Everything the client needs to talk to one Nodion project.

    ``api_token`` is a :class:`~pydantic.SecretStr` so that the settings can be printed
    or logged without revealing it. A plain ``str`` is accepted and wrapped.
    ``verify_credentials`` says whether a refresh asks the registry itself whether captured
    credentials still work (see ``nodion_pulumi._verify``).
    """

    api_token: SecretStr
    api_url: str = DEFAULT_API_URL
    project_id: str | None = None
    timeout: float = DEFAULT_TIMEOUT
    verify_credentials: bool = True

    def __post_init__(self) -> None:
        from pydantic import SecretStr  # imported here: pydantic is slow to load

        raw: object = self.api_token
        if isinstance(raw, SecretStr):
            raw = raw.get_secret_value()
        token = _validate_token(_require_string(raw, "api_token"), "api_token")
        object.__setattr__(self, "api_token", SecretStr(token))
        object.__setattr__(self, "api_url", _validate_api_url(self.api_url, "api_url"))
        if self.project_id is not None:
            project_id = _validate_project_id(self.project_id, "project_id")
            object.__setattr__(self, "project_id", project_id)
        object.__setattr__(self, "timeout", _validate_timeout(self.timeout, "timeout"))


def _lookup(
    config: ConfigSource | None,
    environ: Mapping[str, str],
    config_key: str,
    env_key: str,
) -> tuple[str | None, str]:
    """The first non-blank value and the name of where it came from."""
    if config is not None:
        value = config.get(config_key)
        if isinstance(value, bool) and config_key == CONFIG_VERIFY_CREDENTIALS:
            value = str(value).lower()  # a program's own config may hold a real boolean
        if value is not None and _require_string(value, config_key).strip():
            return value, config_key
    value = environ.get(env_key)
    if value is not None and value.strip():
        return value, env_key
    return None, config_key


def resolve_settings(
    config: ConfigSource | Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
) -> Settings:
    """Settings from stack config (``nodion:*`` keys) first, then ``NODION_*`` variables.

    ``config`` is the raw configuration a Pulumi dynamic provider's ``configure()`` gets
    (or ``pulumi.dynamic.Config`` itself); ``environ`` defaults to ``os.environ``. Blank
    values count as unset, so an empty variable in CI does not hide a stack setting.
    """
    from pydantic import SecretStr  # imported here: pydantic is slow to load

    env: Mapping[str, str] = os.environ if environ is None else environ
    token, token_source = _lookup(config, env, CONFIG_API_TOKEN, ENV_API_TOKEN)
    if token is None:
        raise ConfigurationError(MISSING_TOKEN_MESSAGE)
    url, url_source = _lookup(config, env, CONFIG_API_URL, ENV_API_URL)
    project, project_source = _lookup(config, env, CONFIG_PROJECT_ID, ENV_PROJECT_ID)
    timeout, timeout_source = _lookup(config, env, CONFIG_TIMEOUT, ENV_TIMEOUT)
    verify, verify_source = _lookup(config, env, CONFIG_VERIFY_CREDENTIALS, ENV_VERIFY_CREDENTIALS)
    return _checked_settings(
        api_token=SecretStr(_validate_token(token, token_source)),
        api_url=DEFAULT_API_URL if url is None else _validate_api_url(url, url_source),
        project_id=None if project is None else _validate_project_id(project, project_source),
        timeout=DEFAULT_TIMEOUT if timeout is None else _parse_timeout(timeout, timeout_source),
        verify_credentials=True if verify is None else _parse_switch(verify, verify_source),
    )


def _checked_settings(**fields: Any) -> Settings:
    """Settings from values :func:`resolve_settings` validated already, each under the name
    of where it came from: ``Settings.__post_init__`` would validate them a second time."""
    settings = object.__new__(Settings)
    for name, value in fields.items():
        object.__setattr__(settings, name, value)
    return settings


def _parse_switch(value: str, source: str) -> bool:
    """``true`` or ``false``, as Pulumi writes booleans into stack config."""
    normal = value.strip().lower()
    if normal in ("true", "false"):
        return normal == "true"
    shown = repr(value) if len(value) <= 40 else "the given value"
    raise ConfigurationError(f"{source} must be true or false, got {shown}")


def _parse_timeout(value: str, source: str) -> float:
    try:
        seconds = float(value)
    except ValueError:
        raise ConfigurationError(
            f"{source} must be a number of seconds (the time one request may take), "
            f"e.g. 30; got {value!r}"
        ) from None
    return _validate_timeout(seconds, source)
