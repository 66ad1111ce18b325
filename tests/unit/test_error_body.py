"""Reading error bodies: Nodion's JSON shapes, proxies' HTML pages, and hostile bodies
(huge, deeply nested, unclosed tags) reduced to short secret-free lines."""

from __future__ import annotations

import json

import pytest

from nodion_pulumi._error_body import MAX_BODY_CHARS, extract_messages


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b'{"errors": ["a", "b"]}', ("a", "b")),
        (b'{"errors": "just one"}', ("just one",)),
        (
            b'{"errors": {"name": ["can\'t be blank"], "hostname": "is invalid"}}',
            ("name can't be blank", "hostname is invalid"),
        ),
        (b'{"status": 404, "error": "Not Found"}', ("Not Found",)),
        (b'{"error": "Registry not found"}', ("Registry not found",)),
        (b'{"error": {"message": "nested"}}', ("nested",)),
        (b'{"message": "Something broke"}', ("Something broke",)),
        (b'["top", "level"]', ("top", "level")),
        (b'"a bare string"', ("a bare string",)),
        (b'{"errors": [{"field": "name"}]}', ('{"field": "name"}',)),
        (b"{}", ()),
        (b'{"status": 500}', ()),
        (b"", ()),
        (b"   \n", ()),
        (b"null", ()),
        (b"plain text failure", ("plain text failure",)),
    ],
)
def test_extract_messages_shapes(body: bytes, expected: tuple[str, ...]) -> None:
    assert extract_messages(body) == expected


def test_html_body_becomes_short_visible_text() -> None:
    page = (
        b"<!DOCTYPE html><html><head><title>502</title><style>body{color:red}</style>"
        b"<script>var secret = 1;</script></head><body>\n<h1>502   Bad\n Gateway</h1>"
        b"<!-- upstream a.b.c --><p>nginx &amp; friends</p></body></html>"
    )
    (message,) = extract_messages(page)
    assert message == "502 Bad Gateway nginx & friends"


def test_unclosed_invisible_blocks_hide_the_rest() -> None:
    assert extract_messages(b"<p>visible</p><script>if (a < b) {") == ("visible",)
    assert extract_messages(b"<b>shown</b><!-- never closed <p>hidden</p>") == ("shown",)
    assert extract_messages(b"<p>a < b</p>") == ("a < b",)


@pytest.mark.parametrize(
    ("unit", "shown"),
    [
        (b"<script", None),  # an unclosed script: its content is never a message
        (b"<", "<<<<"),
        (b"<!--", None),  # an unclosed comment
        (b"<style>", None),
        (b"<a href='x'", "<a href='x'<a href='x'"),
        (b"</script", "</script</script"),
    ],
)
def test_pathological_html_gives_at_most_one_capped_line(unit: bytes, shown: str | None) -> None:
    """Inputs that make a backtracking parser crawl: what they give, not how fast (the
    speed of the parser is a benchmark's business, not a test's)."""
    messages = extract_messages(b"<html>" + unit * (300_000 // len(unit)))
    if shown is None:
        assert messages == ()
    else:
        (message,) = messages
        assert message.startswith(shown)
        assert len(message) <= 200


def test_deeply_nested_json_is_treated_as_text() -> None:
    (message,) = extract_messages(b"[" * 100_000)
    assert message.startswith("[[[")


def test_long_bodies_are_capped() -> None:
    (message,) = extract_messages(b"x" * 10_000)
    assert len(message) <= 200
    assert message.endswith("…")
    huge = b"<html><body>" + b"word " * 2_000_000 + b"</body></html>"
    (message,) = extract_messages(huge)
    assert len(message) <= 200


def test_many_messages_are_summarised() -> None:
    body = json.dumps({"errors": [f"m{i}" for i in range(25)]}).encode()
    messages = extract_messages(body)
    assert len(messages) == 11
    assert messages[-1] == "and 15 more"


def test_control_characters_are_removed() -> None:
    (message,) = extract_messages(b'{"errors": ["bad\\u001b[31m red\\r\\nline"]}')
    assert "\x1b" not in message
    assert "\r" not in message
    assert message == "bad [31m red line"


def test_invalid_utf8_does_not_crash() -> None:
    (message,) = extract_messages(b"\xff\xfe broken \xc3")
    assert "broken" in message


def test_secret_in_html_entity_is_redacted() -> None:
    body = b"<p>password was p&amp;ss&lt;word</p>"
    (message,) = extract_messages(body, ["p&ss<word"])
    assert message == "password was ***"


def test_a_nested_value_keeps_a_password_with_quotes_recognisable() -> None:
    password = 'pa"ss\\word-123'
    body = json.dumps({"errors": [{"field": "password", "given": password}]}).encode()
    (message,) = extract_messages(body, [password])
    assert message == '{"field": "password", "given": "***"}'


def test_an_error_body_nested_far_deeper_than_shown_is_read() -> None:
    body = b'{"errors": [' + b"[" * 951 + b"1" + b"]" * 951 + b"]}"
    assert extract_messages(body) == ("[[[[…]]]]",)


def test_the_body_is_scrubbed_before_it_is_cut() -> None:
    secret = "s3cr3t-value-that-straddles"
    body = b" " * (MAX_BODY_CHARS - 12) + secret.encode()
    (message,) = extract_messages(body, [secret])
    assert message == "***"
