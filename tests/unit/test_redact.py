"""Secrets scrubbed from text: long ones wherever they occur, short ones where they stand alone."""

from __future__ import annotations

from nodion_pulumi._redact import MASK, redact


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
