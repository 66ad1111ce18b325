"""Scrubbing secrets out of text before it can be printed, logged or raised: the one scrubber
of every error path.

Nodion echoes request input back in some error bodies, a proxy may reflect a request, and
anything that ends up in an exception message reaches Pulumi's console output, CI logs and
bug reports. Every string that leaves the client is therefore passed through :func:`redact`
(our own texts) or :func:`scrub` (excerpts of a response body) with the secrets known at that
moment: the API token, the password of the request being made, a password just minted.

A secret is looked for in every form a body can carry it in, not only as itself: JSON-escaped
(a password with ``"`` or ``\\``, or non-ASCII), URL-encoded (a reflected form or query),
HTML-escaped (a gateway's page), and base64 (a reflected ``Authorization: Basic`` header, a
docker ``auth`` field), whatever ``user:`` precedes it. Callers scrub before they cut: a cut
through a secret leaves a prefix that no longer matches it.
"""

from __future__ import annotations

import base64
import functools
import html
import json
import re
from collections.abc import Iterable
from urllib.parse import quote, quote_plus

__all__ = ["MASK", "SHORT_SECRET", "redact", "scrub"]

MASK = "***"

# Catches a bearer credential even when its exact value is not known to the caller,
# e.g. a proxy's error page that reflects the request headers.
_BEARER = re.compile(r"(?i)\b(bearer)\s+[^\s\"'<>,;]+")

# A secret this short (a demo token such as ``t``) occurs inside ordinary words; replacing
# every occurrence would turn "Connection refused" into "Connec***ion refused". In our own
# texts (:func:`redact`) such a secret is masked where it stands as a token of its own; an
# excerpt of a body that holds it anywhere, in any form, is dropped (:func:`scrub`), since
# ``password%3Dhunter2`` does not show where a short secret begins.
SHORT_SECRET = 8
_WORD_CHAR = r"[A-Za-z0-9_-]"
# Shorter base64 runs of a short secret occur by chance; they carry a few bits at most.
_MIN_BASE64_FORM = 4


@functools.lru_cache(maxsize=64)
def _forms(secret: str) -> tuple[frozenset[str], frozenset[str]]:
    """The textual forms of ``secret`` (itself, JSON-escaped, URL-encoded, HTML-escaped)
    and its base64 runs (see :func:`_base64_runs`)."""
    encoded = quote(secret, safe="")
    text_forms = {
        secret,
        json.dumps(secret)[1:-1],
        json.dumps(secret, ensure_ascii=False)[1:-1],
        encoded,
        re.sub(r"%[0-9A-F]{2}", lambda m: m.group(0).lower(), encoded),
        quote_plus(secret),
        html.escape(secret),
        html.escape(secret, quote=False),
    }
    return frozenset(text_forms), frozenset(_base64_runs(secret.encode()))


def _base64_runs(raw: bytes) -> set[str]:
    """The characters that encode ``raw`` alone wherever it starts inside a longer value
    (``user:password``): base64 encodes groups of three bytes, so a secret starting at each
    of the three offsets has its own run of characters. The groups on either side of a run
    also hold a byte or two of the secret; :func:`redact` masks them with the run."""
    runs = set()
    for offset in range(3):
        text = base64.b64encode(bytes(offset) + raw).decode("ascii")
        first = 4 if offset else 0  # the group holding filler bytes is not the secret's
        last = (offset + len(raw)) // 3 * 4  # a final partial group depends on what follows
        if last - first >= _MIN_BASE64_FORM:
            runs.add(text[first:last])
    return runs


def _base64_pattern(run: str) -> re.Pattern[str]:
    """A base64 run with the groups on either side of it, which hold part of the secret."""
    return re.compile(rf"[A-Za-z0-9+/]{{0,4}}{re.escape(run)}[A-Za-z0-9+/]{{0,4}}=*")


def _all_forms(secrets: Iterable[str | None]) -> tuple[list[str], list[str], list[str]]:
    """The textual forms of the long secrets, their base64 runs, and every form of the short
    ones, each longest first, so that a form containing another is removed whole rather
    than leaving fragments behind."""
    long_forms: set[str] = set()
    long_runs: set[str] = set()
    short_forms: set[str] = set()
    for secret in {s for s in secrets if s}:
        text_forms, base64_runs = _forms(secret)
        if len(secret) >= SHORT_SECRET:
            long_forms |= text_forms
            long_runs |= base64_runs
        else:
            short_forms |= text_forms | base64_runs
    by_length = functools.partial(sorted, key=len, reverse=True)
    return (
        by_length(long_forms),
        by_length(long_runs),
        by_length(short_forms - long_forms - long_runs),
    )


def redact(text: str, secrets: Iterable[str | None] = (), *, cut_at_end: bool = False) -> str:
    """Replace every form of each secret, and any bearer credential, with ``***``.

    Long secrets are replaced wherever they occur; short ones where they stand alone (use
    :func:`scrub` for text that may hold them elsewhere). With ``cut_at_end`` the text may
    have been cut short (a body cut by the network or by a size cap), so a beginning of a
    secret at its very end is replaced too.
    """
    secrets = tuple(secrets)  # read twice below: once for the forms, once for a cut run
    long_forms, long_runs, short_forms = _all_forms(secrets)
    for run in long_runs:
        if run in text:  # the plain search first: the pattern is slow to try everywhere
            text = _base64_pattern(run).sub(MASK, text)
    for form in long_forms:
        text = text.replace(form, MASK)
    for form in short_forms:
        alone = rf"(?<!{_WORD_CHAR}){re.escape(form)}(?!{_WORD_CHAR})"
        text = re.sub(alone, MASK, text)
    if cut_at_end:
        runs = {run for secret in secrets if secret for run in _forms(secret)[1]}
        text = _without_cut_secret(text, [*long_forms, *long_runs, *short_forms], runs)
    return _BEARER.sub(lambda m: f"{m.group(1)} {MASK}", text)


# A cut-off beginning this short is as likely to be ordinary text ("}" or "ng") as a secret.
_MIN_CUT_PREFIX = 3


def _without_cut_secret(text: str, forms: list[str], runs: set[str]) -> str:
    """``text`` with the longest beginning of any form that ends it replaced by ``***``
    (for a base64 run, with the group before it, which holds part of the secret too)."""
    longest, cut_run = 0, False
    for form in forms:
        for size in range(min(len(form) - 1, len(text)), max(longest, _MIN_CUT_PREFIX - 1), -1):
            if text.endswith(form[:size]):
                longest, cut_run = size, form in runs
                break
    if not longest:
        return text
    start = len(text) - longest
    if cut_run:
        group = re.search(r"[A-Za-z0-9+/]{0,4}\Z", text[:start])
        start -= len(group.group(0)) if group else 0
    return text[:start] + MASK


def scrub(text: str, secrets: Iterable[str | None] = (), *, cut_at_end: bool = False) -> str | None:
    """``text`` redacted, or None when it must not be shown at all: a short secret, in any
    form, still occurs in it (inside a word, after an encoded ``=``), where masking it
    cannot be trusted to remove all of it."""
    secrets = tuple(secrets)
    text = redact(text, secrets, cut_at_end=cut_at_end)
    *_, short_forms = _all_forms(secrets)
    if any(form in text for form in short_forms):
        return None
    return text
