"""Hostile input: bad resource inputs and bad API answers, each with the error expected.

Inputs go through the providers' ``check`` (what preview runs) on providers that were never
configured, so any API call would fail loudly: a rejected input provably makes no request.
Answers are served to the real client by an ``httpx.MockTransport``; so are the registries a
credentials check asks (``verdict``), whose answers must never make it call a password
rejected without a 401 nor send it anywhere but https or the loopback registry's own host.
``setting`` cases are configuration the package refuses, ``emulator`` cases requests the
emulator's admin surface refuses, and the ``deadline`` case a loopback server dribbling its
answer's headers.

Every outcome is scanned for any 8-character piece of the secret and of its base64
``user:password`` form: a message cut inside an echoed password leaks a piece of it.
"""

from __future__ import annotations

import base64
import contextlib
import json
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from pydantic import SecretStr

from nodion_pulumi import NO_RETRY, NodionClient, NodionError, Settings
from nodion_pulumi._config import resolve_settings
from nodion_pulumi._errors import ConfigurationError
from nodion_pulumi._verify import verify_credentials
from nodion_pulumi.container_registry import ContainerRegistryProvider
from nodion_pulumi.registry_credentials import RegistryCredentialsProvider

SECRET = "hostile-secret-9d41c7"  # noqa: S105 (a marker to scan for, not a credential)
GOOD_REGISTRY = {"name": "Hub", "registry_type": "docker_hub"}
# The spec's own example object, as saved for the contract tests.
REGISTRY_OBJECT: dict[str, Any] = json.loads(
    (Path(__file__).resolve().parents[1] / "tests/fixtures/spec/get_registry.json").read_text()
)["container_registry"]
REGISTRY_ID: str = REGISTRY_OBJECT["id"]
# What a leak looks like, whole or cut: every 8-character piece of the secret and of the
# HTTP Basic form a registry login carries.
PIECE = 8
_FORMS = (SECRET, base64.b64encode(f"u:{SECRET}".encode()).decode())
SECRET_PIECES = frozenset(
    form[start : start + PIECE] for form in _FORMS for start in range(len(form) - PIECE + 1)
)


def leaked_pieces(text: str) -> int:
    """How many pieces of the secret ``text`` holds (never which: a report must not leak)."""
    return sum(piece in text for piece in SECRET_PIECES)


@dataclass(frozen=True)
class Case:
    kind: str  # "input" or "answer"
    description: str
    expected: str  # the field and phrase, or the error and phrase, or "accepted"
    run: Callable[[], str]  # returns what actually happened, in the same words


@dataclass(frozen=True)
class Outcome:
    case: Case
    actual: str

    @property
    def ok(self) -> bool:
        return self.case.expected in self.actual and not leaked_pieces(self.actual)


def _check(
    provider: ContainerRegistryProvider | RegistryCredentialsProvider, inputs: dict[str, Any]
) -> Callable[[], str]:
    def run() -> str:
        result = provider.check({}, inputs)
        return "; ".join(f"{f.property}: {f.reason}" for f in result.failures) or "accepted"

    return run


def _input(
    description: str, inputs: dict[str, Any], expected: str, *, credentials: bool = False
) -> Case:
    provider = RegistryCredentialsProvider() if credentials else ContainerRegistryProvider()
    run = _check(provider, inputs)
    return Case("input", description, expected, run)


def _answer(
    description: str,
    expected: str,
    *,
    status: int = 200,
    body: bytes | str | Any = b"",
    content_type: str = "application/json",
    call: str = "get",
) -> Case:
    def handler(_request: httpx.Request) -> httpx.Response:
        content = (
            body
            if isinstance(body, bytes)
            else (body.encode() if isinstance(body, str) else json.dumps(body).encode())
        )
        return httpx.Response(status, content=content, headers={"Content-Type": content_type})

    def run() -> str:
        settings = Settings(api_token=SecretStr(SECRET), api_url="https://api.nodion.com/v1")
        client = NodionClient(settings, retry=NO_RETRY, transport=httpx.MockTransport(handler))
        try:
            if call == "create":
                client.create_registry(
                    name="Hub", registry_type="ghcr", username="u", password=SECRET
                )
            elif call == "credentials":
                client.create_credentials(REGISTRY_ID)
            elif call == "list":
                client.list_registries()
            else:
                client.get_registry(REGISTRY_ID)
        except NodionError as error:
            return f"{type(error).__name__}: {error}"
        finally:
            client.close()
        return "accepted"

    return Case("answer", description, expected, run)


def _registry_check(description: str, expected: str, hostname: str, realm: str, login: int) -> Case:
    """A credentials check of ``u``/SECRET against a registry at ``hostname`` whose ``/v2/``
    names ``realm``, where a login gets ``login``. Any request that carries the password to
    a host other than the registry's own, or over http to a non-loopback host, is reported."""

    def run() -> str:
        carried: list[str] = []

        def handler(request: httpx.Request) -> httpx.Response:
            if "authorization" in request.headers and (
                request.url.host != httpx.URL(f"https://{hostname}/").host
            ):
                carried.append(f"{request.url.scheme}://{request.url.host}")
            if request.url.path == "/v2/" and "authorization" not in request.headers:
                challenge = f'Bearer realm="{realm}",service="registry"'
                return httpx.Response(401, headers={"WWW-Authenticate": challenge})
            return httpx.Response(login)

        verification = verify_credentials(
            hostname, "u", SECRET, transport=httpx.MockTransport(handler), timeout=2.0
        )
        if carried:  # whatever the verdict, the case has failed
            return f"the password went to {', '.join(carried)} (then {verification.verdict.value})"
        return f"{verification.verdict.value}: {verification.reason}"

    return Case("verdict", description, expected, run)


def _setting(description: str, expected: str, environ: dict[str, str]) -> Case:
    def run() -> str:
        try:
            resolve_settings({}, environ={"NODION_API_TOKEN": SECRET, **environ})
        except ConfigurationError as error:
            return f"ConfigurationError: {error}"
        return "accepted"

    return Case("setting", description, expected, run)


def _admin_request(
    description: str,
    expected: str,
    *,
    method: str = "GET",
    path: str = "/_emulator/state",
    token: bool = True,
    host: str | None = None,
    content_type: str | None = None,
    body: bytes = b"",
) -> Case:
    """A request to a fresh emulator's admin surface, as a local process or a web page
    (through a rebound name or a form post) could send it."""

    def run() -> str:
        from nodion_pulumi.emulator import Emulator

        with Emulator(token=SECRET) as emulator:
            headers = {"Authorization": f"Bearer {SECRET}"} if token else {}
            if host is not None:
                headers["Host"] = host
            if content_type is not None:
                headers["Content-Type"] = content_type
            base = emulator.url.removesuffix("/v1")
            answer = httpx.request(method, base + path, headers=headers, content=body)
        return f"HTTP {answer.status_code}"

    return Case("emulator", description, expected, run)


def _dribbling_headers(description: str, expected: str) -> Case:
    """A loopback API that sends its answer's headers one byte every 0.25 s (some 20 s in
    all) to a client with a 1 s timeout: httpx's timeouts are per read, so only the
    request's own deadline ends it."""
    answer = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 28\r\n\r\n"
    body = b'{"container_registries": []}'

    def run() -> str:
        stopped = threading.Event()
        listener = socket.create_server(("127.0.0.1", 0))

        def serve() -> None:
            with listener, contextlib.suppress(OSError):
                connection, _ = listener.accept()
                with connection:
                    connection.recv(65536)
                    for index in range(len(answer)):
                        connection.sendall(answer[index : index + 1])
                        if stopped.wait(0.25):
                            return
                    connection.sendall(body)

        server = threading.Thread(target=serve, daemon=True)
        server.start()
        settings = Settings(
            api_token=SecretStr(SECRET),
            api_url=f"http://127.0.0.1:{listener.getsockname()[1]}/v1",
            timeout=1.0,
        )
        try:
            with NodionClient(settings, retry=NO_RETRY) as client:
                client.list_registries()
        except NodionError as error:
            return f"{type(error).__name__}: {error}"
        finally:
            stopped.set()
            server.join()
        return "accepted"

    return Case("deadline", description, expected, run)


def cases() -> list[Case]:
    long = "x" * 5000
    return [
        _input("name missing", {"registry_type": "ghcr"}, "name: is required"),
        _input("name blank", {**GOOD_REGISTRY, "name": "   "}, "name: must not be blank"),
        _input("name a number", {**GOOD_REGISTRY, "name": 42}, "name: must be a string"),
        _input("name 5000 characters", {**GOOD_REGISTRY, "name": long}, "at most 255 characters"),
        _input("name with a newline", {**GOOD_REGISTRY, "name": "a\nb"}, "control characters"),
        _input("name with NUL", {**GOOD_REGISTRY, "name": "a\x00b"}, "control characters"),
        _input("name with U+2028", {**GOOD_REGISTRY, "name": "a\u2028b"}, "control characters"),
        _input("registry_type missing", {"name": "Hub"}, "registry_type: is required"),
        _input(
            "registry_type nodion",
            {"name": "Hub", "registry_type": "nodion"},
            "get_nodion_registry",
        ),
        _input("registry_type unknown", {"name": "Hub", "registry_type": "quay"}, "must be one of"),
        _input(
            "registry_type a list", {"name": "Hub", "registry_type": ["ghcr"]}, "must be one of"
        ),
        _input(
            "custom without hostname",
            {"name": "C", "registry_type": "custom"},
            "hostname: is required",
        ),
        _input(
            "hostname with https://",
            {"name": "C", "registry_type": "custom", "hostname": "https://r.io"},
            "without a scheme",
        ),
        _input(
            "hostname with a path",
            {"name": "C", "registry_type": "custom", "hostname": "r.io/team"},
            "without a path",
        ),
        _input(
            "hostname with a space",
            {"name": "C", "registry_type": "custom", "hostname": "r .io"},
            "spaces",
        ),
        _input(
            "hostname port 0",
            {"name": "C", "registry_type": "custom", "hostname": "r.io:0"},
            "invalid port",
        ),
        _input(
            "hostname port 65536",
            {"name": "C", "registry_type": "custom", "hostname": "r.io:65536"},
            "invalid port",
        ),
        _input(
            "hostname port abc",
            {"name": "C", "registry_type": "custom", "hostname": "r.io:abc"},
            "invalid port",
        ),
        _input(
            "hostname with a login",
            {"name": "C", "registry_type": "custom", "hostname": f"u:{SECRET}@r.io"},
            "must not contain a login",
        ),
        _input(
            "hostname unicode",
            {"name": "C", "registry_type": "custom", "hostname": "régistry.io"},
            "DNS name or IP address",
        ),
        _input(
            "hostname empty",
            {"name": "C", "registry_type": "custom", "hostname": ""},
            "must not be blank",
        ),
        _input(
            "username without password",
            {**GOOD_REGISTRY, "username": "u"},
            "password: is required when username is set",
        ),
        _input(
            "password without username",
            {**GOOD_REGISTRY, "password": SECRET},
            "username: is required when password is set",
        ),
        _input(
            "password with a newline",
            {**GOOD_REGISTRY, "username": "u", "password": SECRET + "\n"},
            "password: must not contain control characters",
        ),
        _input("registry_id missing", {}, "registry_id: is required", credentials=True),
        _input(
            "registry_id with a slash",
            {"registry_id": "a/../b"},
            "must be a Nodion registry id",
            credentials=True,
        ),
        _input(
            "registry_id a number",
            {"registry_id": 7},
            "must be a Nodion registry id",
            credentials=True,
        ),
        _input(
            "triggers a list",
            {"registry_id": "abc", "triggers": ["x"]},
            "triggers: must be a mapping",
            credentials=True,
        ),
        _answer(
            "200 with a non-JSON body",
            "UnexpectedResponseError",
            body=b"OK",
            content_type="text/plain",
        ),
        _answer(
            "200 with an HTML page",
            "UnexpectedResponseError",
            body="<html><body>Welcome</body></html>",
            content_type="text/html",
        ),
        _answer("200 with a 5 MiB body", "larger than", body=b"[" + b"0," * (5 * 2**19) + b"0]"),
        _answer("200 without the wrapper", "UnexpectedResponseError", body=REGISTRY_OBJECT),
        _answer(
            "200 missing required fields",
            "UnexpectedResponseError",
            body={"container_registry": {"id": "x"}},
        ),
        _answer(
            "200 with unexpected extra fields",
            "accepted",
            body={"container_registry": {**REGISTRY_OBJECT, "new_field": 1}, "meta": {}},
        ),
        _answer(
            "200 with a future registry_type",
            "accepted",
            body={"container_registry": {**REGISTRY_OBJECT, "registry_type": "quay"}},
        ),
        _answer(
            "list with pagination metadata",
            "accepted",
            body={"container_registries": [REGISTRY_OBJECT], "meta": {"page": 1}},
            call="list",
        ),
        _answer(
            "400 echoing the password",
            "BadRequestError",
            status=400,
            body={"errors": [f"Password {SECRET} is too weak"]},
            call="create",
        ),
        _answer("400 with an empty body", "HTTP 400", status=400, body=b""),
        _answer(
            "404 with Nodion's body",
            "NotFoundError",
            status=404,
            body={"status": 404, "error": "Not Found"},
        ),
        _answer(
            "502 with an HTML page",
            "ServerError",
            status=502,
            body="<html><h1>502 Bad Gateway</h1></html>",
            content_type="text/html",
        ),
        _answer(
            "credentials without a password",
            "UnexpectedResponseError",
            status=201,
            body={"container_registry": {"id": "a", "hostname": "h", "username": "u"}},
            call="credentials",
        ),
        # Answers echoing a secret in the forms a scrubber can miss, or cut inside it.
        _answer(
            "201 credentials cut short",
            "expected JSON, got",
            status=201,
            call="credentials",
            body=json.dumps(
                {
                    "container_registry": {
                        "id": REGISTRY_ID,
                        "hostname": "h",
                        "username": "u",
                        "password": SECRET,
                    }
                },
                separators=(",", ":"),
            ).encode()[:-2],
        ),
        _answer(
            "201 text page echoing the create",
            "bytes of text/plain that is not valid JSON",
            status=201,
            call="create",
            body=f'Request accepted: {{"name": "Hub", "password": "{SECRET}"}}',
            content_type="text/plain",
        ),
        _answer(
            "400 echoing Basic user:password",
            "BadRequestError",
            status=400,
            call="create",
            body={
                "errors": [f"Basic {base64.b64encode(f'u:{SECRET}'.encode()).decode()} rejected"]
            },
        ),
        _answer(
            "400 echoing the password form-encoded",
            "BadRequestError",
            status=400,
            call="create",
            body=f"user=u&password={SECRET}%21",
            content_type="application/x-www-form-urlencoded",
        ),
        _answer(
            "400 echoing the password JSON-escaped",
            "BadRequestError",
            status=400,
            call="create",
            body=json.dumps({"errors": [{"password": [SECRET]}]}),
        ),
        _answer(
            "400 with the password straddling the 256 KiB cut",
            "BadRequestError",
            status=400,
            call="create",
            body=b" " * (256 * 1024 - 12) + SECRET.encode(),
            content_type="text/plain",
        ),
        _answer("200 whose only key is the token", "(1 other key)", body={SECRET: 1}, call="list"),
        _answer(
            "400 nested 951 deep",
            "[[[[…]]]]",
            status=400,
            body=b'{"errors": [' + b"[" * 951 + b"1" + b"]" * 951 + b"]}",
        ),
        _answer(
            "400 whose message holds ESC, a newline and U+202E",
            "\\u202e",
            status=400,
            body={"errors": ["bad \x1b[31m name\u202e\nerror: forged"]},
        ),
        _dribbling_headers(
            "200 whose headers dribble in one byte per 0.25 s", "NodionTimeoutError"
        ),
        # Names that display as something they are not.
        _input(
            "name with U+202E",
            {**GOOD_REGISTRY, "name": "Hub\u202eevil"},
            "must not contain invisible formatting characters",
        ),
        _input(
            "name with a zero-width space",
            {**GOOD_REGISTRY, "name": "Hub\u200b"},
            "must not contain invisible formatting characters",
        ),
        _input(
            "name with an ESC sequence",
            {**GOOD_REGISTRY, "name": "Hub \x1b[31mred"},
            "control characters",
        ),
        _input(
            "hostname with a Cyrillic a (U+0430)",
            {"name": "C", "registry_type": "custom", "hostname": "registry.nodi\u0430n.net"},
            "U+0430 CYRILLIC SMALL LETTER A",
        ),
        _input(
            "hostname with a full-width dot",
            {"name": "C", "registry_type": "custom", "hostname": "registry\uff0eexample.com"},
            "U+FF0E FULLWIDTH FULL STOP",
        ),
        # What a registry says about a password (DESIGN 3a): rejected takes a 401.
        _registry_check(
            "realm answering the login 401",
            "rejected:",
            "r.example.com",
            "https://r.example.com/token",
            401,
        ),
        _registry_check(
            "realm answering the login 403",
            "unknown:",
            "r.example.com",
            "https://r.example.com/token",
            403,
        ),
        _registry_check("realm https://xn--/t", "unknown:", "r.example.com", "https://xn--/t", 200),
        _registry_check(
            "loopback registry, http realm on another host",
            "unknown:",
            "127.0.0.1:5000",
            "http://auth.example.com/token",
            200,
        ),
        _registry_check(
            "https registry, http realm on loopback",
            "unknown:",
            "r.example.com",
            "http://127.0.0.1/token",
            200,
        ),
        _setting(
            "apiUrl http://x.localhost/v1",
            "plain http for a non-loopback host",
            {"NODION_API_URL": "http://x.localhost/v1"},
        ),
        _setting(
            "apiUrl with ?api_key= in its query",
            "ConfigurationError",
            {"NODION_API_URL": f"https://api.nodion.com/v1?api_key={SECRET}"},
        ),
        # The emulator's admin surface: a local process or a web page must not drive it.
        _admin_request("admin call without the token", "HTTP 401", token=False),
        _admin_request("admin call through a rebound name", "HTTP 421", host="evil.example:80"),
        _admin_request(
            "admin change as a form post",
            "HTTP 415",
            method="POST",
            path="/_emulator/faults",
            content_type="application/x-www-form-urlencoded",
            body=b"status=500",
        ),
    ]


def run_all() -> list[Outcome]:
    return [Outcome(case, case.run()) for case in cases()]
