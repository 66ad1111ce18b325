"""The `Emulator` object: wires store, API, faults and server, and runs them in a thread."""

from __future__ import annotations

import os
import shutil
import socketserver
import tempfile
import threading
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from types import TracebackType
from typing import Any

from nodion_pulumi._facts import is_loopback_host
from nodion_pulumi.emulator._admin import EmulatorAdmin
from nodion_pulumi.emulator._api import RegistryApi
from nodion_pulumi.emulator._clock import Clock, system_time
from nodion_pulumi.emulator._control import ControlApi
from nodion_pulumi.emulator._faults import FaultSet
from nodion_pulumi.emulator._log import RegistryRequestLog, RequestLog
from nodion_pulumi.emulator._proxy import RegistryProxy
from nodion_pulumi.emulator._regions import (
    DEFAULT_PROJECT_ID,
    DEFAULT_REGIONS,
    REGIONS,
    nodion_registry_id,
    normalize_regions,
)
from nodion_pulumi.emulator._registry import RegistryRealm
from nodion_pulumi.emulator._server import App, EmulatorServer
from nodion_pulumi.emulator._store import Store

_STOP_GRACE_SECONDS = 5.0
NO_PROXY = "127.0.0.1,localhost,::1"
"""What `registry_environment()` keeps away from the proxy: the emulator's own API."""

STATE_FORMAT = 1
"""Version of what `export_state` writes; `restore_state` refuses any other."""

_STATE_FIELDS = (
    "id",
    "registry_type",
    "name",
    "hostname",
    "region_slug",
    "region_id",
    "username",
    "secret_digest",
    "created_at",
    "updated_at",
)
_REQUIRED_FIELDS = ("id", "registry_type", "name", "hostname", "created_at", "updated_at")


class Emulator:
    """A local Nodion API on loopback, for demos, tests and users' own tests.

    `token=None` accepts any non-empty bearer token, which is what a throwaway test wants;
    pass a token to also exercise the 401 path. `data_path=None` keeps everything in memory.
    `verbose=True` restores the per-request stderr lines that are otherwise suppressed.

    `serve_registries=True` also serves the registries behind the Nodion registries under their
    real hostnames, through an HTTPS proxy on the same host: `registry_environment()` gives the
    `HTTPS_PROXY`/`SSL_CERT_FILE` a client (the provider, crane, docker) needs to reach them.
    It needs the `emulator` extra: `pip install 'nodion-pulumi[emulator]'`.

    `host` must be a loopback address unless `allow_remote=True`: anyone who can reach the
    port can use the API, and without a `token` any bearer is accepted.

    `clock` is where `created_at` and `updated_at` come from (an aware `datetime` each call):
    a test that needs them to move passes a clock it advances.
    """

    def __init__(
        self,
        token: str | None = None,
        data_path: str | os.PathLike[str] | None = None,
        regions: Sequence[str] = DEFAULT_REGIONS,
        host: str = "127.0.0.1",
        port: int = 0,
        project_id: str = DEFAULT_PROJECT_ID,
        *,
        verbose: bool = False,
        serve_registries: bool = False,
        clock: Clock = system_time,
        allow_remote: bool = False,
    ) -> None:
        try:
            uuid.UUID(project_id)
        except (ValueError, AttributeError, TypeError):
            raise ValueError(f"project_id must be a UUID, got {project_id!r}") from None
        if token is not None and not token.strip():
            raise ValueError("token must be non-empty when given (use None to accept any)")
        if not allow_remote and not is_loopback_host(host):
            raise ValueError(
                f"host={host!r} is not a loopback address: Emulator(host=...) takes "
                "127.0.0.1 (or another 127.x address), localhost or ::1; pass "
                "allow_remote=True to listen elsewhere (the emulator has no real security)"
            )
        self.token = token
        self.data_path = data_path
        self.regions = normalize_regions(regions)
        self.host = host
        self.project_id = project_id
        self.verbose = verbose
        self.serve_registries = serve_registries
        self.clock = clock
        self._requested_port = port
        self._server: EmulatorServer | None = None
        self._thread: threading.Thread | None = None
        self._store: Store | None = None
        self._api: RegistryApi | None = None
        self._admin: EmulatorAdmin | None = None
        self._proxy: RegistryProxy | None = None
        self._proxy_thread: threading.Thread | None = None
        self._tls_dir: Path | None = None

    def start(self) -> Emulator:
        if self._server is not None:
            raise RuntimeError("emulator already started")
        store = Store(self.data_path, self.project_id)
        try:
            api = RegistryApi(store, self.project_id, self.clock)
            api.seed(self.regions)
            faults, log, registry_log = FaultSet(), RequestLog(), RegistryRequestLog()
            control = ControlApi(store, api, faults, log, registry_log)
            app = App(api, control, faults, log, self.token, self.project_id)
            if self.serve_registries:
                self._start_proxy(RegistryRealm(store, registry_log))
            server = EmulatorServer((self.host, self._requested_port), app, ipv6=":" in self.host)
        except BaseException:
            self._stop_proxy()
            store.close()
            raise
        server.verbose = self.verbose
        self._store, self._api, self._server = store, api, server
        self._thread = _serve_in_background(server, f"nodion-emulator-{self.port}")
        return self

    def _start_proxy(self, realm: RegistryRealm) -> None:
        # Imported here: trustme (and cryptography behind it) load only when registries are on.
        from nodion_pulumi.emulator._tls import server_context, write_trust_bundle

        self._tls_dir = Path(tempfile.mkdtemp(prefix="nodion-emulator-tls-"))
        # Every region's hostname, not only the seeded ones: a data file or restore_state can
        # bring others, and the proxy decides per CONNECT which registries exist.
        hostnames = sorted(region.registry_hostname for region in REGIONS.values())
        context = server_context(hostnames, self._tls_dir / "ca.pem")
        write_trust_bundle(self._tls_dir / "ca.pem", self._tls_dir / "trust.pem")
        proxy = RegistryProxy((self.host, 0), realm, context, ipv6=":" in self.host)
        proxy.verbose = self.verbose
        self._proxy = proxy
        self._proxy_thread = _serve_in_background(
            proxy, f"nodion-emulator-registries-{proxy.server_address[1]}"
        )

    def _stop_proxy(self) -> None:
        proxy, thread, tls_dir = self._proxy, self._proxy_thread, self._tls_dir
        self._proxy = self._proxy_thread = self._tls_dir = None
        if proxy is not None:
            if thread is not None:
                proxy.shutdown()
            proxy.close_connections()
            proxy.server_close()
        if thread is not None:
            thread.join(_STOP_GRACE_SECONDS)
        if tls_dir is not None:
            shutil.rmtree(tls_dir, ignore_errors=True)

    def stop(self) -> None:
        server, thread, store = self._server, self._thread, self._store
        self._server = self._thread = self._store = self._api = None
        if self._admin is not None:
            self._admin.close()
            self._admin = None
        self._stop_proxy()
        if server is None:
            return
        server.shutdown()
        server.wait_idle(_STOP_GRACE_SECONDS)
        server.close_connections()
        server.server_close()
        if thread is not None:
            thread.join(_STOP_GRACE_SECONDS)
        if store is not None:
            store.close()

    @property
    def running(self) -> bool:
        return self._server is not None

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("emulator is not running; call start() first")
        return int(self._server.server_address[1])

    @property
    def root_url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def url(self) -> str:
        return f"{self.root_url}/v1"

    @property
    def registry_proxy_url(self) -> str:
        """`http://host:port` of the HTTPS proxy that leads to the served registries."""
        return self._running_proxy().url

    @property
    def ca_cert_path(self) -> Path:
        """PEM file of the test CA alone that signed the registries' certificate (removed at
        stop): what a client configured per registry, such as docker's certs.d, wants."""
        self._running_proxy()
        assert self._tls_dir is not None
        return self._tls_dir / "ca.pem"

    @property
    def trust_bundle_path(self) -> Path:
        """PEM file of the test CA followed by the CAs the system trusts (removed at stop):
        what `SSL_CERT_FILE` points to, so that other https hosts still verify with it set."""
        return self.ca_cert_path.with_name("trust.pem")

    def registry_environment(self) -> dict[str, str]:
        """The standard variables that route a client to the served registries.

        They leave every other https host reachable as before: the proxy relays a `CONNECT`
        to any host it does not serve, and `SSL_CERT_FILE` trusts the system's CAs too.
        """
        return {
            "HTTPS_PROXY": self.registry_proxy_url,
            "SSL_CERT_FILE": str(self.trust_bundle_path),
            "NO_PROXY": NO_PROXY,
        }

    def _running_proxy(self) -> RegistryProxy:
        if not self.serve_registries:
            raise RuntimeError(
                "this emulator does not serve registries: pass serve_registries=True to "
                "Emulator (or --serve-registries to nodion-pulumi emulator)"
            )
        if self._proxy is None:
            raise RuntimeError("emulator is not running; call start() first")
        return self._proxy

    @property
    def admin(self) -> EmulatorAdmin:
        if self._admin is None:
            # Without a token of its own the emulator takes any bearer, so any will do here.
            token = self.token if self.token is not None else "any-token"
            self._admin = EmulatorAdmin(self.root_url, token=token)
        return self._admin

    def export_state(self) -> dict[str, Any]:
        """Every registry of the project as the store holds it, as plain JSON data.

        Exists so that a Pulumi checkpoint can be committed together with the Nodion side it
        was written against (external registry ids are random, credentials can't be minted
        twice): `restore_state` brings back exactly this. Secrets are salted digests here, as
        in the data file; no password is ever part of the export.
        """
        with self._running_store().read() as tx:
            rows = tx.rows()
        return {
            "format": STATE_FORMAT,
            "project_id": self.project_id,
            "registries": [{key: getattr(row, key) for key in _STATE_FIELDS} for row in rows],
        }

    def restore_state(self, state: Mapping[str, Any]) -> None:
        """Replace every registry of the project with those of an `export_state` result.

        One transaction: a request sees either the old registries or the restored ones.
        Regions of this emulator missing from `state` are seeded afterwards, as they would
        be when starting over a data file.
        """
        if state.get("format") != STATE_FORMAT:
            raise ValueError(
                f"unsupported emulator state format {state.get('format')!r}; "
                f"this emulator reads format {STATE_FORMAT}"
            )
        if state.get("project_id") != self.project_id:
            raise ValueError(
                f"the state belongs to project {state.get('project_id')!r}; start the "
                f"Emulator with project_id={state.get('project_id')!r} to restore it"
            )
        registries = [_checked_entry(entry) for entry in state.get("registries") or []]
        store, api = self._running_store(), self._api
        assert api is not None
        with store.write() as tx:
            for row in tx.rows():
                tx.delete(row.id)
            for entry in registries:
                row = tx.insert(
                    registry_id=entry["id"],
                    registry_type=entry["registry_type"],
                    name=entry["name"],
                    hostname=entry["hostname"],
                    timestamp=entry["created_at"],
                    region_slug=entry.get("region_slug"),
                    region_id=entry.get("region_id"),
                    username=entry.get("username"),
                    secret_digest=entry.get("secret_digest"),
                )
                if row.updated_at != entry["updated_at"]:
                    tx.save(replace(row, updated_at=entry["updated_at"]))
        api.seed(self.regions)

    def _running_store(self) -> Store:
        if self._store is None:
            raise RuntimeError("emulator is not running; call start() first")
        return self._store

    def nodion_registry_id(self, slug: str) -> str:
        if slug not in self.regions:
            raise ValueError(
                f"region {slug!r} is not seeded in this emulator; seeded: {', '.join(self.regions)}"
            )
        return nodion_registry_id(self.project_id, slug)

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        where = self.url if self.running else "stopped"
        return f"Emulator({where}, regions={','.join(self.regions)})"


def _serve_in_background(server: socketserver.BaseServer, name: str) -> threading.Thread:
    """Serve on a daemon thread that notices a shutdown within 20 ms."""
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.02}, name=name, daemon=True
    )
    thread.start()
    return thread


def _checked_entry(entry: Any) -> dict[str, Any]:
    """One registry of a state export, refused with the reason before anything is replaced."""
    if not isinstance(entry, Mapping):
        raise ValueError(f"each registry of an emulator state must be an object, got {entry!r}")
    unknown = sorted(set(entry) - set(_STATE_FIELDS))
    missing = [key for key in _REQUIRED_FIELDS if not isinstance(entry.get(key), str)]
    optional = [k for k in _STATE_FIELDS if k not in _REQUIRED_FIELDS]
    wrong = [
        key for key in optional if entry.get(key) is not None and not isinstance(entry[key], str)
    ]
    if unknown or missing or wrong:
        problems = [f"unknown field {key!r}" for key in unknown]
        problems += [f"{key!r} must be a string" for key in missing]
        problems += [f"{key!r} must be a string or null" for key in wrong]
        raise ValueError(
            f"registry {entry.get('id')!r} in the emulator state: {'; '.join(problems)}"
        )
    return dict(entry)
