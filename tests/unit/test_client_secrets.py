"""No secret of a call leaves the client in an error, whatever form the answer carries it in
and wherever the answer is cut: every form (raw, JSON-escaped, URL-encoded, base64
``user:pass``) through every path (2xx, 4xx, 5xx, cut short, not JSON)."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterator
from urllib.parse import quote, quote_plus

import httpx
import pytest

from nodion_pulumi._client import NodionClient
from nodion_pulumi._config import Settings
from nodion_pulumi._error_body import MAX_BODY_CHARS
from nodion_pulumi._errors import APIError, NodionError, UnexpectedResponseError
from nodion_pulumi._retry import NO_RETRY

TOKEN = "tok_live_7Hq2Zr9xWm4Kp"
# A password with every character that changes between forms: a quote, a backslash, a
# slash, URL-reserved characters, a space and non-ASCII letters.
PASSWORD = 'Pa"ss\\w/ö+rd&=%? x-Ω8'
REG_ID = "b2c3d4e5-f6a7-8901-bcde-f12345678901"
NODION_ID = "a1b2c3d4-e5f6-7890-abcd-ef1234567890"


def forms(secret: str) -> dict[str, str]:
    return {
        "raw": secret,
        "json-escaped": json.dumps(secret)[1:-1],
        "json-escaped, non-ASCII kept": json.dumps(secret, ensure_ascii=False)[1:-1],
        "url-encoded": quote(secret, safe=""),
        "form-encoded": quote_plus(secret),
        **{
            f"base64 of {user}:password": base64.b64encode(f"{user}:{secret}".encode()).decode()
            for user in ("u", "us", "usr")
        },
    }


def windows(text: str, size: int = 8) -> Iterator[str]:
    """Every ``size``-character piece of ``text``: none may appear in anything shown."""
    return (text[i : i + size] for i in range(len(text) - size + 1))


def assert_shows_no_part_of(error: NodionError, *secrets: str) -> None:
    shown = "\n".join(
        [str(error), repr(error), str(error.args), repr(getattr(error, "messages", ()))]
    )
    for secret in secrets:
        for form, text in forms(secret).items():
            leaked = [start for start, piece in enumerate(windows(text)) if piece in shown]
            assert not leaked, f"{form} of a secret leaked at offsets {leaked}"


def client_answering(answer: Callable[[httpx.Request], httpx.Response]) -> NodionClient:
    settings = Settings(api_token=TOKEN, api_url="https://api.nodion.com/v1")  # type: ignore[arg-type]
    return NodionClient(settings, retry=NO_RETRY, transport=httpx.MockTransport(answer))


def fixed_answer(
    status: int, content: bytes, headers: dict[str, str]
) -> Callable[[httpx.Request], httpx.Response]:
    return lambda request: httpx.Response(status, content=content, headers=headers)


# Bodies carrying a text (one form of a secret), for each path an answer can take.
BODIES: dict[str, Callable[[str], tuple[int, bytes, str]]] = {
    "2xx not JSON": lambda text: (201, f"created with {text}".encode(), "text/plain"),
    "2xx HTML": lambda text: (200, f"<p>saved {text}</p>".encode(), "text/html"),
    "2xx JSON cut short": lambda text: (
        201,
        json.dumps({"container_registry": {"id": REG_ID, "password": text}}).encode()[:-3],
        "application/json",
    ),
    "2xx JSON of another shape": lambda text: (
        200,
        json.dumps({"registry": {"echo": text}, text: 1}).encode(),
        "application/json",
    ),
    "4xx JSON": lambda text: (400, json.dumps({"errors": [f"bad {text}"]}).encode(), ""),
    "4xx JSON nested": lambda text: (
        422,
        json.dumps({"errors": [{"field": "password", "value": {"given": [text]}}]}).encode(),
        "application/json",
    ),
    "4xx Rails-style": lambda text: (
        400,
        json.dumps({"errors": {text: ["is invalid"], "password": [text]}}).encode(),
        "application/json",
    ),
    "4xx cut in the middle of the text": lambda text: (
        400,
        f"rejected: {text}".encode()[: len("rejected: ") + len(text.encode()) // 2],
        "text/plain",
    ),
    "4xx whose text straddles the examined part": lambda text: (
        400,
        b" " * (MAX_BODY_CHARS - 12) + text.encode(),
        "text/plain",
    ),
    "4xx with the text beyond the message's length": lambda text: (
        400,
        ("x " * 95 + text).encode(),
        "text/plain",
    ),
    "5xx HTML": lambda text: (502, f"<h1>upstream said {text}</h1>".encode(), "text/html"),
    "5xx HTML entities": lambda text: (
        500,
        f"<p>{text.replace('&', '&amp;').replace('<', '&lt;')}</p>".encode(),
        "text/html",
    ),
}


@pytest.mark.parametrize("path", list(BODIES))
@pytest.mark.parametrize("form", list(forms(PASSWORD)))
def test_no_form_of_the_password_or_token_leaves_in_any_answer(form: str, path: str) -> None:
    for secret in (PASSWORD, TOKEN):
        status, content, content_type = BODIES[path](forms(secret)[form])
        headers = {"Content-Type": content_type} if content_type else {}
        client = client_answering(fixed_answer(status, content, headers))
        with pytest.raises(APIError) as caught:
            client.create_registry(
                name="mirror",
                registry_type="custom",
                hostname="r.example.com",
                username="u",
                password=PASSWORD,
            )
        assert_shows_no_part_of(caught.value, PASSWORD, TOKEN)


def test_the_password_of_an_update_is_kept_out_too() -> None:
    echo = f"saved {json.dumps(PASSWORD)} for u"
    client = client_answering(lambda r: httpx.Response(200, text=echo))
    with pytest.raises(UnexpectedResponseError) as caught:
        client.update_registry(REG_ID, password=PASSWORD)
    assert_shows_no_part_of(caught.value, PASSWORD, TOKEN)


@pytest.mark.parametrize("cut", [1, 2, 5, 12, 20, 30])
def test_credentials_cut_short_show_no_part_of_the_minted_password(cut: int) -> None:
    minted = "Nodion-minted-pw-Qx7Lk2Vb9Rt4Yn8Wm3Zc-xyz"
    body = json.dumps(
        {
            "container_registry": {
                "id": NODION_ID,
                "hostname": "h",
                "username": "u",
                "password": minted,
            }
        },
        separators=(",", ":"),
    ).encode()
    client = client_answering(lambda r: httpx.Response(201, content=body[:-cut]))
    with pytest.raises(UnexpectedResponseError) as caught:
        client.create_credentials(NODION_ID)
    assert_shows_no_part_of(caught.value, minted)
    assert f"{len(body) - cut} bytes" in str(caught.value)
    assert "shows them only once" in str(caught.value)


def test_a_minted_password_in_an_answer_of_another_shape_is_kept_out() -> None:
    minted = "Nodion-minted-pw-Hs5Jd8Fg2Kl"
    body = {"container_registry": {"id": NODION_ID, "password": minted}, "note": minted}
    client = client_answering(lambda r: httpx.Response(201, json=body))
    with pytest.raises(UnexpectedResponseError) as caught:
        client.create_credentials(NODION_ID)
    assert_shows_no_part_of(caught.value, minted)


def test_the_keys_of_a_success_body_are_never_quoted() -> None:
    client = client_answering(lambda r: httpx.Response(200, json={TOKEN: 1, "other": 2}))
    with pytest.raises(UnexpectedResponseError) as caught:
        client.list_registries()
    assert_shows_no_part_of(caught.value, TOKEN)
    assert str(caught.value).endswith(
        "missing 'container_registries' in the response (2 other keys)"
    )


@pytest.mark.parametrize(
    "body",
    [
        b"password%3Dhunter2",
        b'{"errors": ["password=hunter2x"]}',
        b'{"errors": ["aGVsbG86aHVudGVyMg== is not valid"]}',  # base64 of hello:hunter2
    ],
)
def test_a_short_password_anywhere_in_an_error_drops_the_excerpt(body: bytes) -> None:
    client = client_answering(lambda r: httpx.Response(400, content=body))
    with pytest.raises(APIError) as caught:
        client.update_registry(REG_ID, password="hunter2")
    shown = str(caught.value)
    assert "hunter2" not in shown
    assert "aHVudGVyMg" not in shown
    assert caught.value.messages == ("the error text is not shown because it may contain a secret",)


def test_an_error_body_nested_951_deep_is_read() -> None:
    body = b'{"errors": [' + b"[" * 951 + b'"deep"' + b"]" * 951 + b"]}"
    client = client_answering(lambda r: httpx.Response(400, content=body))
    with pytest.raises(APIError) as caught:
        client.list_registries()
    assert caught.value.messages == ("[[[[…]]]]",)
