"""Two stacks declare credentials for one registry and run `pulumi up` at the same time.

Nodion gives a registry one set of credentials and shows its password once. Whichever stack's
create lands first owns them; the other must fail with a message that says why and how to
share the owner's credentials, and must leave the owner's credentials alone: no revocation, so
whatever already logs in with them keeps working.
"""

from __future__ import annotations

import base64
import ssl
import threading
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from pulumi import automation as auto

from nodion_devkit.nodion_stack import NodionStack
from nodion_pulumi._facts import REGISTRY_CREDENTIALS_TYPE

pytestmark = pytest.mark.engine

CREDENTIALS = REGISTRY_CREDENTIALS_TYPE
HOSTNAME = "registry.fra.nodion.net"
SPEC = {"credentials": [{"resource": "fra", "region": "fra"}]}


def _up_together(stacks: list[NodionStack]) -> dict[str, auto.UpResult | auto.CommandError]:
    """Run every stack's `up` on its own thread, released at once; each one's result or error."""
    for stack in stacks:
        stack.stack  # noqa: B018 - create the stack (and its config) before the race starts
    start = threading.Barrier(len(stacks))
    results: dict[str, auto.UpResult | auto.CommandError] = {}

    def run(stack: NodionStack) -> None:
        start.wait()
        try:
            results[stack.stack_name] = stack.up()
        except auto.CommandError as error:
            results[stack.stack_name] = error

    threads = [threading.Thread(target=run, args=(stack,), daemon=True) for stack in stacks]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert sorted(results) == sorted(s.stack_name for s in stacks), "an `up` did not finish"
    return results


def _registry_login(environment: dict[str, str], username: str, password: str) -> httpx.Response:
    """The Docker Registry v2 token flow through the emulator's proxy, as `docker login` runs it:
    the anonymous `/v2/` challenge, then its realm with Basic credentials."""
    tls = ssl.create_default_context(cafile=environment["SSL_CERT_FILE"])
    with httpx.Client(proxy=environment["HTTPS_PROXY"], verify=tls, trust_env=False) as client:
        challenge = client.get(f"https://{HOSTNAME}/v2/")
        scheme, _, params = challenge.headers.get("www-authenticate", "").partition(" ")
        assert (challenge.status_code, scheme) == (401, "Bearer"), challenge.headers
        fields = dict(
            part.split("=", 1) for part in params.replace('"', "").split(",") if "=" in part
        )
        basic = base64.b64encode(f"{username}:{password}".encode()).decode()
        granted = client.get(
            fields["realm"],
            params={"service": fields["service"], "scope": "repository:app:pull"},
            headers={"Authorization": f"Basic {basic}"},
        )
    return granted


def test_of_two_concurrent_ups_one_owns_the_credentials_and_the_other_leaves_them_alone(
    nodion_stack: Callable[..., NodionStack],
) -> None:
    stacks = [nodion_stack(stack_name=name) for name in ("blue", "green")]
    for stack in stacks:
        stack.set_spec(SPEC)
    emulator = stacks[0].emulator
    fra_id = emulator.nodion_registry_id("fra")

    results = _up_together(stacks)

    succeeded = [s for s in stacks if isinstance(results[s.stack_name], auto.UpResult)]
    failed = [s for s in stacks if isinstance(results[s.stack_name], auto.CommandError)]
    assert (len(succeeded), len(failed)) == (1, 1), "exactly one `up` must win"
    [owner], [loser] = succeeded, failed
    error = results[loser.stack_name]
    message = " ".join(str(error).split())
    # The loser is refused either by its check, if it listed the registry after the owner's
    # create, or by Nodion, if both checks came first; either way the message names the
    # cause and both ways on, and the fix of reading the owner's outputs comes first.
    assert (
        f"Nodion registry {fra_id} already has push/pull credentials" in message
        or f"registry {fra_id} ({HOSTNAME}) cannot get a second owner" in message
    ), message
    assert "Either use the owner's credentials" in message
    assert "a pulumi.StackReference from another stack" in message
    assert "`nodion-pulumi credentials revoke" in message

    assert loser.resources(CREDENTIALS) == [], "the losing stack recorded credentials"
    assert [r["id"] for r in owner.resources(CREDENTIALS)] == [fra_id]
    credential_calls = [
        (r["method"], r["status"])
        for r in emulator.admin.requests()
        if r["path"] == f"/v1/container_registries/{fra_id}/credentials"
    ]
    # The owner's POST minted them; the loser's, if it got that far, was refused; nobody
    # revoked them.
    assert sorted(credential_calls) in ([("POST", 201)], [("POST", 201), ("POST", 400)])

    owned: dict[str, Any] = owner.outputs()
    # The loser never saw the owner's password; the teardown scans its output for it too.
    loser.remember_secret(owned["fra.docker_config_json"])
    granted = _registry_login(
        emulator.registry_environment(), owned["fra.username"], owned["fra.password"]
    )
    assert granted.status_code == 200, (
        f"the registry refused the owner's credentials after the race: {granted.status_code}"
    )
    assert granted.json().get("token"), "the registry granted no token"
