"""The test CA and server certificate the emulated registries present, and the trust bundle
that `SSL_CERT_FILE` points to.

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


def write_trust_bundle(ca_path: Path, bundle_path: Path) -> None:
    """Write the test CA followed by the CAs this machine already trusts to `bundle_path`.

    `SSL_CERT_FILE` replaces a client's trust store rather than adding to it; pointing it at
    the test CA alone would make every other https host fail verification in the shell the
    emulator's export lines were pasted into. With the system's CAs appended, the emulated
    registries verify and so does everything else.
    """
    parts = [ca_path.read_text()]
    system = _system_ca_file()
    if system is not None:
        parts.append(system.read_text(errors="replace"))
    bundle_path.write_text("\n".join(part.rstrip("\n") + "\n" for part in parts))


def _system_ca_file() -> Path | None:
    """The PEM bundle OpenSSL trusts by default, else certifi's (a dependency of httpx)."""
    paths = ssl.get_default_verify_paths()
    for candidate in (paths.cafile, paths.openssl_cafile):
        if candidate and Path(candidate).is_file():
            return Path(candidate)
    try:
        import certifi
    except ImportError:
        return None
    return Path(certifi.where())
