"""The `Emulator` object: wires store, API, faults and server, and runs them in a thread."""

from __future__ import annotations

import os
import threading
import uuid
from collections.abc import Sequence
from types import TracebackType

from nodion_pulumi.emulator._admin import EmulatorAdmin
from nodion_pulumi.emulator._api import RegistryApi
from nodion_pulumi.emulator._control import ControlApi
from nodion_pulumi.emulator._faults import FaultSet
from nodion_pulumi.emulator._log import RequestLog
from nodion_pulumi.emulator._regions import (
    DEFAULT_PROJECT_ID,
    DEFAULT_REGIONS,
    nodion_registry_id,
    normalize_regions,
)
from nodion_pulumi.emulator._server import App, EmulatorServer
from nodion_pulumi.emulator._store import Store

_STOP_GRACE_SECONDS = 5.0


class Emulator:
    """A local Nodion API on loopback, for demos, tests and users' own tests.

    `token=None` accepts any non-empty bearer token, which is what a throwaway test wants;
    pass a token to also exercise the 401 path. `data_path=None` keeps everything in memory.
    `verbose=True` restores the per-request stderr lines that are otherwise suppressed.
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
    ) -> None:
        try:
            uuid.UUID(project_id)
        except (ValueError, AttributeError, TypeError):
            raise ValueError(f"project_id must be a UUID, got {project_id!r}") from None
        if token is not None and not token.strip():
            raise ValueError("token must be non-empty when given (use None to accept any)")
        self.token = token
        self.data_path = data_path
        self.regions = normalize_regions(regions)
        self.host = host
        self.project_id = project_id
        self.verbose = verbose
        self._requested_port = port
        self._server: EmulatorServer | None = None
        self._thread: threading.Thread | None = None
        self._store: Store | None = None
        self._admin: EmulatorAdmin | None = None

    def start(self) -> Emulator:
        if self._server is not None:
            raise RuntimeError("emulator already started")
        store = Store(self.data_path, self.project_id)
        try:
            api = RegistryApi(store, self.project_id)
            api.seed(self.regions)
            faults, log = FaultSet(), RequestLog()
            control = ControlApi(store, api, faults, log)
            app = App(api, control, faults, log, self.token, self.project_id)
            server = EmulatorServer((self.host, self._requested_port), app, ipv6=":" in self.host)
        except BaseException:
            store.close()
            raise
        server.verbose = self.verbose
        self._store, self._server = store, server
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.02},
            name=f"nodion-emulator-{self.port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        server, thread, store = self._server, self._thread, self._store
        self._server = self._thread = self._store = None
        if self._admin is not None:
            self._admin.close()
            self._admin = None
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
    def admin(self) -> EmulatorAdmin:
        if self._admin is None:
            self._admin = EmulatorAdmin(self.root_url)
        return self._admin

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
