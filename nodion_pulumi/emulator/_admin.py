"""Client for `/_emulator/`, the test-only side door of the emulator."""

from __future__ import annotations

import functools
import ssl
from types import TracebackType
from typing import Any

import httpx

from nodion_pulumi._facts import is_loopback_host

_WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


@functools.cache
def _tls_context() -> ssl.SSLContext:
    # Building a verifying context costs ~0.1 s; tests create many admin clients, so share one.
    return ssl.create_default_context()


class EmulatorAdminError(RuntimeError):
    """An admin call was refused; `errors` carries the emulator's messages."""

    def __init__(self, status: int, errors: list[str]) -> None:
        super().__init__(f"emulator admin call failed ({status}): {'; '.join(errors)}")
        self.status = status
        self.errors = errors


class EmulatorAdmin:
    """Calls `/_emulator/` the way it requires: with the emulator's token, a loopback `Host`
    and a JSON body for every change.

    `token` is the one the emulator's `/v1` API requires (`Emulator.admin` passes it); without
    one every call is refused with 401.
    """

    def __init__(self, root_url: str, *, token: str | None = None, timeout: float = 10.0) -> None:
        root = root_url.rstrip("/")
        if root.endswith("/v1"):
            root = root[: -len("/v1")]
        self.root_url = root
        headers: dict[str, str] = {}
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        url = httpx.URL(root)
        if not is_loopback_host(url.host):
            # Bound with allow_remote and reached by that address: the Host check is about
            # names a browser was tricked into, and this client holds the token.
            headers["Host"] = f"localhost:{url.port}" if url.port else "localhost"
        # trust_env=False: a CI proxy variable must never capture loopback admin calls.
        self._client = httpx.Client(
            base_url=f"{root}/_emulator",
            headers=headers,
            timeout=timeout,
            trust_env=False,
            verify=_tls_context(),
        )

    # -- request log ---------------------------------------------------------------------------

    def requests(self) -> list[dict[str, Any]]:
        entries: list[dict[str, Any]] = self._call("GET", "/requests")["requests"]
        return entries

    def clear_requests(self) -> None:
        self._call("DELETE", "/requests")

    def registry_requests(self) -> list[dict[str, Any]]:
        """Requests the served registries answered (`serve_registries=True`), in order.

        Kept apart from `requests()`: they are not Nodion API calls. Entries hold host, method,
        path (no query), status and which kind of credential came, never the credential.
        """
        entries: list[dict[str, Any]] = self._call("GET", "/registry_requests")["registry_requests"]
        return entries

    def clear_registry_requests(self) -> None:
        self._call("DELETE", "/registry_requests")

    def writes(self) -> list[dict[str, Any]]:
        """Logged API calls that could change something (POST/PUT/PATCH/DELETE under /v1)."""
        return [
            e
            for e in self.requests()
            if e["method"] in _WRITE_METHODS and str(e["path"]).startswith("/v1/")
        ]

    # -- faults --------------------------------------------------------------------------------

    def add_fault(
        self,
        kind: str,
        *,
        method: str | None = None,
        path: str | None = None,
        status: int | None = None,
        retry_after: float | None = None,
        seconds: float | None = None,
        times: int | None = 1,
        rate: float = 1.0,
        seed: int | None = None,
    ) -> str:
        spec = {
            "kind": kind,
            "method": method,
            "path": path,
            "status": status,
            "retry_after": retry_after,
            "seconds": seconds,
            "times": times,
            "rate": rate,
            "seed": seed,
        }
        return str(self._call("POST", "/faults", json=spec)["id"])

    def faults(self) -> list[dict[str, Any]]:
        faults: list[dict[str, Any]] = self._call("GET", "/faults")["faults"]
        return faults

    def clear_faults(self) -> None:
        self._call("DELETE", "/faults")

    # -- out-of-band changes -------------------------------------------------------------------

    def delete_registry(self, registry_id: str) -> dict[str, Any]:
        return self._registry("POST", f"/registries/{registry_id}/delete")

    def drop_credentials(self, registry_id: str) -> dict[str, Any]:
        return self._registry("POST", f"/registries/{registry_id}/drop_credentials")

    def regenerate_credentials(self, registry_id: str) -> dict[str, Any]:
        """Replace a Nodion registry's credentials with a set nobody captured (no password
        comes back): the old password and tokens granted for it stop working."""
        return self._registry("POST", f"/registries/{registry_id}/regenerate_credentials")

    def rename_registry(self, registry_id: str, name: str) -> dict[str, Any]:
        return self.update_registry(registry_id, name=name)

    def update_registry(self, registry_id: str, **fields: Any) -> dict[str, Any]:
        return self._registry("PATCH", f"/registries/{registry_id}", json=fields)

    # -- state ---------------------------------------------------------------------------------

    def registries(self) -> list[dict[str, Any]]:
        registries: list[dict[str, Any]] = self._call("GET", "/state")["registries"]
        return registries

    def health(self) -> bool:
        try:
            return self._call("GET", "/health").get("ok") is True
        except (httpx.HTTPError, EmulatorAdminError):
            return False

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> EmulatorAdmin:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _registry(self, method: str, path: str, json: Any = None) -> dict[str, Any]:
        registry: dict[str, Any] = self._call(method, path, json=json)["container_registry"]
        return registry

    def _call(self, method: str, path: str, json: Any = None) -> dict[str, Any]:
        if json is None and method in _WRITE_METHODS:
            json = {}  # every change carries a JSON body, even one with nothing to say
        response = self._client.request(method, path, json=json)
        try:
            body = response.json()
        except ValueError:
            body = None
        if response.status_code >= 400 or not isinstance(body, dict):
            errors: list[str] = []
            if isinstance(body, dict):
                errors = [str(e) for e in body.get("errors", [])] or [str(body.get("error", ""))]
            raise EmulatorAdminError(response.status_code, errors or [response.text[:200]])
        return body
