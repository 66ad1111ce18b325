"""One wall-clock deadline per API request, its response headers included.

httpx's timeouts bound each socket operation, not a request: a server that sends one byte of
its headers every half second never lets a 2 s read timeout fire, and holds the request (and
the Pulumi operation behind it) for as long as it likes. The body is bounded by the reading
loop of :mod:`nodion_pulumi._sending`; the headers are read inside httpcore, out of reach.

So every request carries httpcore's ``trace`` extension, :func:`bound_streams`, which sees
each network stream the moment a connection opens it (``connect_tcp``, ``start_tls``) and
makes its ``read``, ``write`` and TLS handshake take at most the time left before the
deadline of the request using the connection, which :func:`request_deadline` sets for the
sending thread. A connection kept alive and reused by a later request is bound already, and
obeys that request's deadline. Past the deadline, a read or write fails with httpcore's own timeout,
which httpx reports as a timeout like any other, and the connection is closed.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

import httpcore

__all__ = ["bound_streams", "request_deadline"]

# The deadline (time.monotonic()) of the request the current thread is sending, if any.
_deadline: ContextVar[float | None] = ContextVar("nodion_request_deadline", default=None)

# The trace events whose return value is a connection's new network stream (the prefix,
# "connection." or "proxy.", names the httpcore module that opened it).
_NEW_STREAM_EVENTS = ("connect_tcp.complete", "connect_unix_socket.complete", "start_tls.complete")


@contextmanager
def request_deadline(seconds: float) -> Iterator[None]:
    """Bound every read and write of the streams :func:`bound_streams` bound, in this
    thread, to ``seconds`` from now."""
    token = _deadline.set(time.monotonic() + seconds)
    try:
        yield
    finally:
        _deadline.reset(token)


def bound_streams(event: str, info: dict[str, Any]) -> None:
    """httpcore's ``trace`` extension: bind each new stream to the requests' deadlines."""
    if event.endswith(_NEW_STREAM_EVENTS):
        stream = info.get("return_value")
        if stream is not None and not getattr(stream, "_nodion_bound", False):
            _bind(stream)


def _bind(stream: Any) -> None:
    read: Callable[..., bytes] = stream.read
    write: Callable[..., None] = stream.write

    def bounded_read(max_bytes: int, timeout: float | None = None) -> bytes:
        return read(max_bytes, _time_left(timeout, httpcore.ReadTimeout))

    def bounded_write(buffer: bytes, timeout: float | None = None) -> None:
        write(buffer, _time_left(timeout, httpcore.WriteTimeout))

    start_tls: Callable[..., Any] | None = getattr(stream, "start_tls", None)
    try:
        stream.read = bounded_read
        stream.write = bounded_write
        if start_tls is not None:
            stream.start_tls = _bounded_start_tls(start_tls)
        stream._nodion_bound = True
    except AttributeError:
        # A stream type that takes no attributes (another httpcore backend): its requests
        # keep httpx's per-read timeouts rather than fail.
        return


def _bounded_start_tls(start_tls: Callable[..., Any]) -> Callable[..., Any]:
    """``start_tls`` held to the request's deadline: Python's TLS handshake takes its timeout
    as one deadline for the whole handshake, so giving it the time left bounds all of it."""

    def bounded_start_tls(
        ssl_context: Any, server_hostname: str | None = None, timeout: float | None = None
    ) -> Any:
        timeout = _time_left(timeout, httpcore.ConnectTimeout)
        return start_tls(ssl_context, server_hostname, timeout)

    return bounded_start_tls


def _time_left(timeout: float | None, expired: type[Exception]) -> float | None:
    """``timeout`` shortened to what is left of the current request's deadline; raises
    ``expired`` once nothing is left."""
    deadline = _deadline.get()
    if deadline is None:
        return timeout
    left = deadline - time.monotonic()
    if left <= 0:
        raise expired("the request's deadline passed")
    return left if timeout is None else min(timeout, left)
