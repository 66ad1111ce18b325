"""`nodion-pulumi emulator` as a real separate process."""

from __future__ import annotations

import os
import re
import selectors
import signal
import sqlite3
import ssl
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
TOKEN_EXPORT = re.compile(r"^export NODION_API_TOKEN=(\S+)$")
CONSOLE_SCRIPT = Path(sys.executable).parent / "nodion-pulumi"


class Served:
    def __init__(self, proc: subprocess.Popen[str], url: str, token: str) -> None:
        self.proc = proc
        self.url = url
        self.token = token

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


def _read_lines(proc: subprocess.Popen[str], count: int, timeout: float = 15.0) -> list[str]:
    """Reads the raw pipe: the text wrapper would buffer lines that select cannot see."""
    assert proc.stdout is not None
    fd = proc.stdout.fileno()
    received = b""
    deadline = time.monotonic() + timeout
    with selectors.DefaultSelector() as selector:
        selector.register(fd, selectors.EVENT_READ)
        while received.count(b"\n") < count:
            if not selector.select(max(deadline - time.monotonic(), 0)):
                proc.kill()
                pytest.fail(f"emulator printed {received!r} within {timeout}s")
            chunk = os.read(fd, 4096)
            if not chunk:
                pytest.fail(f"emulator exited after printing {received!r}")
            received += chunk
    return received.decode().splitlines()


def _spawn(args: Sequence[str], env: dict[str, str] | None = None) -> Served:
    command = [sys.executable, "-m", "nodion_pulumi.cli", "emulator", "--port", "0", *args]
    proc = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **(env or {})},
    )
    line, url_export, token_line = _read_lines(proc, 3)
    found = URL_LINE.match(line)
    assert found, line
    assert int(found.group(1)) > 0
    url = line.split("=", 1)[1]
    assert url_export == f"export NODION_API_URL={url}"
    exported = TOKEN_EXPORT.match(token_line)
    assert exported, token_line
    return Served(proc, url, exported.group(1))


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
    assert served.token == "cli-token"
    with httpx.Client(base_url=served.url, trust_env=False) as client:
        assert client.get("/container_registries").status_code == 401
        wrong = client.get("/container_registries", headers={"Authorization": "Bearer other"})
        assert wrong.status_code == 401
        listed = client.get("/container_registries", headers=served.auth)
        assert listed.status_code == 200
        assert len(listed.json()["container_registries"]) == 4
    code, out, err = _finish(served.proc)
    assert code == 0
    assert out == ""  # the URL and export lines were the only stdout output
    assert "cli-token" not in err
    assert "token given by --token and kept in the data file (any other gets 401)" in err
    assert "Traceback" not in err


def test_without_token_a_generated_one_is_printed_and_required(tmp_path: Path) -> None:
    first = _spawn(["--data", str(tmp_path / "gen.db")])
    try:
        with httpx.Client(base_url=first.url, trust_env=False) as client:
            assert client.get("/container_registries", headers=first.auth).status_code == 200
            wrong = client.get("/container_registries", headers={"Authorization": "Bearer any"})
            assert wrong.status_code == 401
    finally:
        code, _, err = _finish(first.proc)
    assert code == 0
    assert "token generated and kept in the data file (any other gets 401)" in err
    assert first.token not in err
    assert len(first.token) >= 24


def test_a_restart_with_the_same_data_keeps_the_token(tmp_path: Path) -> None:
    """What a user stored with `pulumi config set --secret nodion:apiToken` keeps working."""
    first = _spawn(["--data", str(tmp_path / "kept.db")])
    assert _finish(first.proc)[0] == 0
    second = _spawn(["--data", str(tmp_path / "kept.db")])
    try:
        assert second.token == first.token
        listed = httpx.get(
            f"{second.url}/container_registries", headers=first.auth, trust_env=False
        )
        assert listed.status_code == 200
    finally:
        code, _, err = _finish(second.proc)
    assert code == 0
    assert "token kept in the data file from an earlier start (any other gets 401)" in err
    assert first.token not in err
    other = _spawn(["--data", str(tmp_path / "other.db")])
    assert _finish(other.proc)[0] == 0
    assert other.token != first.token


def test_token_given_replaces_the_kept_one_for_later_starts(tmp_path: Path) -> None:
    db = str(tmp_path / "given.db")
    generated = _spawn(["--data", db])
    assert _finish(generated.proc)[0] == 0
    given = _spawn(["--data", db, "--token", "chosen-token"])
    assert given.token == "chosen-token"
    assert _finish(given.proc)[0] == 0
    later = _spawn(["--data", db])
    try:
        assert later.token == "chosen-token"
        refused = httpx.get(
            f"{later.url}/container_registries", headers=generated.auth, trust_env=False
        )
        assert refused.status_code == 401
    finally:
        assert _finish(later.proc)[0] == 0


def test_the_data_file_holding_the_token_is_private(tmp_path: Path) -> None:
    db = tmp_path / "new-dir" / "private.db"
    served = _spawn(["--data", str(db)])
    try:
        # While running too: SQLite gives its -wal and -shm files the database file's mode.
        for path in [db, *db.parent.glob("private.db-*")]:
            assert path.stat().st_mode & 0o777 == 0o600, path
        assert db.parent.stat().st_mode & 0o777 == 0o700
    finally:
        assert _finish(served.proc)[0] == 0
    assert db.stat().st_mode & 0o777 == 0o600


def test_the_export_lines_work_in_a_shell(served: Served) -> None:
    script = 'eval "$(cat)"; printf \'%s\\n%s\\n\' "$NODION_API_URL" "$NODION_API_TOKEN"'
    lines = f"NODION_API_URL={served.url}\nexport NODION_API_URL={served.url}\n"
    lines += f"export NODION_API_TOKEN={served.token}\n"
    shell = subprocess.run(
        ["bash", "-c", script], input=lines, capture_output=True, text=True, check=True
    )
    assert shell.stdout.splitlines() == [served.url, served.token]


def test_serve_registries_prints_the_proxy_and_ca_lines(tmp_path: Path) -> None:
    command = [sys.executable, "-m", "nodion_pulumi.cli", "emulator", "--port", "0"]
    command += ["--data", str(tmp_path / "reg.db"), "--token", "t", "--serve-registries"]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        lines = _read_lines(proc, 7)
        assert URL_LINE.match(lines[0])
        assert lines[2] == "export NODION_API_TOKEN=t"
        proxy = re.fullmatch(r"HTTPS_PROXY=(http://127\.0\.0\.1:\d+)", lines[3])
        cert = re.fullmatch(r"SSL_CERT_FILE=(/\S+\.pem)", lines[4])
        assert proxy, lines[3]
        assert cert, lines[4]
        assert lines[5:] == [f"export HTTPS_PROXY={proxy[1]}", f"export SSL_CERT_FILE={cert[1]}"]
        ca = Path(cert[1])
        context = ssl.create_default_context(cafile=str(ca))
        with httpx.Client(proxy=proxy[1], verify=context, trust_env=False) as client:
            challenge = client.get("https://registry.fra.nodion.net/v2/")
        assert challenge.status_code == 401
        assert challenge.headers["WWW-Authenticate"].startswith(
            'Bearer realm="https://registry.fra.nodion.net/token"'
        )
    finally:
        code, out, err = _finish(proc)
    assert code == 0
    assert out == ""
    assert "registry.fra.nodion.net, registry.nbg.nodion.net" in err
    assert "Traceback" not in err
    assert not ca.exists()  # the test CA goes with the emulator


def test_serve_registries_without_trustme_says_what_to_install(tmp_path: Path) -> None:
    # A directory shadowing trustme with a module that fails to import, as if not installed.
    shadow = tmp_path / "shadow"
    shadow.mkdir()
    (shadow / "trustme.py").write_text("raise ImportError('No module named trustme')\n")
    env = {**os.environ, "PYTHONPATH": f"{shadow}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    command = [sys.executable, "-m", "nodion_pulumi.cli", "emulator", "--port", "0"]
    command += ["--data", str(tmp_path / "x.db"), "--serve-registries"]
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=30)
    assert done.returncode == 1
    assert done.stdout == ""
    assert "pip install 'nodion-pulumi[emulator]'" in done.stderr.splitlines()[-1]
    assert "Traceback" not in done.stderr


def test_a_port_in_use_says_to_pass_port_0(served: Served, tmp_path: Path) -> None:
    port = served.url.split(":")[2].split("/")[0]
    busy = subprocess.run(
        [
            sys.executable,
            "-m",
            "nodion_pulumi.cli",
            "emulator",
            "--port",
            port,
            "--data",
            str(tmp_path / "b.db"),
        ],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert busy.returncode == 1
    assert busy.stdout == ""
    assert busy.stderr.splitlines()[-1] == (
        f"nodion-pulumi emulator: cannot start: 127.0.0.1:{port} is already in use "
        "(another emulator?); pass --port 0 to pick a free port"
    )
    assert "Traceback" not in busy.stderr


def test_data_survives_a_cli_restart(tmp_path: Path) -> None:
    db = tmp_path / "cli.db"
    first = _spawn(["--data", str(db), "--token", "kept"])
    created = httpx.post(
        f"{first.url}/container_registries",
        json={"name": "persisted", "registry_type": "ghcr"},
        headers=first.auth,
        trust_env=False,
    ).json()["container_registry"]
    assert _finish(first.proc)[0] == 0
    second = _spawn(["--data", str(db), "--regions", "fra,waw", "--token", "kept"])
    try:
        fetched = httpx.get(
            f"{second.url}/container_registries",
            headers=second.auth,
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
    assert URL_LINE.match(_read_lines(proc, 3)[0])
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


def test_allow_remote_reaches_the_emulator(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # 192.0.2.10 (TEST-NET-1) is on no interface here: the bind fails, and the flag must have
    # got past the emulator's own loopback guard to get that far (no traceback, exit 1).
    code = main(
        [
            "emulator",
            "--allow-remote",
            "--host",
            "192.0.2.10",
            "--port",
            "0",
            "--data",
            str(tmp_path / "r.db"),
        ]
    )
    assert code == 1
    err = capsys.readouterr().err
    assert err.startswith("nodion-pulumi emulator: cannot start:")
    assert "allow_remote" not in err


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
        with httpx.Client(base_url=served.url, headers=served.auth, trust_env=False) as client:
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
