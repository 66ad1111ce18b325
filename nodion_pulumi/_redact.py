"""Scrubbing secrets out of text before it can be printed, logged or raised.

Nodion echoes request input back in some error bodies, and anything that ends up in an
exception message reaches Pulumi's console output, CI logs and bug reports. Every string
that leaves the client is therefore passed through :func:`redact` with the secrets known
at that moment (the API token and the password of the request being made).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

__all__ = ["MASK", "redact"]

MASK = "***"

# Catches a bearer credential even when its exact value is not known to the caller,
# e.g. a proxy's error page that reflects the request headers.
_BEARER = re.compile(r"(?i)\b(bearer)\s+[^\s\"'<>,;]+")


# A secret this short (a demo token such as ``t``) occurs inside ordinary words; replacing
# every occurrence would turn "Connection refused" into "Connec***ion refused" and hide the
# message. Such a secret is masked where it stands as a token of its own, which is how a
# credential appears when it is echoed.
SHORT_SECRET = 8
_WORD_CHAR = r"[A-Za-z0-9_-]"


def redact(text: str, secrets: Iterable[str | None] = ()) -> str:
    """Replace every occurrence of each secret, and any bearer credential, with ``***``.

    Longer secrets are replaced first so that a secret containing another one is
    removed whole rather than leaving fragments behind.
    """
    values = sorted({s for s in secrets if s}, key=len, reverse=True)
    for value in values:
        if len(value) >= SHORT_SECRET:
            text = text.replace(value, MASK)
        else:
            alone = rf"(?<!{_WORD_CHAR}){re.escape(value)}(?!{_WORD_CHAR})"
            text = re.sub(alone, MASK, text)
    return _BEARER.sub(lambda m: f"{m.group(1)} {MASK}", text)
