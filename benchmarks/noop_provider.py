"""The floor: the package's two resources with providers that do nothing.

``NoopRegistry`` and ``NoopCredentials`` register under the same type tokens as
``ContainerRegistry`` and ``RegistryCredentials`` and take the same inputs with the same
secret outputs; their providers answer every call at once, without a network call. The
provider classes live in this importable module, so they are pickled by reference like the
package's, and like them they pickle without instance state (``__reduce__``: no dictionary,
so the SDK's dictionary writer, one frame deeper per dynamic resource declared, is never
walked and the floor stays a floor at thousands of resources; see docs/limits.md) and are
not stored as secrets (``serialize_as_secret_always = False``).

The floor is the yardstick of the state target (ours minus the floor, outside the engine's
stack traces), so what it stores has to be what any provider of these resources must
store, no more and no less: the inputs exactly as the program declared them, and as
outputs those inputs plus Nodion's answer, in the same form and length as the emulator
gives it (a UUID id, ``available``, the type's default hostname, millisecond timestamps
with an offset, a robot account with a 43-character password and its docker config). Then
the user's data and Nodion's cancel out, and what the difference leaves is the providers'
own: the serialized provider and any field they write beyond that (a default filled into
the inputs, say). The values are fakes of the right length, never real credentials.
"""

from __future__ import annotations

import base64
import json
import secrets
import uuid
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

from nodion_pulumi._facts import DEFAULT_HOSTNAMES, nodion_registry_hostname

__all__ = ["NoopCredentials", "NoopRegistry"]

_REGISTRY_INPUTS = ("name", "registry_type", "hostname", "username", "password")
_CREDENTIALS_INPUTS = ("registry_id", "triggers")
_TIMESTAMP = "2025-01-15T10:00:00.000+01:00"  # Nodion's form: milliseconds and an offset
# Every region's slug has three letters, so any region's hostname has the length of this one.
_CREDENTIALS_HOSTNAME = nodion_registry_hostname("fra")
_ROBOT_USERNAME = "robot$project-00000000"  # a robot account of a project, as Nodion names it


def _registry(props: dict[str, Any]) -> dict[str, Any]:
    """The declared inputs as Nodion holds them: with the type's default hostname, which
    its answer (and so the outputs) carries; a diff against the outputs compares this."""
    hostname = props.get("hostname") or DEFAULT_HOSTNAMES.get(props.get("registry_type") or "")
    return {**{key: props.get(key) for key in _REGISTRY_INPUTS}, "hostname": hostname}


def _diff(inputs: tuple[str, ...], olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
    changed = [key for key in inputs if olds.get(key) != news.get(key)]
    return DiffResult(changes=bool(changed), replaces=[], stables=[], delete_before_replace=False)


class _NoopProvider(ResourceProvider):
    serialize_as_secret_always = False

    def __reduce__(self) -> tuple[type[_NoopProvider], tuple[()]]:
        # A call of the class without arguments or state: as short as a pickled reference
        # to the class can be, and no dictionary (Python 3.10 pickles an empty ``__dict__``
        # as one).
        return (type(self), ())


class NoopRegistryProvider(_NoopProvider):
    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        return CheckResult({k: news[k] for k in _REGISTRY_INPUTS if news.get(k) is not None}, [])

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        return _diff(_REGISTRY_INPUTS, olds, _registry(news))

    def create(self, props: dict[str, Any]) -> CreateResult:
        outs = {
            **_registry(props),
            "status": "available",
            "has_credentials": props.get("password") is not None,
            "region_id": None,
            "created_at": _TIMESTAMP,
            "updated_at": _TIMESTAMP,
        }
        return CreateResult(str(uuid.uuid4()), outs)

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        return ReadResult(id_, props)

    def update(self, _id: str, _olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        return UpdateResult(news)

    def delete(self, _id: str, _props: dict[str, Any]) -> None:
        return None


class NoopCredentialsProvider(_NoopProvider):
    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        return CheckResult({k: news[k] for k in _CREDENTIALS_INPUTS if news.get(k) is not None}, [])

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        return _diff(_CREDENTIALS_INPUTS, olds, news)

    def create(self, props: dict[str, Any]) -> CreateResult:
        registry_id = props["registry_id"]
        password = secrets.token_urlsafe(32)  # a fake of the length Nodion mints
        auth = base64.b64encode(f"{_ROBOT_USERNAME}:{password}".encode()).decode("ascii")
        login = {"username": _ROBOT_USERNAME, "password": password, "auth": auth}
        outs = {
            "registry_id": registry_id,
            "triggers": props.get("triggers"),
            "hostname": _CREDENTIALS_HOSTNAME,
            "username": _ROBOT_USERNAME,
            "password": password,
            "docker_config_json": json.dumps(
                {"auths": {_CREDENTIALS_HOSTNAME: login}}, sort_keys=True, separators=(",", ":")
            ),
        }
        return CreateResult(registry_id, outs)

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        return ReadResult(id_, props)

    def delete(self, _id: str, _props: dict[str, Any]) -> None:
        return None


_REGISTRY_PROVIDER = NoopRegistryProvider()
_CREDENTIALS_PROVIDER = NoopCredentialsProvider()


class NoopRegistry(Resource, module="nodion", name="ContainerRegistry"):
    """``ContainerRegistry``'s type, inputs and outputs (``password`` a secret output)."""

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


class NoopCredentials(Resource, module="nodion", name="RegistryCredentials"):
    """``RegistryCredentials``' type, inputs and outputs (``password`` and
    ``docker_config_json`` secret)."""

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
