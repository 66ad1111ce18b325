"""The floor: dynamic resources of the same shape as the package's, whose provider does nothing.

Each no-op resource declares the same inputs, outputs and secret outputs as its counterpart
(``ContainerRegistry`` or ``RegistryCredentials``) and its provider answers every call at once
from what it was given, without a network call. The provider is defined in this importable
module, so it is pickled by reference exactly like the package's, and like them it is not
stored as a secret (``serialize_as_secret_always = False``); the difference between a stack of
these and a stack of the real resources is therefore the providers' own cost.
"""

from __future__ import annotations

import itertools
from typing import Any

import pulumi
from pulumi.dynamic import (
    CheckResult,
    CreateResult,
    DiffResult,
    ReadResult,
    Resource,
    ResourceProvider,
    UpdateResult,
)

__all__ = ["NoopCredentials", "NoopRegistry"]

_REGISTRY_INPUTS = ("name", "registry_type", "hostname", "username", "password")
_CREDENTIALS_INPUTS = ("registry_id", "triggers")
_TIMESTAMP = "2025-01-15T10:00:00.000+01:00"
_ids = itertools.count(1)


def _diff(inputs: tuple[str, ...], olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
    changed = [key for key in inputs if olds.get(key) != news.get(key)]
    return DiffResult(changes=bool(changed), replaces=[], stables=[], delete_before_replace=False)


class NoopRegistryProvider(ResourceProvider):
    serialize_as_secret_always = False

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        return CheckResult({k: news[k] for k in _REGISTRY_INPUTS if news.get(k) is not None}, [])

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        return _diff(_REGISTRY_INPUTS, olds, news)

    def create(self, props: dict[str, Any]) -> CreateResult:
        outs = {
            **{key: props.get(key) for key in _REGISTRY_INPUTS},
            "status": "active",
            "has_credentials": True,
            "region_id": None,
            "created_at": _TIMESTAMP,
            "updated_at": _TIMESTAMP,
        }
        return CreateResult(f"noop-registry-{next(_ids):06d}", outs)

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        return ReadResult(id_, props)

    def update(self, _id: str, _olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        return UpdateResult(news)

    def delete(self, _id: str, _props: dict[str, Any]) -> None:
        return None


class NoopCredentialsProvider(ResourceProvider):
    serialize_as_secret_always = False

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        return CheckResult({k: news[k] for k in _CREDENTIALS_INPUTS if news.get(k) is not None}, [])

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        return _diff(_CREDENTIALS_INPUTS, olds, news)

    def create(self, props: dict[str, Any]) -> CreateResult:
        registry_id = props["registry_id"]
        hostname = "registry.noop.nodion.net"
        username = f"noop-{registry_id[:8]}"
        password = "noop-password-0123456789abcdef0123456789abcdef"  # noqa: S105 (not a secret)
        docker_config_json = (
            f'{{"auths":{{"{hostname}":{{"auth":"bm9vcA==","password":"{password}",'
            f'"username":"{username}"}}}}}}'
        )
        outs = {
            "registry_id": registry_id,
            "triggers": props.get("triggers"),
            "hostname": hostname,
            "username": username,
            "password": password,
            "docker_config_json": docker_config_json,
        }
        return CreateResult(registry_id, outs)

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        return ReadResult(id_, props)

    def delete(self, _id: str, _props: dict[str, Any]) -> None:
        return None


_REGISTRY_PROVIDER = NoopRegistryProvider()
_CREDENTIALS_PROVIDER = NoopCredentialsProvider()


class NoopRegistry(Resource, module="bench", name="NoopRegistry"):
    """Shaped like ``ContainerRegistry`` (same properties, ``password`` a secret output)."""

    def __init__(
        self,
        resource_name: str,
        *,
        name: pulumi.Input[str],
        registry_type: pulumi.Input[str],
        hostname: pulumi.Input[str] | None = None,
        username: pulumi.Input[str] | None = None,
        password: pulumi.Input[str] | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        props: dict[str, Any] = {
            "name": name,
            "registry_type": registry_type,
            "hostname": hostname,
            "username": username,
            "password": None if password is None else pulumi.Output.secret(password),
            "adopt_id": None,
            "status": None,
            "has_credentials": None,
            "region_id": None,
            "created_at": None,
            "updated_at": None,
        }
        super().__init__(
            _REGISTRY_PROVIDER,
            resource_name,
            props,
            pulumi.ResourceOptions.merge(
                opts, pulumi.ResourceOptions(additional_secret_outputs=["password"])
            ),
        )


class NoopCredentials(Resource, module="bench", name="NoopCredentials"):
    """Shaped like ``RegistryCredentials`` (``password`` and ``docker_config_json`` secret)."""

    def __init__(
        self,
        resource_name: str,
        *,
        registry_id: pulumi.Input[str],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        props: dict[str, Any] = {
            "registry_id": registry_id,
            "triggers": None,
            "hostname": None,
            "username": None,
            "password": None,
            "docker_config_json": None,
        }
        super().__init__(
            _CREDENTIALS_PROVIDER,
            resource_name,
            props,
            pulumi.ResourceOptions.merge(
                opts,
                pulumi.ResourceOptions(
                    additional_secret_outputs=["password", "docker_config_json"]
                ),
            ),
        )
