"""Server side of `/_emulator/`: the request log, faults, and out-of-band changes.

Out-of-band changes stand in for someone using the Nodion dashboard, so they bypass the API's
rules where the dashboard would (renaming without a PATCH) but still refuse what nobody can do
(deleting or renaming a Nodion-managed registry).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from nodion_pulumi.emulator._api import (
    RegistryApi,
    apply_changes,
    nodion_row,
    public_view,
    without_credentials,
    wrap,
)
from nodion_pulumi.emulator._faults import FaultSet, FaultSpecError
from nodion_pulumi.emulator._http import Reply, Request, errors_reply, json_reply, status_reply
from nodion_pulumi.emulator._log import RegistryRequestLog, RequestLog
from nodion_pulumi.emulator._routes import Route
from nodion_pulumi.emulator._store import Store

_EDITABLE = ("name", "hostname", "username", "password")


class ControlApi:
    def __init__(
        self,
        store: Store,
        api: RegistryApi,
        faults: FaultSet,
        log: RequestLog,
        registry_log: RegistryRequestLog,
    ) -> None:
        self._store = store
        self._api = api
        self._faults = faults
        self._log = log
        self._registry_log = registry_log

    def routes(self) -> list[Route]:
        return [
            Route.of("/_emulator/health", GET=self.health),
            Route.of("/_emulator/state", GET=self.state),
            Route.of("/_emulator/requests", GET=self.requests, DELETE=self.clear_requests),
            Route.of(
                "/_emulator/registry_requests",
                GET=self.registry_requests,
                DELETE=self.clear_registry_requests,
            ),
            Route.of(
                "/_emulator/faults", GET=self.faults, POST=self.add_fault, DELETE=self.clear_faults
            ),
            Route.of("/_emulator/registries/{id}", PATCH=self.update_registry),
            # Deleting in the dashboard follows the API's rules exactly.
            Route.of("/_emulator/registries/{id}/delete", POST=self._api.delete_registry),
            Route.of("/_emulator/registries/{id}/drop_credentials", POST=self.drop_credentials),
            Route.of(
                "/_emulator/registries/{id}/regenerate_credentials",
                POST=self.regenerate_credentials,
            ),
        ]

    def health(self, request: Request, params: Mapping[str, str]) -> Reply:
        return json_reply(200, {"ok": True})

    def state(self, request: Request, params: Mapping[str, str]) -> Reply:
        return json_reply(200, {"registries": [public_view(r) for r in self._api.rows()]})

    def requests(self, request: Request, params: Mapping[str, str]) -> Reply:
        return json_reply(200, {"requests": self._log.entries()})

    def clear_requests(self, request: Request, params: Mapping[str, str]) -> Reply:
        self._log.clear()
        return json_reply(200, {"requests": []})

    def registry_requests(self, request: Request, params: Mapping[str, str]) -> Reply:
        return json_reply(200, {"registry_requests": self._registry_log.entries()})

    def clear_registry_requests(self, request: Request, params: Mapping[str, str]) -> Reply:
        self._registry_log.clear()
        return json_reply(200, {"registry_requests": []})

    def faults(self, request: Request, params: Mapping[str, str]) -> Reply:
        return json_reply(200, {"faults": self._faults.describe()})

    def add_fault(self, request: Request, params: Mapping[str, str]) -> Reply:
        if request.body_error:
            return errors_reply(request.body_error)
        try:
            fault = self._faults.add(request.body)
        except FaultSpecError as exc:
            return errors_reply(*exc.errors)
        return json_reply(201, {"id": fault.id, "fault": fault.describe()})

    def clear_faults(self, request: Request, params: Mapping[str, str]) -> Reply:
        self._faults.clear()
        return json_reply(200, {"faults": []})

    def drop_credentials(self, request: Request, params: Mapping[str, str]) -> Reply:
        """Idempotent, unlike the API route: the dashboard just shows "no credentials"."""
        with self._store.write() as tx:
            row = nodion_row(tx, params["id"])
            if isinstance(row, Reply):
                return row
            if row.has_credentials:
                row = tx.save(without_credentials(row, self._api.now()))
        return wrap(row)

    def regenerate_credentials(self, request: Request, params: Mapping[str, str]) -> Reply:
        """A new set nobody captured, minted as the API mints: every holder of the old set is
        locked out, which is what "regenerate" in the dashboard does to a stack's secret."""
        with self._store.write() as tx:
            row = nodion_row(tx, params["id"])
            if isinstance(row, Reply):
                return row
            row, _ = self._api.mint_credentials(tx, row)
        return wrap(row)

    def update_registry(self, request: Request, params: Mapping[str, str]) -> Reply:
        if request.body_error or not isinstance(request.body, dict):
            return errors_reply(request.body_error or "Request body must be a JSON object")
        body: dict[str, Any] = request.body
        errors = [f"unknown field: {k}" for k in sorted(body) if k not in _EDITABLE]
        errors += [
            f"{k.capitalize()} must be a non-blank string"
            for k in ("name", "hostname")
            if k in body and not (isinstance(body[k], str) and body[k].strip())
        ]
        errors += [
            f"{k.capitalize()} must be a string or null"
            for k in ("username", "password")
            if body.get(k) is not None and not isinstance(body[k], str)
        ]
        with self._store.write() as tx:
            row = tx.get(params["id"])
            if row is None:
                return status_reply(404)
            if row.is_nodion:
                return errors_reply("Nodion registries cannot be updated")
            if errors:
                return errors_reply(*errors)
            return wrap(apply_changes(tx, row, body, self._api.now()))
