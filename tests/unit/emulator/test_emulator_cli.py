"""`nodion-pulumi emulator` as a real separate process."""

from __future__ import annotations

import os
import re
import selectors
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import httpx
import pytest

from nodion_pulumi.cli import default_data_path, main
from nodion_pulumi.emulator import Emulator

URL_LINE = re.compile(r"^NODION_API_URL=http://127\.0\.0\.1:(\d+)/v1$")
CONSOLE_SCRIPT = Path(sys.executable).parent / "nodion-pulumi"


class Served:
    def __init__(self, proc: subprocess.Popen[str], url: str) -> None:
        self.proc = proc
        self.url = url


def _read_line(proc: subprocess.Popen[str], timeout: float = 15.0) -> str:
    assert proc.stdout is not None
    with selectors.DefaultSelector() as selector:
        selector.register(proc.stdout, selectors.EVENT_READ)
        if not selector.select(timeout):
            proc.kill()
            pytest.fail(f"emulator printed nothing within {timeout}s")
    return proc.stdout.readline().rstrip("\n")


def _spawn(args: Sequence[str], env: dict[str, str] | None = None) -> Served:
    command = [sys.executable, "-m", "nodion_pulumi.cli", "emulator", "--port", "0", *args]
    proc = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **(env or {})},
    )
    line = _read_line(proc)
    found = URL_LINE.match(line)
    assert found, line
    assert int(found.group(1)) > 0
    return Served(proc, line.split("=", 1)[1])


def _finish(proc: subprocess.Popen[str], sig: int = signal.SIGTERM) -> tuple[int, str, str]:
    proc.send_signal(sig)
    try:
        out, err = proc.communicate(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        raise
    return proc.returncode, out, err


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    s = _spawn(["--data", str(tmp_path / "cli.db"), "--token", "cli-token"])
    yield s
    if s.proc.poll() is None:
        s.proc.kill()
        s.proc.wait()


def test_serves_the_api_and_exits_cleanly_on_sigterm(served: Served) -> None:
    auth = {"Authorization": "Bearer cli-token"}
    with httpx.Client(base_url=served.url, trust_env=False) as client:
        assert client.get("/container_registries").status_code == 401
        listed = client.get("/container_registries", headers=auth)
        assert listed.status_code == 200
        assert len(listed.json()["container_registries"]) == 4
    code, out, err = _finish(served.proc)
    assert code == 0
    assert out == ""  # the URL line was the only stdout output
    assert "cli-token" not in err
    assert "Traceback" not in err


def test_data_survives_a_cli_restart(tmp_path: Path) -> None:
    db = tmp_path / "cli.db"
    first = _spawn(["--data", str(db)])
    created = httpx.post(
        f"{first.url}/container_registries",
        json={"name": "persisted", "registry_type": "ghcr"},
        headers={"Authorization": "Bearer any"},
        trust_env=False,
    ).json()["container_registry"]
    assert _finish(first.proc)[0] == 0
    second = _spawn(["--data", str(db), "--regions", "fra,waw"])
    try:
        fetched = httpx.get(
            f"{second.url}/container_registries",
            headers={"Authorization": "Bearer any"},
            trust_env=False,
        ).json()["container_registries"]
    finally:
        assert _finish(second.proc, signal.SIGINT)[0] == 0
    assert created in fetched
    assert "registry.waw.nodion.net" in {r["hostname"] for r in fetched}


def test_default_data_file_follows_xdg_data_home(tmp_path: Path) -> None:
    served = _spawn([], env={"XDG_DATA_HOME": str(tmp_path / "xdg")})
    assert _finish(served.proc)[0] == 0
    assert (tmp_path / "xdg" / "nodion-pulumi" / "emulator.db").is_file()


def test_default_data_path_without_xdg(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("XDG_DATA_HOME", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    assert default_data_path() == tmp_path / ".local/share/nodion-pulumi/emulator.db"


@pytest.mark.skipif(not CONSOLE_SCRIPT.exists(), reason="console script not installed")
def test_console_script(tmp_path: Path) -> None:
    proc = subprocess.Popen(
        [str(CONSOLE_SCRIPT), "emulator", "--port", "0", "--data", str(tmp_path / "c.db")],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert URL_LINE.match(_read_line(proc))
    assert _finish(proc, signal.SIGINT)[0] == 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--regions", "fra,atlantis"], r"unknown region\(s\): atlantis; valid regions: fra, nbg"),
        (["--host", "192.0.2.10"], "refusing to bind non-loopback host.*--allow-remote"),
        (["--project-id", "nope"], "not a UUID"),
    ],
)
def test_bad_arguments_are_argparse_errors(
    args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["emulator", *args])
    assert exit_info.value.code == 2
    assert re.search(message, capsys.readouterr().err)


def test_a_command_is_required(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main([])
    assert exit_info.value.code == 2
    assert "required: COMMAND" in capsys.readouterr().err


def test_sigkill_mid_stream_keeps_every_acknowledged_write(tmp_path: Path) -> None:
    db = tmp_path / "killed.db"
    served = _spawn(["--data", str(db)])
    acknowledged: list[str] = []
    lock = threading.Lock()
    stop = threading.Event()

    def writer(n: int) -> None:
        with httpx.Client(
            base_url=served.url, headers={"Authorization": "Bearer t"}, trust_env=False
        ) as client:
            i = 0
            while not stop.is_set():
                try:
                    response = client.post(
                        "/container_registries",
                        json={"name": f"w{n}-{i}", "registry_type": "ghcr"},
                    )
                except httpx.HTTPError:
                    return
                if response.status_code == 200:
                    with lock:
                        acknowledged.append(response.json()["container_registry"]["id"])
                i += 1

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 10
    while len(acknowledged) < 40 and time.monotonic() < deadline:
        time.sleep(0.01)
    served.proc.kill()  # SIGKILL while the writers are still going
    served.proc.wait()
    stop.set()
    for t in threads:
        t.join(10)
    assert served.proc.returncode == -signal.SIGKILL
    assert len(acknowledged) >= 40

    with Emulator(data_path=db) as em:
        stored = {r["id"] for r in em.admin.registries()}
    assert set(acknowledged) <= stored
    conn = sqlite3.connect(db)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        conn.close()
