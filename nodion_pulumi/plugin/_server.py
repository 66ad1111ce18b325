"""Serving the plugin over gRPC, with our errors as one message.

The SDK's servicer (``pulumi.provider.experimental.server``) turns any exception into its
message followed by the Python stack, and the CLI prints both: a screen of our frames above
the line that says what to do. Our errors carry everything in their message (advised at the
provider boundary, ``nodion_pulumi._operations``), so here they leave as that message alone,
the gRPC status the engine shows; anything else (a bug) keeps its stack.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import sys
from collections.abc import Awaitable, Callable
from typing import Any

import grpc  # type: ignore[import-untyped]
from pulumi.provider.experimental.property_value import PropertyValue
from pulumi.provider.experimental.provider import DiffRequest, Provider
from pulumi.provider.experimental.server import ProviderServicer
from pulumi.runtime.proto import engine_pb2, engine_pb2_grpc, provider_pb2, provider_pb2_grpc

from nodion_pulumi._errors import NodionError
from nodion_pulumi._runtime import current

__all__ = ["serve"]

# The calls the engine makes of this plugin (the rest stay the SDK's defaults).
_CALLS = (
    "GetSchema",
    "CheckConfig",
    "DiffConfig",
    "Configure",
    "Invoke",
    "Check",
    "Diff",
    "Create",
    "Read",
    "Update",
    "Delete",
)

# As the SDK's own server: state documents of many resources exceed gRPC's 4 MB default.
_MAX_MESSAGE = 400 * 1024 * 1024

_Call = Callable[[Any, Any, Any], Awaitable[Any]]


def _ours(error: BaseException) -> NodionError | None:
    """Our error behind ``error``: itself, or the one the SDK re-raised with a stack."""
    for candidate in (error, error.__cause__, error.__context__):
        if isinstance(candidate, NodionError):
            return candidate
    return None


def _as_one_message(call: _Call) -> _Call:
    @functools.wraps(call)
    async def reporting(self: Any, request: Any, context: Any) -> Any:
        try:
            return await call(self, request, context)
        except Exception as error:
            ours = _ours(error)
            if ours is None:
                raise
            await context.abort(grpc.StatusCode.UNKNOWN, str(ours))

    return reporting


# What a provider's ``changes`` means on the wire: an enum, not a bool.
_CHANGES = {
    None: provider_pb2.DiffResponse.DIFF_UNKNOWN,
    False: provider_pb2.DiffResponse.DIFF_NONE,
    True: provider_pb2.DiffResponse.DIFF_SOME,
}


class _Servicer(ProviderServicer):
    """The SDK's servicer, with our errors reported as their message."""

    async def DiffConfig(self, request: Any, context: Any) -> Any:
        """The provider's ``diff_config`` answer, sent as the engine reads it.

        The SDK's own ``DiffConfig`` puts the answer's ``changes`` (a bool) into the wire
        enum as a number: ``True`` arrives as ``DIFF_NONE``. The engine then configures the
        provider with the *old* configuration, and the first ``up`` after
        ``pulumi config set nodion:apiUrl`` (or a new token or project) still talks to the
        old one. Only the changed names are sent: the engine shows the values itself,
        secrets masked.
        """
        answer = await self._provider.diff_config(
            DiffRequest(
                request.urn,
                request.id,
                PropertyValue.unmarshal_map(request.olds),
                PropertyValue.unmarshal_map(request.news),
                list(request.ignoreChanges),
            )
        )
        return provider_pb2.DiffResponse(
            changes=_CHANGES[answer.changes],
            replaces=answer.replaces,
            stables=answer.stables,
            deleteBeforeReplace=answer.delete_before_replace,
            diffs=answer.diffs,
        )


for _name in _CALLS:
    setattr(_Servicer, _name, _as_one_message(getattr(_Servicer, _name)))


def _engine_log(engine_address: str) -> Callable[[str], None]:
    """A warning sink writing to the engine's log, which the CLI shows; the engine hides a
    plugin's stderr. Called from the worker threads the operations run in."""
    engine = engine_pb2_grpc.EngineStub(grpc.insecure_channel(engine_address))

    def warn(message: str) -> None:
        try:
            engine.Log(engine_pb2.LogRequest(severity=engine_pb2.WARNING, message=message))
        except grpc.RpcError:
            print(f"warning: {message}", file=sys.stderr, flush=True)  # the engine is gone

    return warn


def serve(provider: Provider, version: str, argv: list[str]) -> None:
    """Serve ``provider`` until the engine goes: print the port for the engine, as every
    plugin does, then answer its calls."""
    parser = argparse.ArgumentParser(description="The Nodion provider plugin (gRPC server)")
    parser.add_argument("engine", help="the Pulumi engine's address")
    known, _ = parser.parse_known_args(argv)
    current().send_warnings_to(_engine_log(known.engine))

    async def run() -> None:
        server = grpc.aio.server(
            options=[
                ("grpc.max_receive_message_length", _MAX_MESSAGE),
                ("grpc.max_send_message_length", _MAX_MESSAGE),
            ]
        )
        servicer = _Servicer(argv, version, provider, engine_address=known.engine)
        provider_pb2_grpc.add_ResourceProviderServicer_to_server(servicer, server)
        port = server.add_insecure_port(address="127.0.0.1:0")
        await server.start()
        sys.stdout.write(f"{port}\n")
        sys.stdout.flush()
        await server.wait_for_termination()

    with contextlib.suppress(KeyboardInterrupt):  # the engine stopping the plugin
        asyncio.run(run())
