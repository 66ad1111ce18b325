"""The emulator's API token, kept in its data file so that a restart requires the same one.

Users store the token the emulator prints (`pulumi config set --secret nodion:apiToken`, CI
variables); a fresh token per start would turn every restart into 401s. A token given
explicitly replaces the kept one, so the next start without one still requires what the user
last chose.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from typing import Literal

from nodion_pulumi.emulator._store import Store

TOKEN_SETTING = "api_token"  # noqa: S105 (the name of a setting, not a secret)

Origin = Literal["given", "kept", "generated"]


@dataclass(frozen=True)
class KeptToken:
    value: str
    origin: Origin
    """`given` (and now kept), `kept` from an earlier start, or `generated` (and now kept)."""


def keep_token(
    data_path: str | os.PathLike[str], project_id: str, given: str | None = None
) -> KeptToken:
    """The token to require with `data_path`: `given` if any, else the kept one, else a new
    random one; whichever it is, kept in the file for the next start. One write transaction,
    so two emulators started at once on a new file agree on one token."""
    if given is not None and not given.strip():
        raise ValueError("token must be non-empty when given")
    store = Store(data_path, project_id)
    try:
        with store.write() as tx:
            stored = tx.setting(TOKEN_SETTING)
            if given is not None:
                if given != stored:
                    tx.set_setting(TOKEN_SETTING, given)
                return KeptToken(given, "given")
            if stored:
                return KeptToken(stored, "kept")
            token = secrets.token_urlsafe(24)
            tx.set_setting(TOKEN_SETTING, token)
            return KeptToken(token, "generated")
    finally:
        store.close()
