"""Hostile input: bad resource inputs and bad API answers, each with the error expected.

Inputs go through the providers' ``check`` (what preview runs) on providers that were never
configured, so any API call would fail loudly: a rejected input provably makes no request.
Answers are served to the real client by an ``httpx.MockTransport``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from pydantic import SecretStr

from nodion_pulumi import NO_RETRY, NodionClient, NodionError, Settings
from nodion_pulumi.container_registry import ContainerRegistryProvider
from nodion_pulumi.registry_credentials import RegistryCredentialsProvider

SECRET = "hostile-secret-9d41c7"  # noqa: S105 (a marker to scan for, not a credential)
GOOD_REGISTRY = {"name": "Hub", "registry_type": "docker_hub"}
# The spec's own example object, as saved for the contract tests.
REGISTRY_OBJECT: dict[str, Any] = json.loads(
    (Path(__file__).resolve().parents[1] / "tests/fixtures/spec/get_registry.json").read_text()
)["container_registry"]
REGISTRY_ID: str = REGISTRY_OBJECT["id"]


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
        return self.case.expected in self.actual and SECRET not in self.actual


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
    ]


def run_all() -> list[Outcome]:
    return [Outcome(case, case.run()) for case in cases()]
