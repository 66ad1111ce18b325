"""The test CA and server certificate the emulated registries present.

trustme is an optional extra imported only here, and only when registries are served: the
emulator without them (and every provider process) must not pay for `cryptography`.
"""

from __future__ import annotations

import ssl
from collections.abc import Iterable
from pathlib import Path

INSTALL_HINT = "pip install 'nodion-pulumi[emulator]'"


def server_context(hostnames: Iterable[str], ca_path: Path) -> ssl.SSLContext:
    """A TLS server context for `hostnames`, its CA certificate written to `ca_path` (PEM).

    A fresh CA per start: nothing outside the temp directory ever learns to trust it.
    """
    try:
        import trustme
    except ImportError:
        raise RuntimeError(
            "serving registries (serve_registries=True, --serve-registries) needs the trustme "
            f"package to mint the test CA, and it is not installed: {INSTALL_HINT}"
        ) from None
    ca = trustme.CA(organization_name="nodion-pulumi emulator")
    certificate = ca.issue_cert(*hostnames)
    ca.cert_pem.write_to_path(str(ca_path))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    # The registry speaks HTTP/1.1 only; saying so keeps Go clients from trying h2.
    context.set_alpn_protocols(["http/1.1"])
    certificate.configure_cert(context)
    return context
