"""Text from the API is printed with control and format characters shown as escapes."""

from __future__ import annotations

import pytest

from nodion_pulumi._errors import NotFoundError, UnexpectedResponseError
from nodion_pulumi._printable import printable


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("red\x1b[31mtext", "red\\x1b[31mtext"),  # ESC: a terminal control sequence
        ("line\nerror: forged", "line\\nerror: forged"),  # a forged line of output
        ("a\rb\tc\x00d\x08", "a\\rb\\tc\\x00d\\x08"),
        ("del\x7f", "del\\x7f"),
        ("c1\x9b31m", "c1\\x9b31m"),  # the one-byte CSI of C1
        ("evil\u202egnp.exe", "evil\\u202egnp.exe"),  # bidi override
        ("zero\u200bwidth\u2066", "zero\\u200bwidth\\u2066"),  # zero-width space, isolate
        ("soft\u00adhyphen", "soft\\xadhyphen"),
        ("tag\U000e0041", "tag\\U000e0041"),  # a tag character, also category Cf
        ("para\u2029graph\u2028", "para\\u2029graph\\u2028"),
        ("lone\ud800", "lone\\ud800"),  # a surrogate that cannot be encoded
    ],
)
def test_control_and_format_characters_are_shown_as_escapes(text: str, shown: str) -> None:
    assert printable(text) == shown
    assert printable(text).isprintable()


@pytest.mark.parametrize(
    "text",
    [
        "create container registry failed: HTTP 400: Name can't be blank",
        "registry.nodion.com/mirror",
        "Zürich \u2013 東京 \u2013 Ελλάδα",
        "non\u00a0breaking space and emoji \U0001f433",
        "",
    ],
)
def test_ordinary_text_of_any_script_is_kept(text: str) -> None:
    assert printable(text) == text


def test_every_error_message_is_printable() -> None:
    error = NotFoundError(
        operation="get container registry",
        method="GET",
        path="/v1/container_registries/r1",
        status_code=404,
        messages=["Registry \x1b]0;owned\x07 \u202egone\nerror: forged"],
    )
    assert str(error) == (
        "get container registry failed: HTTP 404 from GET /v1/container_registries/r1: "
        "Registry \\x1b]0;owned\\x07 \\u202egone\\nerror: forged"
    )


def test_advice_is_part_of_the_printable_message() -> None:
    error = UnexpectedResponseError(
        operation="list container registries",
        method="GET",
        path="/v1/container_registries",
        status_code=200,
    )
    error.advice = "Check\x1b[2J nodion:apiUrl"
    assert str(error).endswith(". Check\\x1b[2J nodion:apiUrl")
