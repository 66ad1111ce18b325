"""The provider plugin: Nodion's resources and lookups for every Pulumi language.

One implementation serves both surfaces. This class only adapts the plugin protocol
(``pulumi.provider.experimental``: camelCase ``PropertyValue`` maps, secrets and unknowns
marked per value, async calls) to the package's providers, the same objects the dynamic
resources use: validation, diff, the one-owner checks, lost-create recovery, verification
on refresh, errors and redaction all come from there. What is the plugin's own: names
(``schema.json``), which outputs are secret, the detailed diff the engine shows, refusing
inputs the schema does not list, and the functions' results.

The providers block on HTTP, so each call runs in a worker thread: the engine sends many
resources' calls at once, as it does to the dynamic providers' host.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Mapping
from functools import cache
from importlib import resources
from typing import Any, TypeVar

from pulumi.provider.experimental.property_value import PropertyValue
from pulumi.provider.experimental.provider import (
    CheckFailure,
    CheckRequest,
    CheckResponse,
    ConfigureRequest,
    ConfigureResponse,
    CreateRequest,
    CreateResponse,
    DeleteRequest,
    DiffRequest,
    DiffResponse,
    GetSchemaRequest,
    GetSchemaResponse,
    InvokeRequest,
    InvokeResponse,
    PropertyDiff,
    PropertyDiffKind,
    Provider,
    ReadRequest,
    ReadResponse,
    UpdateRequest,
    UpdateResponse,
)

from nodion_pulumi._advice import advise
from nodion_pulumi._config import CONFIG_API_TOKEN, CONFIG_KEYS
from nodion_pulumi._credentials_provider import RegistryCredentialsProvider
from nodion_pulumi._errors import NodionError
from nodion_pulumi._facts import PLUGIN_PACKAGE
from nodion_pulumi._models import Registry
from nodion_pulumi._provider import NodionProvider
from nodion_pulumi._region_lookup import nodion_registry_for
from nodion_pulumi._registry_provider import ContainerRegistryProvider
from nodion_pulumi._runtime import current
from nodion_pulumi.plugin._properties import (
    SECRET_OUTPUTS,
    camel,
    from_engine,
    plain_values,
    snake,
    to_engine,
)

__all__ = ["NodionPlugin", "schema"]

_T = TypeVar("_T")

CONTAINER_REGISTRY = f"{PLUGIN_PACKAGE}:index:ContainerRegistry"
REGISTRY_CREDENTIALS = f"{PLUGIN_PACKAGE}:index:RegistryCredentials"
GET_CONTAINER_REGISTRIES = f"{PLUGIN_PACKAGE}:index:getContainerRegistries"
GET_CONTAINER_REGISTRY = f"{PLUGIN_PACKAGE}:index:getContainerRegistry"
GET_NODION_REGISTRY = f"{PLUGIN_PACKAGE}:index:getNodionRegistry"


@cache
def schema() -> dict[str, Any]:
    """The committed ``schema.json``: what the plugin serves, and the inputs it accepts."""
    text = resources.files("nodion_pulumi.plugin").joinpath("schema.json").read_text()
    loaded: dict[str, Any] = json.loads(text)
    return loaded


def _inputs_of(token: str) -> tuple[str, ...]:
    """The snake_case names of a resource's inputs, as the schema lists them."""
    return tuple(snake(name) for name in schema()["resources"][token]["inputProperties"])


def _secret_names(properties: Mapping[str, PropertyValue]) -> frozenset[str]:
    """The always-secret outputs, and whatever the program itself passed as a secret."""
    given = {snake(key) for key, value in properties.items() if value.contains_secret()}
    return SECRET_OUTPUTS | given


def _setting(value: Any) -> Any:
    """A configuration value as the stack's configuration holds it: a string (typed
    languages send numbers and booleans as such)."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int | float):
        return str(value)
    return value


#: The provider's settings as the engine names its inputs: ``apiToken``, ``apiUrl``, ...
_SETTING_NAMES = tuple(key.split(":", 1)[1] for key in CONFIG_KEYS)


def _settings_of(properties: Mapping[str, PropertyValue]) -> dict[str, Any]:
    """The provider's settings among its inputs, as :meth:`NodionPlugin.configure` takes
    them (typed languages' numbers and booleans as strings)."""
    given = plain_values(properties)
    return {name: _setting(given[name]) for name in _SETTING_NAMES if name in given}


def _refusing_unknown_inputs(token: str, given: Mapping[str, Any]) -> list[CheckFailure]:
    """Inputs the schema does not list, each refused by name: the providers would ignore
    them, and a program that sets one expects it to do something."""
    known = _inputs_of(token)
    listed = ", ".join(camel(name) for name in known)
    return [
        CheckFailure(camel(name), f"{token} has no input {camel(name)!r}; its inputs are {listed}")
        for name in given
        if name not in known
    ]


def _detailed_diff(
    token: str,
    olds: Mapping[str, Any],
    news: Mapping[str, Any],
    stables: list[str],
    replaces: list[str],
) -> dict[str, PropertyDiff]:
    """What the engine shows per input: added, deleted or updated, and whether it
    replaces the resource."""
    kinds = {
        (True, True): (PropertyDiffKind.UPDATE, PropertyDiffKind.UPDATE_REPLACE),
        (False, True): (PropertyDiffKind.ADD, PropertyDiffKind.ADD_REPLACE),
        (True, False): (PropertyDiffKind.DELETE, PropertyDiffKind.DELETE_REPLACE),
    }
    detailed = {}
    for name in _inputs_of(token):
        presence = (olds.get(name) is not None, news.get(name) is not None)
        if name in stables or presence == (False, False):
            continue
        in_place, replacing = kinds[presence]
        detailed[camel(name)] = PropertyDiff(replacing if name in replaces else in_place, True)
    return detailed


class NodionPlugin(Provider):
    """The plugin's provider: each request adapted to the package's providers."""

    def __init__(self) -> None:
        self._resources: dict[str, NodionProvider] = {
            CONTAINER_REGISTRY: ContainerRegistryProvider(),
            REGISTRY_CREDENTIALS: RegistryCredentialsProvider(),
        }
        self._config: dict[str, Any] = {}
        self._functions: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
            GET_CONTAINER_REGISTRIES: self._get_container_registries,
            GET_CONTAINER_REGISTRY: self._get_container_registry,
            GET_NODION_REGISTRY: self._get_nodion_registry,
        }

    def _provider(self, token: str) -> NodionProvider:
        try:
            return self._resources[token]
        except KeyError:
            raise NodionError(
                f"the nodion plugin has no resource {token}; it has "
                + ", ".join(sorted(self._resources))
            ) from None

    @staticmethod
    async def _run(operation: Callable[..., _T], *args: Any) -> _T:
        return await asyncio.to_thread(operation, *args)

    async def get_schema(self, request: GetSchemaRequest) -> GetSchemaResponse:
        return GetSchemaResponse(json.dumps(schema()))

    async def check_config(self, request: CheckRequest) -> CheckResponse:
        # The token is stored with the provider's inputs: encrypted, however it was given.
        inputs = {
            key: value.with_secret(True) if f"{PLUGIN_PACKAGE}:{key}" == CONFIG_API_TOKEN else value
            for key, value in request.new_inputs.items()
        }
        return CheckResponse(inputs=inputs)

    async def diff_config(self, request: DiffRequest) -> DiffResponse:
        """Which ``nodion:*`` settings changed: an update of the provider, never a
        replacement (nothing Nodion holds depends on how it was reached).

        The answer must be a change whenever a setting changed: the engine configures a
        provider it was told is unchanged with the *old* configuration, so a new
        ``nodion:apiUrl``, token or project would be ignored by the next ``up``. Only the
        settings are compared: the engine's own keys (``version``) say nothing about them.
        """
        olds = _settings_of(request.old_state)
        news = _settings_of(request.new_inputs)
        changed = [name for name in _SETTING_NAMES if olds.get(name) != news.get(name)]
        return DiffResponse(changes=bool(changed), diffs=changed)

    async def configure(self, request: ConfigureRequest) -> ConfigureResponse:
        """Settings from the provider's inputs (the ``nodion:*`` stack configuration), the
        same keys the dynamic providers read; what is unset falls back to ``NODION_*``."""
        given = {
            f"{PLUGIN_PACKAGE}:{key}": value for key, value in plain_values(request.args).items()
        }
        for variable, value in request.variables.items():
            key = variable.replace(":config:", ":", 1)
            given.setdefault(key, value)
        self._config = {key: _setting(given[key]) for key in CONFIG_KEYS if key in given}
        for provider in self._resources.values():
            provider.use_configuration(self._config)
        # No preview of create or update: the engine shows the inputs and marks the rest
        # unknown, which is all a preview could say without writing.
        return ConfigureResponse(accept_secrets=True, supports_preview=False)

    async def check(self, request: CheckRequest) -> CheckResponse:
        provider = self._provider(request.type)
        given = from_engine(request.new_inputs)
        news = {key: value for key, value in given.items() if key in _inputs_of(request.type)}
        result = await self._run(provider.check, from_engine(request.old_inputs), news)
        failures = _refusing_unknown_inputs(request.type, given)
        failures += [CheckFailure(camel(f.property), f.reason) for f in result.failures or []]
        inputs = to_engine(result.inputs, _secret_names(request.new_inputs))
        return CheckResponse(inputs=inputs, failures=failures)

    async def diff(self, request: DiffRequest) -> DiffResponse:
        provider = self._provider(request.type)
        olds = from_engine(request.old_state)
        news = from_engine(request.new_inputs)
        result = await self._run(provider.diff, request.resource_id, olds, news)
        replaces = result.replaces or []
        stables = result.stables or []
        return DiffResponse(
            changes=result.changes,
            replaces=[camel(name) for name in replaces],
            stables=[camel(name) for name in stables],
            delete_before_replace=bool(result.delete_before_replace),
            detailed_diff=_detailed_diff(request.type, olds, news, stables, replaces),
        )

    async def create(self, request: CreateRequest) -> CreateResponse:
        provider = self._provider(request.type)
        result = await self._run(provider.create, from_engine(request.properties))
        outputs = to_engine(result.outs or {}, _secret_names(request.properties))
        return CreateResponse(result.id, outputs)

    async def read(self, request: ReadRequest) -> ReadResponse:
        provider = self._provider(request.type)
        state = from_engine(request.properties)
        result = await self._run(provider.read, request.resource_id, state)
        if not result.id:
            return ReadResponse()  # gone: the engine drops it from the state
        secret = _secret_names(request.properties)
        return ReadResponse(
            result.id, to_engine(result.outs or {}, secret), to_engine(result.inputs or {}, secret)
        )

    async def update(self, request: UpdateRequest) -> UpdateResponse:
        provider = self._provider(request.type)
        olds = from_engine(request.olds)
        result = await self._run(
            provider.update, request.resource_id, olds, from_engine(request.news)
        )
        secret = _secret_names(request.olds) | _secret_names(request.news)
        return UpdateResponse(to_engine(result.outs or {}, secret))

    async def delete(self, request: DeleteRequest) -> None:
        provider = self._provider(request.type)
        await self._run(provider.delete, request.resource_id, from_engine(request.properties))

    async def invoke(self, request: InvokeRequest) -> InvokeResponse:
        function = self._functions.get(request.tok)
        if function is None:
            raise NodionError(
                f"the nodion plugin has no function {request.tok}; it has "
                + ", ".join(sorted(self._functions))
            )
        try:
            result = await self._run(function, from_engine(request.args))
        except NodionError as error:
            raise advise(error).with_traceback(None) from None
        return InvokeResponse(to_engine(result, secret=()))

    def _client_registries(self) -> list[Registry]:
        return list(current().client(self._config).list_registries())

    def _get_container_registries(self, _args: dict[str, Any]) -> dict[str, Any]:
        return {"registries": [_result(registry) for registry in self._client_registries()]}

    def _get_container_registry(self, args: dict[str, Any]) -> dict[str, Any]:
        return _result(current().client(self._config).get_registry(args.get("id", "")))

    def _get_nodion_registry(self, args: dict[str, Any]) -> dict[str, Any]:
        return _result(nodion_registry_for(args.get("region"), self._client_registries))


def _result(registry: Registry) -> dict[str, Any]:
    """A registry as the functions return it: the schema's ``Registry``, in camelCase."""
    return {camel(key): value for key, value in registry.as_output().items()}
