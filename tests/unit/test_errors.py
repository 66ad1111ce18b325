"""The exception tree: which class a response becomes, and what its message says."""

from __future__ import annotations

import json
import pickle

import httpx
import pulumi
import pytest

from nodion_pulumi._errors import (
    APIError,
    AuthenticationError,
    BadRequestError,
    ConfigurationError,
    CredentialsAlreadyExistError,
    MethodNotAllowedError,
    NoCredentialsError,
    NodionConnectionError,
    NodionError,
    NodionTimeoutError,
    NoSuchRegionError,
    NotFoundError,
    NotNodionRegistryError,
    PermissionDeniedError,
    RateLimitError,
    RegistryCreateLostError,
    ServerError,
    UnexpectedResponseError,
    error_from_response,
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


@pytest.mark.parametrize(
    ("status", "content"),
    [
        (401, b'{"error": "Unauthorized"}'),
        (403, b""),
        (400, b'{"errors": ["Credentials already exist"]}'),
        (400, b'{"errors": ["Registry is not a Nodion registry"]}'),
    ],
)
def test_client_errors_state_facts_without_pulumi_advice(status: int, content: bytes) -> None:
    url = "https://api.nodion.com/v1/container_registries/reg-1/credentials"
    error = error_from_response(_response(status, content=content, url=url), operation=OP)
    assert error.advice is None
    for pulumi_word in ("pulumi", "nodion:", "StackReference", "nodion-pulumi", "Pulumi"):
        assert pulumi_word not in str(error)


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
    at = NodionConnectionError(
        "Connection refused",
        operation=OP,
        method="GET",
        path="/v1/container_registries",
        url="http://127.0.0.1:9/v1/container_registries",
    )
    assert "GET http://127.0.0.1:9/v1/container_registries: Connection refused" in str(at)
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
    assert str(timeout).endswith(
        ": no response within 30 s (the request may have reached Nodion before the "
        "connection failed)"
    )
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


@pytest.mark.parametrize(
    ("method", "text", "cls"),
    [
        ("POST", "Credentials already exist", CredentialsAlreadyExistError),
        ("DELETE", "Registry has no credentials", NoCredentialsError),
        ("POST", "Registry is not a Nodion registry", NotNodionRegistryError),
        ("POST", "Name can't be blank", BadRequestError),
    ],
)
def test_documented_400s_get_their_own_class(
    method: str, text: str, cls: type[BadRequestError]
) -> None:
    url = "https://api.nodion.com/v1/container_registries/reg-1/credentials"
    body = json.dumps({"errors": [text]}).encode()
    error = error_from_response(
        _response(400, content=body, method=method, url=url),
        operation="credentials",
        registry_id="reg-1",
    )
    assert type(error) is cls
    assert error.messages == (text,)
    if cls is not BadRequestError:
        assert error.registry_id == "reg-1"


def test_credentials_already_exist_names_the_registry() -> None:
    url = "https://api.nodion.com/v1/container_registries/reg-1/credentials"
    body = b'{"errors": ["Credentials already exist"]}'
    error = error_from_response(
        _response(400, content=body, url=url), operation=OP, registry_id="reg-1"
    )
    assert str(error) == (
        f"{OP} failed: Nodion registry reg-1 already has push/pull credentials, and Nodion "
        "shows a password only once, so they cannot be captured"
    )


def test_not_a_nodion_registry_names_the_registry() -> None:
    url = "https://api.nodion.com/v1/container_registries/ext-1/credentials"
    body = b'{"errors": ["Registry is not a Nodion registry"]}'
    error = error_from_response(
        _response(400, content=body, url=url), operation=OP, registry_id="ext-1"
    )
    message = str(error)
    assert message == (
        f"{OP} failed: registry ext-1 is an external registry, not a Nodion registry, and "
        "only Nodion registries have credentials generated by Nodion"
    )


def test_every_error_ends_a_program_like_a_run_error() -> None:
    # The language host prints a RunError's message alone, without a Python traceback.
    for cls in (ConfigurationError, NoSuchRegionError, NodionConnectionError, APIError):
        assert issubclass(cls, pulumi.RunError)
        assert issubclass(cls, NodionError)
    assert issubclass(NoSuchRegionError, LookupError)


def test_named_failures_are_exported_from_the_package() -> None:
    import nodion_pulumi as nodion
    from nodion_pulumi import lookups, registry_credentials

    assert nodion.CredentialsAlreadyExistError is CredentialsAlreadyExistError
    assert registry_credentials.CredentialsAlreadyExistError is CredentialsAlreadyExistError
    assert nodion.NoSuchRegionError is lookups.NoSuchRegionError is NoSuchRegionError
    assert nodion.NotNodionRegistryError is NotNodionRegistryError
    assert nodion.NoCredentialsError is NoCredentialsError


def test_known_400s_are_recognised_with_a_one_letter_token_whose_text_is_withheld() -> None:
    # A one-letter secret occurs in Nodion's words, so its text is not shown; the class,
    # read from the unredacted text, still says what happened.
    url = "https://api.nodion.com/v1/container_registries/reg-1/credentials"
    body = b'{"errors": ["Credentials already exist"]}'
    error = error_from_response(
        _response(400, content=body, url=url), operation=OP, secrets=["t"], registry_id="reg-1"
    )
    assert isinstance(error, CredentialsAlreadyExistError)
    assert error.messages == ("the error text is not shown because it may contain a secret",)
    assert "registry reg-1 already has push/pull credentials" in str(error)


def test_a_405_is_a_type() -> None:
    error = error_from_response(_response(405, method="PATCH"), operation=OP)
    assert type(error) is MethodNotAllowedError
    assert str(error) == (
        f"{OP} failed: HTTP 405 from PATCH /v1/container_registries: Method Not Allowed"
    )


@pytest.mark.parametrize(
    "error",
    [
        ConfigurationError("No token"),
        NodionConnectionError("refused", operation=OP, method="GET", path="/v1/x"),
        error_from_response(_response(404), operation=OP),
        error_from_response(_response(429, headers={"Retry-After": "3"}), operation=OP),
        RegistryCreateLostError("create lost", name="n", candidate_ids=["a", "b"]),
    ],
    ids=lambda error: type(error).__name__,
)
def test_advice_follows_the_facts(error: NodionError) -> None:
    facts = str(error)
    assert error.advice is None
    assert facts == error.factual_message()
    error.advice = "Do this"
    assert str(error) == f"{facts}. Do this"
    assert str(pickle.loads(pickle.dumps(error))) == f"{facts}. Do this"  # noqa: S301


def test_a_lost_registry_create_carries_its_candidates() -> None:
    error = RegistryCreateLostError("the create's answer was lost", name="n", candidate_ids=["a"])
    assert isinstance(error, NodionError)
    assert (error.name, error.candidate_ids) == ("n", ("a",))
    assert str(error) == "the create's answer was lost"


def test_the_registry_id_given_by_the_caller_wins_over_the_path() -> None:
    url = "https://api.nodion.com/v1/container_registries/reg-1/credentials"
    body = b'{"errors": ["Registry has no credentials"]}'
    error = error_from_response(
        _response(400, content=body, url=url), operation=OP, registry_id="reg-2"
    )
    assert isinstance(error, NoCredentialsError)
    assert error.registry_id == "reg-2"


def test_the_url_comes_without_query() -> None:
    response = _response(404, method="GET", url="http://127.0.0.1:1/v1/container_registries/x?a=b")
    error = error_from_response(response, operation="get container registry")
    assert error.url == "http://127.0.0.1:1/v1/container_registries/x"
