"""A tiny dynamic provider, importable so the engine's provider process can load it by reference."""

from __future__ import annotations

from typing import Any

import pulumi
from pulumi.dynamic import CreateResult, ReadResult, Resource, ResourceProvider


def derived_secret(value: str) -> str:
    """What the provider computes as its secret output; tests recompute it to scan for it."""
    return f"smoke-secret-{value}-7f3a9c"


class EchoProvider(ResourceProvider):
    def create(self, props: dict[str, Any]) -> CreateResult:
        return CreateResult(
            id_=f"echo-{props['value']}",
            outs={"value": props["value"], "token": derived_secret(props["value"])},
        )

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        return ReadResult(id_, props)

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        return None


class Echo(Resource):
    value: pulumi.Output[str]
    token: pulumi.Output[str]

    def __init__(self, name: str, value: str, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(
            EchoProvider(),
            name,
            {"value": value, "token": None},
            pulumi.ResourceOptions.merge(
                opts, pulumi.ResourceOptions(additional_secret_outputs=["token"])
            ),
        )
