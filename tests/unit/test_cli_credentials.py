"""`nodion-pulumi registries` and `nodion-pulumi credentials revoke`, run through the console
script against the emulator, the way a user recovers from the one-owner rule."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest

from nodion_devkit.nodion_truth import wait_for_faulted_answers
from nodion_pulumi.emulator import Emulator

CONSOLE_SCRIPT = Path(sys.executable).parent / "nodion-pulumi"
TOKEN = "test-token"


def environment(emulator: Emulator, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NODION_")}
    return {**env, "NODION_API_URL": emulator.url, "NODION_API_TOKEN": TOKEN, **extra}


def run(emulator: Emulator, *args: str, **extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(CONSOLE_SCRIPT), *args],
        env=environment(emulator, **extra),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
    )


def has_credentials(emulator: Emulator, registry_id: str) -> bool:
    return bool(
        next(r for r in emulator.admin.registries() if r["id"] == registry_id)["has_credentials"]
    )


def test_registries_lists_each_registry_with_whether_it_has_credentials(
    emulator: Emulator,
) -> None:
    fra = emulator.nodion_registry_id("fra")
    emulator.admin.regenerate_credentials(fra)
    done = run(emulator, "registries")
    assert done.returncode == 0, done.stderr
    header, *rows = done.stdout.splitlines()
    assert header.split() == ["REGION", "ID", "TYPE", "NAME", "HOSTNAME", "CREDENTIALS"]
    by_region = {row.split()[0]: row for row in rows}
    assert set(by_region) == set(emulator.regions)
    assert by_region["fra"].startswith(f"fra     {fra}  nodion  Nodion Registry")
    assert by_region["fra"].endswith("registry.fra.nodion.net  yes")
    assert by_region["nbg"].endswith("registry.nbg.nodion.net  no")


@pytest.mark.parametrize("name", ["fra", "registry.fra.nodion.net", "FRA", "id"])
def test_revoke_with_yes_revokes_by_slug_hostname_or_id(emulator: Emulator, name: str) -> None:
    fra = emulator.nodion_registry_id("fra")
    emulator.admin.regenerate_credentials(fra)
    done = run(emulator, "credentials", "revoke", fra if name == "id" else name, "--yes")
    assert done.returncode == 0, done.stderr
    assert not has_credentials(emulator, fra)
    assert done.stderr.startswith(f"revoked the credentials of registry {fra}")
    assert "`pulumi up`" in done.stderr


def test_revoke_without_a_terminal_and_without_yes_revokes_nothing(emulator: Emulator) -> None:
    fra = emulator.nodion_registry_id("fra")
    emulator.admin.regenerate_credentials(fra)
    emulator.admin.clear_requests()
    done = run(emulator, "credentials", "revoke", "fra")
    assert done.returncode == 3
    assert "there is no terminal to confirm on. Pass --yes" in done.stderr
    assert has_credentials(emulator, fra)
    assert [e["method"] for e in emulator.admin.requests()] == ["GET"]


def answer_prompt(emulator: Emulator, answer: str) -> tuple[int, str]:
    """Run the revoke on a pseudo-terminal, as a person would, and type ``answer``."""
    primary, secondary = pty.openpty()
    proc = subprocess.Popen(
        [str(CONSOLE_SCRIPT), "credentials", "revoke", "fra"],
        env=environment(emulator),
        stdin=secondary,
        stdout=secondary,
        stderr=secondary,
    )
    os.close(secondary)
    seen = b""
    deadline = time.monotonic() + 30
    try:
        while b"Type 'yes' to revoke: " not in seen and time.monotonic() < deadline:
            if select.select([primary], [], [], 1)[0]:
                seen += os.read(primary, 4096)
        os.write(primary, answer.encode() + b"\n")
        code = proc.wait(timeout=30)
        while select.select([primary], [], [], 0.2)[0]:
            try:
                chunk = os.read(primary, 4096)
            except OSError:
                break
            if not chunk:
                break
            seen += chunk
    finally:
        os.close(primary)
        if proc.poll() is None:
            proc.kill()
    return code, seen.decode(errors="replace")


def test_revoke_on_a_terminal_asks_and_revokes_on_yes(emulator: Emulator) -> None:
    fra = emulator.nodion_registry_id("fra")
    emulator.admin.regenerate_credentials(fra)
    code, screen = answer_prompt(emulator, "yes")
    assert code == 0, screen
    assert "Whoever uses them (other stacks, CI jobs, image-pull secrets) loses access" in screen
    assert not has_credentials(emulator, fra)


def test_revoke_on_a_terminal_keeps_them_on_anything_else(emulator: Emulator) -> None:
    fra = emulator.nodion_registry_id("fra")
    emulator.admin.regenerate_credentials(fra)
    code, screen = answer_prompt(emulator, "no")
    assert code == 3
    assert "not confirmed; nothing was revoked" in screen
    assert has_credentials(emulator, fra)


def test_a_revoke_answered_late_has_landed_when_the_command_says_revoked(
    emulator: Emulator,
) -> None:
    """The command sends the user to `pulumi up`, which mints a new set: a first DELETE still
    on its way (timed out, then sent again) would land afterwards and revoke that set too."""
    fra = emulator.nodion_registry_id("fra")
    emulator.admin.regenerate_credentials(fra)
    emulator.admin.add_fault("latency", method="DELETE", path="/credentials$", seconds=2.5, times=1)
    done = run(emulator, "credentials", "revoke", "fra", "--yes", NODION_TIMEOUT="1")
    assert done.returncode == 0, done.stderr
    emulator.admin.regenerate_credentials(fra)  # the mint of the next `pulumi up`
    wait_for_faulted_answers(emulator.admin)
    assert has_credentials(emulator, fra), [
        (entry["method"], entry["status"], entry["fault"]) for entry in emulator.admin.writes()
    ]


def test_revoke_of_a_registry_without_credentials_succeeds_and_says_so(
    emulator: Emulator,
) -> None:
    done = run(emulator, "credentials", "revoke", "nbg")
    assert done.returncode == 0
    assert "has no credentials: nothing to revoke" in done.stderr


def test_revoke_of_an_unknown_registry_lists_the_regions(emulator: Emulator) -> None:
    done = run(emulator, "credentials", "revoke", "zrh", "--yes")
    assert done.returncode == 2
    assert "no Nodion registry matches 'zrh'" in done.stderr
    assert ", ".join(sorted(emulator.regions)) in done.stderr


def test_revoke_of_an_external_registry_is_refused(emulator: Emulator) -> None:
    from nodion_pulumi._client import NodionClient
    from nodion_pulumi._config import resolve_settings

    with NodionClient(
        resolve_settings({"nodion:apiUrl": emulator.url, "nodion:apiToken": TOKEN})
    ) as client:
        external = client.create_registry(name="hub", registry_type="docker_hub")
    done = run(emulator, "credentials", "revoke", external.id, "--yes")
    assert done.returncode == 2
    assert "is an external registry (docker_hub)" in done.stderr


def test_a_wrong_token_fails_with_one_line_and_exit_1(emulator: Emulator) -> None:
    done = run(emulator, "registries", NODION_API_TOKEN="wrong")
    assert done.returncode == 1
    assert done.stdout == ""
    [line] = done.stderr.splitlines()
    assert line.startswith("nodion-pulumi registries: list container registries failed: HTTP 401")
    assert "Traceback" not in done.stderr
    assert "NODION_API_TOKEN" in line  # the setting to fix, as a Pulumi run names it


def test_nothing_listening_names_the_url_setting(emulator: Emulator) -> None:
    done = run(emulator, "registries", NODION_API_URL="http://127.0.0.1:9/v1")
    assert done.returncode == 1
    [line] = done.stderr.splitlines()
    assert "could not reach Nodion" in line
    assert "NODION_API_URL" in line
    assert "nodion-pulumi emulator" in line


# A name and hostname as the API can hold them (it does not validate like our checks do):
# an ESC sequence that recolours a terminal, a newline that forges a line of output, and a
# right-to-left override that makes the rest read backwards.
HOSTILE_NAME = "Hub \x1b[31mred\x1b[0m\nerror: forged\u202eevil"
HOSTILE_HOSTNAME = "hub\x1b[2J.example.com"


def create_hostile_registry(emulator: Emulator) -> str:
    """An external registry created straight through the emulator's API, as any client of
    the project could."""
    import httpx

    answer = httpx.post(
        f"{emulator.url}/container_registries",
        headers={"Authorization": f"Bearer {TOKEN}"},
        json={"name": HOSTILE_NAME, "registry_type": "custom", "hostname": HOSTILE_HOSTNAME},
    )
    assert answer.is_success, answer.text
    registry_id: str = answer.json()["container_registry"]["id"]
    return registry_id


def assert_no_terminal_controls(text: str) -> None:
    hidden = [ch for ch in text if ch not in "\n" and not ch.isprintable()]
    assert not hidden, f"raw control or format characters printed: {hidden!r}"


def test_registries_shows_control_characters_in_names_and_hostnames_as_escapes(
    emulator: Emulator,
) -> None:
    registry_id = create_hostile_registry(emulator)
    done = run(emulator, "registries")
    assert done.returncode == 0, done.stderr
    assert_no_terminal_controls(done.stdout)
    row = next(line for line in done.stdout.splitlines() if registry_id in line)
    assert "Hub \\x1b[31mred\\x1b[0m\\nerror: forged\\u202eevil" in row
    assert "hub\\x1b[2J.example.com" in row
    assert not any(line.startswith("error: forged") for line in done.stdout.splitlines())


def test_revoke_of_an_external_registry_escapes_its_hostname_and_type(emulator: Emulator) -> None:
    registry_id = create_hostile_registry(emulator)
    done = run(emulator, "credentials", "revoke", registry_id, "--yes")
    assert done.returncode == 2
    assert_no_terminal_controls(done.stderr)
    assert "hub\\x1b[2J.example.com" in done.stderr
