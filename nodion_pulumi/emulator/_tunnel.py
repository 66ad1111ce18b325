"""Plain TCP tunnels for `CONNECT`s to hosts the emulator does not serve.

The `export HTTPS_PROXY=...` line the emulator prints applies to every https client in that
shell, not only to the registry clients it is meant for: pip, curl or git must keep reaching
their own hosts through it. Their bytes pass through untouched (no TLS is terminated), each
tunnel ends when either side closes or both stay silent for a while, and the proxy tracks both
of its sockets so that stopping the emulator ends it.
"""

from __future__ import annotations

import ipaddress
import selectors
import socket

from nodion_pulumi._facts import is_loopback_host

CONNECT_SECONDS = 10.0
"""How long a `CONNECT` waits for the upstream host before answering 502."""

IDLE_SECONDS = 300.0
"""A tunnel silent in both directions for this long is closed, so none lingers for ever."""

_CHUNK = 64 * 1024


def from_this_machine(address: str) -> bool:
    """Whether a client address is loopback: only such clients may be relayed, so that an
    emulator bound elsewhere with --allow-remote is never an open proxy for its network."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped  # how a dual-stack socket reports an IPv4 peer, not a spelling
    return is_loopback_host(str(ip))  # the package's one meaning of loopback


def open_upstream(host: str, port: int, send_timeout: float) -> socket.socket:
    """Connect to `host:port`; OSError says why not (the proxy turns it into a 502)."""
    upstream = socket.create_connection((host, port), timeout=CONNECT_SECONDS)
    # A peer that stops reading blocks a send; this bounds how long.
    upstream.settimeout(send_timeout)
    upstream.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return upstream


def failure_reason(exc: OSError) -> str:
    """A short reason for a 502: `connection refused`, not a traceback or an errno tuple."""
    if isinstance(exc, TimeoutError):
        return f"no answer within {CONNECT_SECONDS:g} s"
    if isinstance(exc, socket.gaierror):
        return f"cannot resolve the name ({exc.strerror or exc})"
    return (exc.strerror or str(exc) or type(exc).__name__).lower()


def relay(
    client: socket.socket, upstream: socket.socket, idle_seconds: float = IDLE_SECONDS
) -> None:
    """Copy bytes both ways until either side closes or fails, or both are silent for
    `idle_seconds`. Closing the sockets is the caller's job; shutting either down (as the
    proxy's stop does) ends the relay at once."""
    peers = {client: upstream, upstream: client}
    with selectors.DefaultSelector() as selector:
        for sock in peers:
            selector.register(sock, selectors.EVENT_READ, data=sock)
        try:
            while True:
                ready = selector.select(idle_seconds)
                if not ready:
                    return
                for key, _ in ready:
                    source: socket.socket = key.data
                    data = source.recv(_CHUNK)
                    if not data:
                        return
                    peers[source].sendall(data)
        except OSError:
            return  # a reset, a send that timed out, or stop() shutting a socket down
