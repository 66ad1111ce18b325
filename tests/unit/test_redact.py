"""Secrets scrubbed from text in every form: long ones wherever they occur, short ones where
they stand alone, and a text that holds a short one anywhere is not shown."""

from __future__ import annotations

import base64
import json
from urllib.parse import quote, quote_plus

import pytest

from nodion_pulumi._redact import MASK, redact, scrub


def test_a_long_secret_is_masked_even_inside_other_text() -> None:
    assert redact("x=abcdefgh123;", ["abcdefgh123"]) == f"x={MASK};"
    assert redact("prefixabcdefgh123suffix", ["abcdefgh123"]) == f"prefix{MASK}suffix"


def test_a_short_secret_leaves_words_that_contain_it_readable() -> None:
    message = "Connection refused: Credentials already exist; token t was sent"
    assert (
        redact(message, ["t"])
        == f"Connection refused: Credentials already exist; token {MASK} was sent"
    )


def test_a_short_secret_is_masked_next_to_punctuation() -> None:
    assert redact('{"token": "pw1"}, pw1.', ["pw1"]) == f'{{"token": "{MASK}"}}, {MASK}.'
    assert redact("user:pw1@host", ["pw1"]) == f"user:{MASK}@host"


def test_bearer_credentials_are_masked_without_knowing_them() -> None:
    assert redact("Authorization: Bearer abc.def") == f"Authorization: Bearer {MASK}"


SECRET = 'p"a\\s/s w+o=r&d-ü'


@pytest.mark.parametrize(
    "form",
    [
        SECRET,
        json.dumps(SECRET)[1:-1],
        json.dumps(SECRET, ensure_ascii=False)[1:-1],
        quote(SECRET, safe=""),
        quote(SECRET, safe="").lower(),
        quote_plus(SECRET),
    ],
)
def test_every_textual_form_of_a_secret_is_masked(form: str) -> None:
    assert redact(f"echo: {form}; done", [SECRET]) == f"echo: {MASK}; done"


@pytest.mark.parametrize("user", ["", "u", "us", "usr", "user"])
def test_the_base64_of_user_and_secret_is_masked_whatever_the_user(user: str) -> None:
    encoded = base64.b64encode(f"{user}:{SECRET}".encode()).decode()
    shown = redact(f"Authorization: Basic {encoded}", [SECRET])
    assert MASK in shown
    # What is left of the encoding is at most the user's part: no byte of the secret.
    left = shown.removeprefix("Authorization: Basic ").replace(MASK, "")
    assert len(left) <= len(base64.b64encode(f"{user}:".encode()).decode().rstrip("="))


def test_a_secret_cut_at_the_end_of_a_text_is_masked() -> None:
    assert redact(f"x {SECRET[:6]}", [SECRET], cut_at_end=True) == f"x {MASK}"
    assert redact(f"x {SECRET[:6]}", [SECRET]) == f"x {SECRET[:6]}"
    assert redact("all ok", [SECRET], cut_at_end=True) == "all ok"


def test_a_cut_base64_run_is_masked_with_its_group_when_the_secrets_are_an_iterator() -> None:
    # The secrets are read twice (forms, then the runs of a cut): an iterator must not run dry.
    encoded = base64.b64encode(f"bob:{SECRET}".encode()).decode()
    text = f"Basic {encoded[:-5]}"
    assert redact(text, iter([SECRET]), cut_at_end=True) == redact(text, [SECRET], cut_at_end=True)
    assert redact(text, iter([SECRET]), cut_at_end=True) == f"Basic {encoded[:4]}{MASK}"


@pytest.mark.parametrize("text", ["password%3Dhunter2", "xhunter2", "aHVudGVyMg==", "pw:hunter2_"])
def test_a_text_holding_a_short_secret_anywhere_is_not_shown(text: str) -> None:
    assert scrub(text, ["hunter2"]) is None
    assert scrub("nothing to hide", ["hunter2"]) == "nothing to hide"
    assert scrub("password hunter2 refused", ["hunter2"]) == f"password {MASK} refused"


def test_an_html_escaped_secret_cut_at_the_end_of_a_page_is_masked() -> None:
    secret = "p&ss<w0rd>more"
    page = "<p>bad: p&amp;ss&lt;w0"
    assert redact(page, [secret], cut_at_end=True) == f"<p>bad: {MASK}"
