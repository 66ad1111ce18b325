"""NodionClient against httpx.MockTransport: requests sent, responses parsed, errors raised."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from typing import Any

import httpx
import pydantic
import pytest

from nodion_pulumi._client import NodionClient
from nodion_pulumi._config import Settings, resolve_settings
from nodion_pulumi._errors import (
    APIError,
    AuthenticationError,
    BadRequestError,
    ConfigurationError,
    InvalidRegistryIdError,
    NodionConnectionError,
    NodionError,
    NodionTimeoutError,
    NoNodionAPIError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    ServerError,
    UnexpectedResponseError,
)
from nodion_pulumi._http import USER_AGENT, url_for_messages
from nodion_pulumi._models import Registry
from nodion_pulumi._retry import NO_RETRY
from nodion_pulumi._version import __version__

TOKEN = "tok_live_9f8e7d6c5b4a"
PROJECT = "428d037e-9ba6-4dab-92bd-8d816c523126"
BASE = "https://api.nodion.com/v1"
REG_ID = "b2c3d4e5-f6a7-8901-bcde-f12345678901"
NODION_ID = "a1b2c3d4-e5f6-7890-abcd-ef1234567890"

Handler = Callable[[httpx.Request], httpx.Response]


def registry_json(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": REG_ID,
        "status": "available",
        "registry_type": "docker_hub",
        "name": "My Docker Hub",
        "hostname": "docker.io",
        "has_credentials": True,
        "region_id": None,
        "created_at": "2025-02-01T14:30:00.000+01:00",
        "updated_at": "2025-02-01T14:30:00.000+01:00",
    }
    data.update(overrides)
    return data


class Recorder:
    """A MockTransport handler that records requests and answers from a function."""

    def __init__(self, answer: Handler) -> None:
        self.answer = answer
        self.requests: list[httpx.Request] = []
        self._lock = threading.Lock()

    def __call__(self, request: httpx.Request) -> httpx.Response:
        request.read()
        with self._lock:
            self.requests.append(request)
        return self.answer(request)

    @property
    def last(self) -> httpx.Request:
        return self.requests[-1]

    def body(self, index: int = -1) -> Any:
        return json.loads(self.requests[index].content)


def make_client(
    answer: Handler, *, project_id: str | None = None, api_url: str = BASE, timeout: float = 30.0
) -> tuple[NodionClient, Recorder]:
    recorder = Recorder(answer)
    settings = Settings(
        api_token=TOKEN,  # type: ignore[arg-type]
        api_url=api_url,
        project_id=project_id,
        timeout=timeout,
    )
    client = NodionClient(settings, retry=NO_RETRY, transport=httpx.MockTransport(recorder))
    return client, recorder


def ok(payload: Any, status: int = 200) -> Handler:
    return lambda request: httpx.Response(status, json=payload)


def test_headers() -> None:
    client, rec = make_client(ok({"container_registries": []}), project_id=PROJECT)
    assert client.list_registries() == []
    headers = rec.last.headers
    assert headers["Authorization"] == f"Bearer {TOKEN}"
    assert headers["Accept"] == "application/json"
    assert headers["User-Agent"] == USER_AGENT
    expected = f"nodion-pulumi/{__version__} (python-httpx/{httpx.__version__})"
    assert expected == USER_AGENT
    assert headers["X-Nodion-Project"] == PROJECT


def test_no_project_header_without_project() -> None:
    client, rec = make_client(ok({"container_registries": []}))
    client.list_registries()
    assert "X-Nodion-Project" not in rec.last.headers


def test_list_registries() -> None:
    payload = {
        "container_registries": [
            registry_json(id=NODION_ID, registry_type="nodion", hostname="registry.fra.nodion.net"),
            registry_json(),
        ],
        "meta": {"page": 1},
    }
    client, rec = make_client(ok(payload))
    registries = client.list_registries()
    assert rec.last.method == "GET"
    assert rec.last.url == f"{BASE}/container_registries"
    assert [r.id for r in registries] == [NODION_ID, REG_ID]
    assert registries[0].region_slug == "fra"
    assert all(isinstance(r, Registry) for r in registries)


def test_get_registry() -> None:
    client, rec = make_client(ok({"container_registry": registry_json()}))
    registry = client.get_registry(REG_ID)
    assert rec.last.method == "GET"
    assert rec.last.url.path == f"/v1/container_registries/{REG_ID}"
    assert registry.name == "My Docker Hub"


def test_base_url_prefix_is_kept() -> None:
    client, rec = make_client(
        ok({"container_registry": registry_json()}), api_url="http://127.0.0.1:1/proxy/v1/"
    )
    client.get_registry(REG_ID)
    assert rec.last.url == f"http://127.0.0.1:1/proxy/v1/container_registries/{REG_ID}"


def test_create_registry_sends_only_given_fields() -> None:
    client, rec = make_client(ok({"container_registry": registry_json()}))
    registry = client.create_registry(name="My Docker Hub", registry_type="docker_hub")
    assert rec.last.method == "POST"
    assert rec.last.url.path == "/v1/container_registries"
    assert rec.last.headers["Content-Type"] == "application/json"
    assert rec.body() == {"name": "My Docker Hub", "registry_type": "docker_hub"}
    assert registry.id == REG_ID


def test_create_registry_with_all_fields_and_201() -> None:
    client, rec = make_client(ok({"container_registry": registry_json()}, status=201))
    client.create_registry(
        name="GHCR",
        registry_type="ghcr",
        hostname="ghcr.io",
        username="octocat",
        password="ghp_secret",
    )
    assert rec.body() == {
        "name": "GHCR",
        "registry_type": "ghcr",
        "hostname": "ghcr.io",
        "username": "octocat",
        "password": "ghp_secret",
    }


def test_update_registry_patches_only_given_fields() -> None:
    client, rec = make_client(ok({"container_registry": registry_json(name="New")}))
    registry = client.update_registry(REG_ID, name="New")
    assert rec.last.method == "PATCH"
    assert rec.last.url.path == f"/v1/container_registries/{REG_ID}"
    assert rec.body() == {"name": "New"}
    assert registry.name == "New"
    client.update_registry(REG_ID, username="u", password="p")
    assert rec.body() == {"username": "u", "password": "p"}


def test_update_with_nothing_to_change_only_reads() -> None:
    client, rec = make_client(ok({"container_registry": registry_json()}))
    client.update_registry(REG_ID)
    assert [r.method for r in rec.requests] == ["GET"]


@pytest.mark.parametrize(
    "response",
    [
        httpx.Response(200),
        httpx.Response(204),
        httpx.Response(200, json={"container_registry": registry_json()}),
        httpx.Response(200, text="OK"),
    ],
)
def test_delete_registry_accepts_any_success_body(response: httpx.Response) -> None:
    client, rec = make_client(lambda request: response)
    client.delete_registry(REG_ID)
    assert rec.last.method == "DELETE"
    assert rec.last.url.path == f"/v1/container_registries/{REG_ID}"
    assert rec.last.content == b""


def test_create_credentials() -> None:
    payload = {
        "container_registry": {
            "id": NODION_ID,
            "hostname": "registry.fra.nodion.net",
            "username": "robot$project-a1b2c3d4",
            "password": "secret-token-value",
        }
    }
    client, rec = make_client(ok(payload, status=201))
    credentials = client.create_credentials(NODION_ID)
    assert rec.last.method == "POST"
    assert rec.last.url.path == f"/v1/container_registries/{NODION_ID}/credentials"
    assert credentials.password.get_secret_value() == "secret-token-value"
    assert "secret-token-value" not in repr(credentials)


def test_delete_credentials() -> None:
    client, rec = make_client(lambda request: httpx.Response(200))
    client.delete_credentials(NODION_ID)
    assert rec.last.method == "DELETE"
    assert rec.last.url.path == f"/v1/container_registries/{NODION_ID}/credentials"


@pytest.mark.parametrize("bad_id", ["", "../container_registries", "a/b", "x?y=1", "a b"])
@pytest.mark.parametrize(
    "call",
    [
        lambda c, i: c.get_registry(i),
        lambda c, i: c.update_registry(i, name="n"),
        lambda c, i: c.delete_registry(i),
        lambda c, i: c.create_credentials(i),
        lambda c, i: c.delete_credentials(i),
    ],
)
def test_unsafe_ids_are_refused_before_any_request(
    bad_id: str, call: Callable[[NodionClient, str], object]
) -> None:
    client, rec = make_client(ok({}))
    with pytest.raises(InvalidRegistryIdError):
        call(client, bad_id)
    assert rec.requests == []


@pytest.mark.parametrize(
    ("status", "body", "cls", "detail"),
    [
        (400, {"errors": ["Name can't be blank"]}, BadRequestError, "Name can't be blank"),
        (401, {"error": "Unauthorized"}, AuthenticationError, "Unauthorized"),
        (403, {"error": "Forbidden"}, PermissionDeniedError, "Forbidden"),
        (404, {"status": 404, "error": "Not Found"}, NotFoundError, "Not Found"),
        (429, {"message": "Slow down"}, RateLimitError, "Slow down"),
        (500, {}, ServerError, "Internal Server Error"),
        (409, {"errors": ["conflict"]}, APIError, "conflict"),
    ],
)
def test_error_statuses(status: int, body: Any, cls: type[APIError], detail: str) -> None:
    client, _ = make_client(ok(body, status=status))
    with pytest.raises(cls) as caught:
        client.create_registry(name="", registry_type="docker_hub")
    error = caught.value
    assert type(error) is cls
    assert error.status_code == status
    assert error.operation == "create container registry"
    assert error.method == "POST"
    assert error.path == "/v1/container_registries"
    assert str(error).startswith(
        f"create container registry failed: HTTP {status} from POST /v1/container_registries: "
        f"{detail}"
    )


def test_contract_message_for_400() -> None:
    client, _ = make_client(ok({"errors": ["Name can't be blank"]}, status=400))
    with pytest.raises(BadRequestError) as caught:
        client.create_registry(name="", registry_type="docker_hub")
    assert str(caught.value) == (
        "create container registry failed: HTTP 400 from POST /v1/container_registries: "
        "Name can't be blank"
    )


def test_html_error_page() -> None:
    page = "<html><head><title>Bad</title></head><body><h1>502 Bad Gateway</h1></body></html>"
    client, _ = make_client(lambda r: httpx.Response(502, text=page))
    with pytest.raises(ServerError) as caught:
        client.get_registry(REG_ID)
    assert caught.value.messages == ("502 Bad Gateway",)


def test_redirects_are_not_followed() -> None:
    client, rec = make_client(
        lambda r: httpx.Response(302, headers={"Location": "https://evil.example/steal"})
    )
    with pytest.raises(APIError) as caught:
        client.list_registries()
    assert caught.value.status_code == 302
    assert len(rec.requests) == 1


@pytest.mark.parametrize(
    ("response", "match"),
    [
        (
            httpx.Response(200, text="not json"),
            "expected JSON, got 8 bytes of text/plain that is not valid JSON$",
        ),
        (httpx.Response(200), "expected JSON, got an empty body$"),
        (
            httpx.Response(200, html="<html><body>Login</body></html>"),
            "expected JSON, got 31 bytes of text/html that is not valid JSON$",
        ),
        (
            httpx.Response(200, json={"registry": {}}),
            r"missing 'container_registry' in the response \(1 other key\)$",
        ),
        (
            httpx.Response(200, content=b"[" * 100_000),
            "expected JSON, got 100000 bytes of a body that is not JSON$",
        ),
        (
            httpx.Response(200, content=b"{x", headers={"Content-Type": "x/secret-ish"}),
            "expected JSON, got 2 bytes of another content type$",
        ),
        (
            httpx.Response(200, json={"container_registry": {"id": REG_ID}}),
            r"container_registry\.status: Field required",
        ),
    ],
)
def test_unexpected_success_bodies(response: httpx.Response, match: str) -> None:
    client, _ = make_client(lambda r: response)
    with pytest.raises(UnexpectedResponseError, match=match) as caught:
        client.get_registry(REG_ID)
    assert caught.value.operation == "get container registry"
    assert caught.value.status_code == 200
    assert str(caught.value).startswith(
        f"get container registry failed: unexpected response (HTTP 200) from "
        f"GET /v1/container_registries/{REG_ID}"
    )
    chain = [caught.value.__cause__, getattr(caught.value.__cause__, "__cause__", None)]
    assert not any(isinstance(e, pydantic.ValidationError) for e in chain)


def test_unreadable_credentials_say_they_may_be_lost() -> None:
    payload = {"container_registry": {"id": NODION_ID, "password": "pw-that-must-not-leak"}}
    client, _ = make_client(ok(payload, status=201))
    with pytest.raises(UnexpectedResponseError) as caught:
        client.create_credentials(NODION_ID)
    assert "shows them only once" in str(caught.value)
    assert "pw-that-must-not-leak" not in str(caught.value)
    assert "pw-that-must-not-leak" not in repr(caught.value)


def test_oversized_success_body_is_refused() -> None:
    big = b'{"container_registries": [' + b" " * (5 * 1024 * 1024) + b"]}"
    client, _ = make_client(lambda r: httpx.Response(200, content=big))
    with pytest.raises(UnexpectedResponseError, match="larger than"):
        client.list_registries()


def test_oversized_error_body_is_summarised() -> None:
    big = b"<html>" + b"<p>gateway trouble</p>" * 300_000 + b"</html>"
    client, _ = make_client(lambda r: httpx.Response(500, content=big))
    with pytest.raises(ServerError) as caught:
        client.list_registries()
    assert len(str(caught.value)) < 400


def test_password_and_token_echoed_in_error_are_redacted() -> None:
    def echo(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        return httpx.Response(
            400,
            json={
                "errors": [
                    f"Password {body['password']} is not accepted",
                    f"Token {TOKEN} is for another project",
                ],
                "request": {"headers": {"Authorization": f"Bearer {TOKEN}"}},
            },
        )

    client, _ = make_client(echo)
    with pytest.raises(BadRequestError) as caught:
        client.create_registry(
            name="x",
            registry_type="custom",
            hostname="r.example.com",
            username="u",
            password="Pa55-w0rd-echoed",
        )
    error = caught.value
    texts = [str(error), repr(error), str(error.args), repr(error.messages)]
    for text in texts:
        assert "Pa55-w0rd-echoed" not in text
        assert TOKEN not in text
    assert error.messages[0] == "Password *** is not accepted"


@pytest.mark.parametrize(
    ("status", "content"),
    [
        (201, b"created; password Pa55-w0rd-echoed stored"),  # not JSON
        (201, b'{"container_registry": {"id": "x", "password": "Pa55-w0rd-echoed"}}'),  # shape
        (500, b"<h1>password Pa55-w0rd-echoed rejected</h1>"),
    ],
)
def test_a_password_echoed_in_any_answer_is_redacted(status: int, content: bytes) -> None:
    # Every answer of one call is read with the same secrets, success or failure.
    client, _ = make_client(lambda r: httpx.Response(status, content=content))
    with pytest.raises(APIError) as caught:
        client.create_registry(name="x", registry_type="custom", password="Pa55-w0rd-echoed")
    error = caught.value
    for text in (str(error), repr(error), str(error.args), repr(error.messages)):
        assert "Pa55-w0rd-echoed" not in text


def test_update_password_is_redacted_too() -> None:
    client, _ = make_client(ok({"error": "bad password new-pass-123"}, status=400))
    with pytest.raises(BadRequestError) as caught:
        client.update_registry(REG_ID, password="new-pass-123")
    assert "new-pass-123" not in str(caught.value)


def test_connection_error_is_wrapped_and_redacted() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError(f"refused while sending Bearer {TOKEN}", request=request)

    client, _ = make_client(refuse)
    with pytest.raises(NodionConnectionError) as caught:
        client.list_registries()
    error = caught.value
    assert not isinstance(error, NodionTimeoutError)
    assert error.operation == "list container registries"
    assert error.method == "GET"
    assert error.path == "/v1/container_registries"
    assert error.request_sent is False
    assert TOKEN not in str(error)
    assert TOKEN not in repr(error)
    assert "http://" in str(error) or "https://" in str(error), "names the URL"
    # The cause is chained for debugging, scrubbed like the message.
    assert isinstance(error.__cause__, httpx.ConnectError)
    assert TOKEN not in str(error.__cause__)
    assert "refused while sending Bearer ***" in str(error.__cause__)


@pytest.mark.parametrize(
    ("exc", "reason"),
    [
        (httpx.ReadTimeout, "no response within 30 s"),
        (httpx.ConnectTimeout, "could not connect within 5 s"),
        (httpx.WriteTimeout, "could not send the request within 30 s"),
        (httpx.PoolTimeout, "no free connection within 30 s"),
    ],
)
def test_timeouts(exc: type[httpx.TimeoutException], reason: str) -> None:
    def slow(request: httpx.Request) -> httpx.Response:
        raise exc("timed out", request=request)

    client, _ = make_client(slow)
    with pytest.raises(NodionTimeoutError) as caught:
        client.create_registry(name="n", registry_type="docker_hub")
    assert str(caught.value).startswith(
        "create container registry failed: timed out waiting for POST "
        "https://api.nodion.com/v1/container_registries: " + reason
    )
    assert isinstance(caught.value, NodionConnectionError)


def test_read_error_after_post_warns_it_may_have_been_applied() -> None:
    def reset(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadError("Connection reset by peer", request=request)

    client, _ = make_client(reset)
    with pytest.raises(NodionConnectionError) as caught:
        client.create_registry(name="n", registry_type="docker_hub")
    assert caught.value.request_sent is True
    assert "may have reached Nodion" in str(caught.value)


def test_request_timeouts_come_from_settings() -> None:
    client, rec = make_client(ok({"container_registries": []}), timeout=12.5)
    client.list_registries()
    timeout = rec.last.extensions["timeout"]
    assert timeout == {"connect": 5.0, "read": 12.5, "write": 12.5, "pool": 12.5}
    short, rec = make_client(ok({"container_registries": []}), timeout=2.0)
    short.list_registries()
    assert rec.last.extensions["timeout"]["connect"] == 2.0


def test_repr_hides_token() -> None:
    client, _ = make_client(ok({"container_registries": []}), project_id=PROJECT)
    client.list_registries()
    for text in (repr(client), str(client), repr(client.settings)):
        assert TOKEN not in text
    assert repr(client) == (
        f"NodionClient(api_url='https://api.nodion.com/v1', project_id='{PROJECT}')"
    )


def test_http_client_is_lazy_shared_and_closed() -> None:
    client, rec = make_client(ok({"container_registries": []}))
    assert client._http is None
    client.list_registries()
    first = client._http
    client.list_registries()
    assert client._http is first
    assert first is not None
    client.close()
    assert first.is_closed
    with pytest.raises(NodionError, match="closed"):
        client.list_registries()
    assert len(rec.requests) == 2
    client.close()  # idempotent


def test_a_client_closed_while_a_call_is_under_way_raises_a_nodion_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Another thread closes the client (Runtime.close) between this call taking the pooled
    # httpx client and sending on it: httpx's RuntimeError must not escape as it is.
    client, _ = make_client(ok({"container_registries": []}))
    client.list_registries()
    taken = client._http
    assert taken is not None
    client.close()
    monkeypatch.setattr(client, "_http_client", lambda: taken)
    with pytest.raises(NodionError, match="closed") as caught:
        client.list_registries()
    assert isinstance(caught.value.__cause__, RuntimeError)


def test_urls_in_messages_show_no_login_query_or_fragment() -> None:
    url = httpx.URL("https://user:pa55word@registry.example.com:5000/token?account=me#top")
    assert url_for_messages(url) == "https://registry.example.com:5000/token"


def test_context_manager_closes() -> None:
    client, _ = make_client(ok({"container_registries": []}))
    with client as same:
        assert same is client
        client.list_registries()
        http = client._http
    assert http is not None
    assert http.is_closed


def test_closing_an_unused_client_opens_nothing() -> None:
    client, _ = make_client(ok({}))
    client.close()
    assert client._http is None


def test_proxy_settings_ignored_only_for_loopback() -> None:
    local = NodionClient(
        resolve_settings({"nodion:apiToken": "t", "nodion:apiUrl": "http://127.0.0.1:9/v1"}, {})
    )
    remote = NodionClient(resolve_settings({"nodion:apiToken": "t"}, {}))
    try:
        assert local._http_client().trust_env is False
        assert remote._http_client().trust_env is True
    finally:
        local.close()
        remote.close()


def test_logs_carry_no_headers_or_bodies(caplog: pytest.LogCaptureFixture) -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(400, json={"errors": ["bad hunter2-pw"]})

    client, _ = make_client(answer)
    with caplog.at_level(logging.DEBUG, logger="nodion_pulumi"), pytest.raises(BadRequestError):
        client.create_registry(name="n", registry_type="custom", password="hunter2-pw")
    assert caplog.records
    assert all(r.name == "nodion_pulumi" for r in caplog.records)
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert "POST /v1/container_registries -> 400 (attempt 1," in text
    assert TOKEN not in text
    assert "hunter2-pw" not in text
    assert "Bearer" not in text
    assert "errors" not in text


def test_thread_safety_four_threads_one_client() -> None:
    counter = {"n": 0}
    lock = threading.Lock()

    def answer(request: httpx.Request) -> httpx.Response:
        with lock:
            counter["n"] += 1
        if request.method == "GET" and request.url.path.endswith("container_registries"):
            return httpx.Response(200, json={"container_registries": [registry_json()]})
        registry_id = request.url.path.rsplit("/", 1)[-1]
        return httpx.Response(200, json={"container_registry": registry_json(id=registry_id)})

    client, rec = make_client(answer)
    created: list[int] = []
    original = httpx.Client.__init__

    def counting_init(self: httpx.Client, *args: Any, **kwargs: Any) -> None:
        with lock:
            created.append(1)
        original(self, *args, **kwargs)

    errors: list[BaseException] = []
    barrier = threading.Barrier(4)

    def worker(n: int) -> None:
        try:
            barrier.wait()
            for i in range(50):
                registry_id = f"reg-{n}-{i}"
                assert client.get_registry(registry_id).id == registry_id
                assert len(client.list_registries()) == 1
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(httpx.Client, "__init__", counting_init)
        threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
    assert not errors, errors
    assert counter["n"] == 400
    assert len(rec.requests) == 400
    assert len(created) == 1
    client.close()


def test_a_404_on_the_list_is_a_missing_api() -> None:
    client, _ = make_client(
        lambda request: httpx.Response(404, text="Not Found"), api_url="http://127.0.0.1:1"
    )
    with pytest.raises(ConfigurationError) as caught:
        client.list_registries()
    assert str(caught.value) == (
        "list container registries failed: HTTP 404 from GET "
        "http://127.0.0.1:1/container_registries: there is no Nodion API at http://127.0.0.1:1"
    )
    assert isinstance(caught.value, NoNodionAPIError)
    assert caught.value.api_url == "http://127.0.0.1:1"
    assert isinstance(caught.value.__cause__, NotFoundError)


def test_a_404_on_the_list_with_v1_says_there_is_no_api_there() -> None:
    client, _ = make_client(lambda request: httpx.Response(404), api_url="http://127.0.0.1:1/v1")
    with pytest.raises(ConfigurationError, match=r"no Nodion API at http://127.0.0.1:1/v1"):
        client.list_registries()


def test_a_404_for_one_registry_still_means_it_is_gone() -> None:
    client, _ = make_client(lambda request: httpx.Response(404), api_url="http://127.0.0.1:1")
    with pytest.raises(NotFoundError):
        client.get_registry(REG_ID)


def test_an_answer_that_is_not_json_does_not_carry_the_body_in_a_chained_error() -> None:
    # A JSONDecodeError holds the whole body (its ``doc``), which may hold a password.
    client, _ = make_client(lambda r: httpx.Response(200, text="not json"))
    with pytest.raises(UnexpectedResponseError) as caught:
        client.get_registry(REG_ID)
    assert caught.value.__cause__ is None
    assert caught.value.__suppress_context__
    assert caught.value.url == f"{BASE}/container_registries/{REG_ID}"
    assert caught.value.registry_id == REG_ID
