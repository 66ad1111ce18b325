"""Error classes, messages and body parsing."""

from __future__ import annotations

import json
import pickle
import time

import httpx
import pytest

from nodion_pulumi._errors import (
    APIError,
    AuthenticationError,
    BadRequestError,
    NodionConnectionError,
    NodionError,
    NodionTimeoutError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    ServerError,
    UnexpectedResponseError,
    error_from_response,
    extract_messages,
)

OP = "create container registry"


def _response(
    status: int,
    *,
    content: bytes = b"",
    headers: dict[str, str] | None = None,
    method: str = "POST",
    url: str = "https://api.nodion.com/v1/container_registries",
) -> httpx.Response:
    return httpx.Response(
        status, content=content, headers=headers, request=httpx.Request(method, url)
    )


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (400, BadRequestError),
        (401, AuthenticationError),
        (403, PermissionDeniedError),
        (404, NotFoundError),
        (429, RateLimitError),
        (500, ServerError),
        (502, ServerError),
        (503, ServerError),
        (599, ServerError),
        (409, APIError),
        (422, APIError),
        (302, APIError),
    ],
)
def test_status_maps_to_class(status: int, cls: type[APIError]) -> None:
    error = error_from_response(_response(status), operation=OP)
    assert type(error) is cls
    assert isinstance(error, NodionError)
    assert error.status_code == status
    assert error.method == "POST"
    assert error.path == "/v1/container_registries"
    assert error.operation == OP


def test_message_format_matches_contract() -> None:
    body = b'{"errors": ["Name can\'t be blank"]}'
    error = error_from_response(_response(400, content=body), operation=OP)
    assert str(error) == (
        "create container registry failed: HTTP 400 from POST /v1/container_registries: "
        "Name can't be blank"
    )
    assert error.messages == ("Name can't be blank",)


def test_several_messages_are_joined() -> None:
    body = b'{"errors": ["Name can\'t be blank", "Registry type is invalid"]}'
    error = error_from_response(_response(400, content=body), operation=OP)
    assert error.messages == ("Name can't be blank", "Registry type is invalid")
    assert str(error).endswith("Name can't be blank; Registry type is invalid")


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
    "unit", [b"<script", b"<", b"<!--", b"<style>", b"<a href='x'", b"</script"]
)
def test_pathological_html_is_handled_quickly(unit: bytes) -> None:
    body = b"<html>" + unit * (300_000 // len(unit))
    started = time.perf_counter()
    extract_messages(body)
    assert time.perf_counter() - started < 1.0


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


def test_empty_body_falls_back_to_reason_phrase() -> None:
    error = error_from_response(_response(503), operation=OP)
    assert error.messages == ()
    assert str(error).endswith(": Service Unavailable")
    odd = error_from_response(_response(599), operation=OP)
    assert "HTTP 599" in str(odd)


def test_secrets_are_redacted_before_truncation() -> None:
    password = "p" * 150 + "SECRET-TAIL"
    body = json.dumps({"errors": [f"{'x' * 120} {password}"]}).encode()
    error = error_from_response(_response(400, content=body), operation=OP, secrets=[password])
    assert "ppp" not in str(error)
    assert "***" in str(error)


def test_password_and_token_echoed_by_api_are_redacted() -> None:
    body = (
        b'{"errors": ["Password hunter2-very-secret is too weak",'
        b' "token tok_live_ABC123 rejected", "Authorization: Bearer whatever-else"]}'
    )
    error = error_from_response(
        _response(400, content=body),
        operation=OP,
        secrets=["hunter2-very-secret", "tok_live_ABC123", None, ""],
    )
    for text in (str(error), repr(error), str(error.args), " ".join(error.messages)):
        assert "hunter2-very-secret" not in text
        assert "tok_live_ABC123" not in text
        assert "whatever-else" not in text
    assert error.messages[0] == "Password *** is too weak"


def test_secret_in_html_entity_is_redacted() -> None:
    body = b"<p>password was p&amp;ss&lt;word</p>"
    (message,) = extract_messages(body, ["p&ss<word"])
    assert message == "password was ***"


def test_rate_limit_reads_retry_after() -> None:
    error = error_from_response(
        _response(429, content=b'{"error": "Too Many Requests"}', headers={"Retry-After": "7"}),
        operation="list container registries",
    )
    assert isinstance(error, RateLimitError)
    assert error.retry_after == 7.0
    assert str(error).endswith("Too Many Requests (retry after 7 s)")
    no_header = error_from_response(_response(429), operation=OP)
    assert isinstance(no_header, RateLimitError)
    assert no_header.retry_after is None


def test_auth_errors_say_where_to_look() -> None:
    error = error_from_response(_response(401, content=b'{"error": "Unauthorized"}'), operation=OP)
    assert "nodion:apiToken" in str(error)
    assert "NODION_API_TOKEN" in str(error)
    denied = error_from_response(_response(403), operation=OP)
    assert "nodion:projectId" in str(denied)


def test_path_comes_without_query() -> None:
    response = _response(404, method="GET", url="http://127.0.0.1:1/v1/container_registries/x?a=b")
    error = error_from_response(response, operation="get container registry")
    assert error.path == "/v1/container_registries/x"


def test_errors_pickle_round_trip() -> None:
    error = error_from_response(
        _response(429, content=b'{"errors": ["slow down"]}', headers={"Retry-After": "2"}),
        operation=OP,
    )
    copy = pickle.loads(pickle.dumps(error))  # noqa: S301
    assert type(copy) is RateLimitError
    assert str(copy) == str(error)
    assert copy.retry_after == 2.0
    timeout = NodionTimeoutError("no response", operation=OP, method="GET", path="/v1/x")
    assert str(pickle.loads(pickle.dumps(timeout))) == str(timeout)  # noqa: S301


def test_connection_errors() -> None:
    error = NodionConnectionError(
        "Connection refused", operation=OP, method="POST", path="/v1/container_registries"
    )
    assert str(error) == (
        "create container registry failed: could not reach Nodion for "
        "POST /v1/container_registries: Connection refused"
    )
    assert not error.request_sent
    timeout = NodionTimeoutError(
        "no response within 30 s",
        operation=OP,
        method="POST",
        path="/v1/container_registries",
        request_sent=True,
    )
    assert isinstance(timeout, NodionConnectionError)
    assert str(timeout).startswith(
        "create container registry failed: timed out waiting for POST /v1/container_registries"
    )
    assert "pulumi refresh" in str(timeout)
    assert "request_sent=True" in repr(timeout)


def test_unexpected_response_message() -> None:
    error = UnexpectedResponseError(
        operation="get container registry",
        method="GET",
        path="/v1/container_registries/x",
        status_code=200,
        messages=["missing 'container_registry' in the response"],
    )
    assert isinstance(error, APIError)
    assert str(error) == (
        "get container registry failed: unexpected response (HTTP 200) from "
        "GET /v1/container_registries/x: missing 'container_registry' in the response"
    )
