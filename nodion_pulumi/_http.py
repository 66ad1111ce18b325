"""The one factory of this package's ``httpx.Client``\\ s.

Two kinds of client leave this package: the API client, which carries the API token, and the
registry verifier, which carries a registry password. Both must follow the same rules, so
they are built in one place: every client names this package in its ``User-Agent`` and never
follows a redirect, since a redirect would carry the token or the password to whatever host
the answer names.
"""

from __future__ import annotations

from collections.abc import Mapping

import httpx

from nodion_pulumi._version import __version__

__all__ = ["USER_AGENT", "new_http_client", "url_for_messages"]

USER_AGENT = f"nodion-pulumi/{__version__} (python-httpx/{httpx.__version__})"
_HTTPX_DEFAULT_LIMITS = httpx.Limits(max_connections=100, max_keepalive_connections=20)


def new_http_client(
    *,
    timeout: httpx.Timeout,
    base_url: str = "",
    headers: Mapping[str, str] | None = None,
    limits: httpx.Limits = _HTTPX_DEFAULT_LIMITS,
    transport: httpx.BaseTransport | None = None,
    trust_env: bool = True,
) -> httpx.Client:
    """A client that identifies itself and refuses redirects.

    ``trust_env`` says whether the proxy and CA variables of the environment apply (they
    must not capture requests to a local emulator); ``transport`` replaces the network in
    tests; ``limits`` bounds the connection pool.
    """
    return httpx.Client(
        base_url=base_url,
        headers={"User-Agent": USER_AGENT, **(headers or {})},
        timeout=timeout,
        transport=transport,
        follow_redirects=False,
        trust_env=trust_env,
        limits=limits,
    )


def url_for_messages(url: httpx.URL) -> str:
    """A URL as errors and verdicts show it: scheme, host, port and path, without a login,
    the query or the fragment (a login or a query may hold a credential: a token realm's
    URL is whatever the registry names)."""
    return str(url.copy_with(userinfo=b"", query=None, fragment=None))
