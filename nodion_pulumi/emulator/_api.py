"""The documented Container Registries API: validation, Nodion-registry immunity, credentials.

Every operation checks and writes inside a single store transaction, so two concurrent requests
can never both mint credentials for one registry or update a registry that was just deleted.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import Any

from nodion_pulumi._facts import DEFAULT_HOSTNAMES, EXTERNAL_REGISTRY_TYPES, NODION_REGISTRY_TYPE
from nodion_pulumi.emulator._clock import Clock, iso_timestamp, system_time
from nodion_pulumi.emulator._http import Reply, Request, errors_reply, json_reply, status_reply
from nodion_pulumi.emulator._regions import REGION_ORDER, REGIONS, nodion_registry_id
from nodion_pulumi.emulator._routes import Route
from nodion_pulumi.emulator._store import (
    Row,
    Store,
    Tx,
    digest_password,
    digest_secret,
    secret_matches,
)

NOT_NODION = "Registry is not a Nodion registry"


def public_view(row: Row) -> dict[str, Any]:
    """The registry object exactly as the API shows it: no username or password, ever."""
    return {
        "id": row.id,
        "status": "available",
        "registry_type": row.registry_type,
        "name": row.name,
        "hostname": row.hostname,
        "has_credentials": row.has_credentials,
        "region_id": row.region_id,
        "created_at": row.created_at,
        "updated_at": row.updated_at,
    }


def listing_order(rows: Iterable[Row]) -> list[Row]:
    """Nodion registries first in region order, then external ones as they were created."""

    def key(row: Row) -> tuple[int, int, int]:
        if row.is_nodion:
            return (0, REGION_ORDER.get(row.region_slug or "", len(REGION_ORDER)), row.pk)
        return (1, 0, row.pk)

    return sorted(rows, key=key)


def wrap(row: Row, status: int = 200) -> Reply:
    return json_reply(status, {"container_registry": public_view(row)})


def _blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _text_errors(body: Mapping[str, Any], fields: Iterable[str]) -> list[str]:
    errors = []
    for name in fields:
        value = body.get(name)
        if value is not None and not isinstance(value, str):
            errors.append(f"{name.capitalize()} must be a string")
    return errors


def _optional_text(value: object) -> str | None:
    """An empty username or password means "none", as a cleared dashboard field would."""
    return value if isinstance(value, str) and value != "" else None


class RegistryApi:
    def __init__(self, store: Store, project_id: str, clock: Clock = system_time) -> None:
        self._store = store
        self._project_id = project_id
        self._clock = clock

    def now(self) -> str:
        """The time for a timestamp written now, as the API writes it."""
        return iso_timestamp(self._clock())

    def routes(self) -> list[Route]:
        return [
            Route.of(
                "/v1/container_registries", GET=self.list_registries, POST=self.create_registry
            ),
            Route.of(
                "/v1/container_registries/{id}",
                GET=self.get_registry,
                PATCH=self.update_registry,
                DELETE=self.delete_registry,
            ),
            Route.of(
                "/v1/container_registries/{id}/credentials",
                POST=self.create_credentials,
                DELETE=self.delete_credentials,
            ),
        ]

    def seed(self, slugs: Iterable[str]) -> None:
        """Create the missing per-region registries; existing ones (and their state) are kept."""
        with self._store.write() as tx:
            for slug in slugs:
                region = REGIONS[slug]
                registry_id = nodion_registry_id(self._project_id, slug)
                if tx.get(registry_id) is None:
                    tx.insert(
                        registry_id=registry_id,
                        registry_type=NODION_REGISTRY_TYPE,
                        name=region.registry_name,
                        hostname=region.registry_hostname,
                        region_slug=slug,
                        region_id=region.id,
                        timestamp=self.now(),
                    )

    def rows(self) -> list[Row]:
        with self._store.read() as tx:
            return listing_order(tx.rows())

    # -- GET -----------------------------------------------------------------------------------

    def list_registries(self, request: Request, params: Mapping[str, str]) -> Reply:
        return json_reply(200, {"container_registries": [public_view(r) for r in self.rows()]})

    def get_registry(self, request: Request, params: Mapping[str, str]) -> Reply:
        with self._store.read() as tx:
            row = tx.get(params["id"])
        return wrap(row) if row else status_reply(404)

    # -- external registries -------------------------------------------------------------------

    def create_registry(self, request: Request, params: Mapping[str, str]) -> Reply:
        if request.body_error or not isinstance(request.body, dict):
            return errors_reply(request.body_error or "Request body must be a JSON object")
        body: dict[str, Any] = request.body
        errors: list[str] = []
        name, registry_type, hostname = (
            body.get("name"),
            body.get("registry_type"),
            body.get("hostname"),
        )
        if _blank(name):
            errors.append("Name can't be blank")
        if registry_type == NODION_REGISTRY_TYPE:
            errors.append(
                "Nodion registries are created automatically and cannot be created manually"
            )
        elif registry_type not in EXTERNAL_REGISTRY_TYPES:
            errors.append("Registry type is not included in the list")
        if _blank(hostname) and isinstance(registry_type, str):
            hostname = DEFAULT_HOSTNAMES.get(registry_type)
            if hostname is None and registry_type == "custom":
                errors.append("Hostname can't be blank")
        errors += _text_errors(body, ("name", "hostname", "username", "password"))
        if errors:
            return errors_reply(*errors)
        assert isinstance(name, str)
        assert isinstance(hostname, str)
        assert isinstance(registry_type, str)
        password = _optional_text(body.get("password"))
        with self._store.write() as tx:
            row = tx.insert(
                registry_id=str(uuid.uuid4()),
                registry_type=registry_type,
                name=name.strip(),
                hostname=hostname.strip(),
                username=_optional_text(body.get("username")),
                secret_digest=digest_password(password) if password is not None else None,
                timestamp=self.now(),
            )
        return wrap(row)

    def update_registry(self, request: Request, params: Mapping[str, str]) -> Reply:
        with self._store.write() as tx:
            row = tx.get(params["id"])
            if row is None:
                return status_reply(404)
            if row.is_nodion:
                return errors_reply("Nodion registries cannot be updated")
            if request.body_error or not isinstance(request.body, dict):
                return errors_reply(request.body_error or "Request body must be a JSON object")
            body: dict[str, Any] = request.body
            errors = [
                f"{field.capitalize()} can't be blank"
                for field in ("name", "hostname")
                if field in body and _blank(body[field])
            ]
            errors += _text_errors(body, ("name", "hostname", "username", "password"))
            if errors:
                return errors_reply(*errors)
            return wrap(apply_changes(tx, row, body, self.now()))

    def delete_registry(self, request: Request, params: Mapping[str, str]) -> Reply:
        with self._store.write() as tx:
            row = tx.get(params["id"])
            if row is None:
                return status_reply(404)
            if row.is_nodion:
                return errors_reply("Nodion registries cannot be deleted")
            tx.delete(row.id)
        return wrap(row)

    # -- Nodion registry credentials -----------------------------------------------------------

    def create_credentials(self, request: Request, params: Mapping[str, str]) -> Reply:
        with self._store.write() as tx:
            row = nodion_row(tx, params["id"])
            if isinstance(row, Reply):
                return row
            if row.has_credentials:
                return errors_reply("Credentials already exist")
            row, password = self.mint_credentials(tx, row)
        shown_once = {"id": row.id, "hostname": row.hostname, "username": row.username}
        return json_reply(201, {"container_registry": {**shown_once, "password": password}})

    def mint_credentials(self, tx: Tx, row: Row) -> tuple[Row, str]:
        """Give `row` a new username/password pair, replacing any it had; returns the password.

        The one place credentials are minted, so a set regenerated out of band (the dashboard)
        looks exactly like one created through the API.
        """
        password = secrets.token_urlsafe(32)
        saved = tx.save(
            replace(
                row,
                username=f"robot$project-{self._project_id[:8]}",
                secret_digest=digest_secret(password),
                updated_at=self.now(),
            )
        )
        return saved, password

    def delete_credentials(self, request: Request, params: Mapping[str, str]) -> Reply:
        with self._store.write() as tx:
            row = nodion_row(tx, params["id"])
            if isinstance(row, Reply):
                return row
            if not row.has_credentials:
                return errors_reply("Registry has no credentials")
            row = tx.save(without_credentials(row, self.now()))
        return wrap(row)


def nodion_row(tx: Tx, registry_id: str) -> Row | Reply:
    """The Nodion registry whose credentials a request is about, or the reply refusing it
    (404 for an unknown id, 400 for an external registry), as the API answers both."""
    row = tx.get(registry_id)
    if row is None:
        return status_reply(404)
    if not row.is_nodion:
        return errors_reply(NOT_NODION)
    return row


def without_credentials(row: Row, now: str) -> Row:
    """The registry once its credentials are revoked (through the API or the dashboard)."""
    return replace(row, username=None, secret_digest=None, updated_at=now)


def apply_changes(tx: Tx, row: Row, body: Mapping[str, Any], now: str) -> Row:
    """Apply name/hostname/username/password from `body`; untouched rows keep `updated_at`."""
    changed = row
    name, hostname = body.get("name"), body.get("hostname")
    if isinstance(name, str) and name.strip():
        changed = replace(changed, name=name.strip())
    if isinstance(hostname, str) and hostname.strip():
        changed = replace(changed, hostname=hostname.strip())
    if "username" in body:
        changed = replace(changed, username=_optional_text(body["username"]))
    if "password" in body:
        password = _optional_text(body["password"])
        if not secret_matches(row.secret_digest, password):
            digest = digest_password(password) if password is not None else None
            changed = replace(changed, secret_digest=digest)
    if changed == row:
        return row
    return tx.save(replace(changed, updated_at=now))
