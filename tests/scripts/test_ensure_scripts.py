"""The scripts/ensure-* tools on a PATH without `flock`, `sha256sum` and `timeout`, as on stock
macOS: the library's stand-ins (a mkdir lock, `shasum -a 256`, a watchdog) do the work.

Each run gets its own cache root (XDG_CACHE_HOME) and a bin directory holding links to only the
tools named here. Go's build cache is pinned to the usual one (Go would otherwise put it under
the temporary XDG_CACHE_HOME and compile everything from scratch), so the one real build here,
actionlint's, takes seconds of linking rather than a cold compile.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import time
from collections.abc import Callable, Iterable
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
SCRIPTS = REPO_ROOT / "scripts"
LIBRARY = SCRIPTS / "ensure-lib.sh"

# What the scripts call (perl runs shasum), minus the GNU-only tools under test (flock,
# sha256sum, timeout), and nothing more: a tool missing here that a script needs fails a test.
BASE_TOOLS = (
    "bash", "sh", "env", "basename", "dirname", "cat", "head", "tail", "sort", "sed", "grep",
    "mkdir", "mktemp", "rm", "rmdir", "mv", "touch", "cp", "install", "seq", "sleep", "find",
    "perl",
)  # fmt: skip
MISSING = ("flock", "sha256sum", "timeout")

Run = Callable[..., subprocess.CompletedProcess[str]]


def _go_env(name: str) -> str:
    return subprocess.run(
        ["go", "env", name], capture_output=True, text=True, check=True
    ).stdout.strip()


def _bin_dir(root: Path, tools: Iterable[str]) -> Path:
    """A directory of links to the named tools only; a tool this machine lacks fails here."""
    root.mkdir(parents=True)
    for tool in tools:
        found = shutil.which(tool)
        assert found is not None, f"{tool} is not on this machine's PATH"
        (root / tool).symlink_to(found)
    return root


def test_the_stripped_path_has_no_flock_sha256sum_or_timeout(tmp_path: Path) -> None:
    bin_dir = _bin_dir(tmp_path / "bin", [*BASE_TOOLS, "shasum", "go", "git"])
    found = subprocess.run(
        ["bash", "-c", 'for t in "$@"; do command -v "$t" || true; done', "bash", *MISSING],
        capture_output=True,
        text=True,
        env={"PATH": str(bin_dir)},
        check=True,
    )
    assert found.stdout == ""


@pytest.fixture
def cache(tmp_path: Path) -> Path:
    """The cache root the scripts use (XDG_CACHE_HOME/nodion-pulumi)."""
    return tmp_path / "xdg" / "nodion-pulumi"


@pytest.fixture
def run(tmp_path: Path, cache: Path) -> Run:
    """Runs a script with a stripped PATH (no Go): `with_shasum` adds the shasum stand-in;
    `extra_path` goes first."""
    counter = iter(range(1000))

    def _run(
        script: str,
        *,
        with_shasum: bool = True,
        extra_path: Path | None = None,
        env: dict[str, str] | None = None,
        timeout: float = 60,
    ) -> subprocess.CompletedProcess[str]:
        tools = [*BASE_TOOLS, *(["shasum"] if with_shasum else [])]
        bin_dir = _bin_dir(tmp_path / f"bin{next(counter)}", tools)
        path = f"{extra_path}:{bin_dir}" if extra_path else str(bin_dir)
        full_env = {
            "PATH": path,
            "HOME": os.environ["HOME"],
            "XDG_CACHE_HOME": str(cache.parent),
            **(env or {}),
        }
        return subprocess.run(
            [str(SCRIPTS / script)],
            capture_output=True,
            text=True,
            env=full_env,
            timeout=timeout,
            check=False,
        )

    return _run


def _fake_tool(path: Path, output: str = "") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"#!/bin/sh\nprintf '%s\\n' '{output}'\n" if output else "#!/bin/sh\n")
    path.chmod(0o755)


def _kubernetes_stamp() -> str:
    """The stamp ensure-kubernetes-plugin keeps: sha256 of its wrapper's sources, computed here
    independently of sha256sum and shasum."""
    sources = SCRIPTS / "pulumi-resource-kubernetes"
    data = b"".join((sources / name).read_bytes() for name in ("go.mod", "main.go", "generate.go"))
    return hashlib.sha256(data).hexdigest()[:16]


def _kubernetes_cache(cache: Path, stamp: str) -> Path:
    target = cache / "kubernetes-plugin-v4.25.0"
    _fake_tool(target / "bin" / "pulumi-resource-kubernetes")
    (target / ".sources-sha").write_text(stamp + "\n")
    (target / ".complete").touch()
    return target / "bin"


def _leftovers(cache: Path) -> list[str]:
    """Build directories and mkdir locks a finished run must not leave behind."""
    return sorted(
        p.name for p in cache.glob(".*") if p.name.startswith((".build-", ".lock-")) and p.is_dir()
    )


@pytest.mark.parametrize(
    ("script", "directory", "tool"),
    [
        ("ensure-crane", "crane-v0.22.1", "crane"),
        ("ensure-actionlint", "actionlint-v1.7.12", "actionlint"),
        ("ensure-pulumi-yaml", "pulumi-yaml-v1.25.0", "pulumi-language-yaml"),
    ],
)
def test_a_complete_cache_is_used_without_go(
    run: Run, cache: Path, script: str, directory: str, tool: str
) -> None:
    _fake_tool(cache / directory / "bin" / tool)
    (cache / directory / ".complete").touch()
    proc = run(script)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[-1] == str(cache / directory / "bin")


def test_a_cache_without_complete_is_not_used(run: Run, cache: Path) -> None:
    _fake_tool(cache / "crane-v0.22.1" / "bin" / "crane")
    proc = run("ensure-crane")
    assert proc.returncode != 0
    assert "Go is required to build crane" in proc.stderr
    assert proc.stdout == ""


def test_the_shasum_stamp_matches_a_cache_stamped_with_sha256(run: Run, cache: Path) -> None:
    # A cache made where sha256sum exists must stay valid where only shasum does, and back.
    bin_dir = _kubernetes_cache(cache, _kubernetes_stamp())
    proc = run("ensure-kubernetes-plugin")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[-1] == str(bin_dir)


def test_a_cache_stamped_from_other_sources_is_rebuilt_and_a_missing_go_is_named(
    run: Run, cache: Path
) -> None:
    _kubernetes_cache(cache, "0123456789abcdef")
    proc = run("ensure-kubernetes-plugin")
    assert proc.returncode != 0
    assert proc.stdout == ""
    assert proc.stderr.strip().splitlines()[-1] == (
        "ensure-kubernetes-plugin: Go is required to build pulumi-resource-kubernetes"
        " (https://go.dev/dl/)"
    )
    assert (cache / "kubernetes-plugin-v4.25.0" / ".complete").exists()  # left as it was
    assert _leftovers(cache) == []


def test_without_sha256sum_and_shasum_the_error_names_both(run: Run, cache: Path) -> None:
    proc = run("ensure-kubernetes-plugin", with_shasum=False)
    assert proc.returncode != 0
    assert proc.stdout == ""
    assert "neither sha256sum nor shasum is on PATH" in proc.stderr


def _fake_pulumi(directory: Path, version: str) -> Path:
    _fake_tool(directory / "pulumi", f"v{version}")
    for host in (
        "pulumi-language-python",
        "pulumi-language-python-exec",
        "pulumi-resource-pulumi-python",
    ):
        _fake_tool(directory / host)
    return directory


def test_a_recent_pulumi_on_path_is_used_with_no_build(
    run: Run, tmp_path: Path, cache: Path
) -> None:
    on_path = _fake_pulumi(tmp_path / "pulumi-bin", "3.276.0")
    proc = run("ensure-pulumi", extra_path=on_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[-1] == str(on_path)
    assert not cache.exists()


def test_an_old_pulumi_on_path_is_passed_over(run: Run, tmp_path: Path, cache: Path) -> None:
    on_path = _fake_pulumi(tmp_path / "pulumi-bin", "3.200.0")
    proc = run("ensure-pulumi", extra_path=on_path, env={"NODION_PULUMI_SKIP_INSTALLER": "1"})
    assert proc.returncode != 0
    assert f"ignoring {on_path}/pulumi: older than 3.260.0" in proc.stderr
    assert "Go is required to build the Pulumi CLI" in proc.stderr
    assert _leftovers(cache) == []


def test_an_old_crane_on_path_is_passed_over_for_the_cache(
    run: Run, tmp_path: Path, cache: Path
) -> None:
    _fake_tool(tmp_path / "crane-bin" / "crane", "v0.11.0")
    _fake_tool(cache / "crane-v0.22.1" / "bin" / "crane")
    (cache / "crane-v0.22.1" / ".complete").touch()
    proc = run("ensure-crane", extra_path=tmp_path / "crane-bin")
    assert proc.returncode == 0, proc.stderr
    assert "older than 0.12.0" in proc.stderr
    assert proc.stdout.splitlines()[-1] == str(cache / "crane-v0.22.1" / "bin")


def _dead_pid() -> int:
    proc = subprocess.Popen(["true"])
    proc.wait()
    return proc.pid


def test_a_lock_whose_holder_is_gone_is_taken_over(run: Run, cache: Path) -> None:
    lock = cache / ".lock-kubernetes-plugin-v4.25.0.d"
    lock.mkdir(parents=True)
    (lock / "pid").write_text(f"{_dead_pid()}\n")
    started = time.monotonic()
    proc = run("ensure-kubernetes-plugin", timeout=30)
    assert time.monotonic() - started < 10
    assert "taking over the lock of a run that is gone" in proc.stderr
    # It went on past the lock, to the build (which needs Go), and released the lock.
    assert "Go is required" in proc.stderr
    assert _leftovers(cache) == []


def test_a_lock_with_a_live_holder_is_waited_for(tmp_path: Path, cache: Path) -> None:
    lock = cache / ".lock-kubernetes-plugin-v4.25.0.d"
    lock.mkdir(parents=True)
    (lock / "pid").write_text(f"{os.getpid()}\n")
    bin_dir = _bin_dir(tmp_path / "bin", [*BASE_TOOLS, "shasum"])
    env = {"PATH": str(bin_dir), "HOME": os.environ["HOME"], "XDG_CACHE_HOME": str(cache.parent)}
    with subprocess.Popen(
        [str(SCRIPTS / "ensure-kubernetes-plugin")],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as proc:
        time.sleep(3)
        still_waiting = proc.poll() is None
        shutil.rmtree(lock)  # the holder finishes
        _, stderr = proc.communicate(timeout=20)
    assert still_waiting
    assert "Go is required" in stderr
    assert "taking over" not in stderr


def test_two_concurrent_cold_runs_build_actionlint_once(tmp_path: Path, cache: Path) -> None:
    # A real build from the Go module, on a PATH without flock, sha256sum and timeout.
    bin_dir = _bin_dir(tmp_path / "bin", [*BASE_TOOLS, "shasum", "go", "git"])
    env = {
        "PATH": str(bin_dir),
        "HOME": os.environ["HOME"],
        "XDG_CACHE_HOME": str(cache.parent),
        **{name: _go_env(name) for name in ("GOCACHE", "GOMODCACHE", "GOPATH", "GOPROXY")},
    }
    command = [str(SCRIPTS / "ensure-actionlint")]
    with (
        subprocess.Popen(
            command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        ) as first,
        subprocess.Popen(
            command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        ) as second,
    ):
        outputs = [first.communicate(timeout=300), second.communicate(timeout=300)]
    assert [first.returncode, second.returncode] == [0, 0], outputs
    expected = cache / "actionlint-v1.7.12" / "bin"
    assert [out.splitlines()[-1] for out, _ in outputs] == [str(expected)] * 2
    assert sum(err.count("building actionlint") for _, err in outputs) == 1, outputs
    version = subprocess.run(
        [str(expected / "actionlint"), "-version"], capture_output=True, text=True, check=True
    )
    assert version.stdout.splitlines()[0] == "v1.7.12"
    assert _leftovers(cache) == []


def _library(
    snippet: str, tmp_path: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    bin_dir = _bin_dir(tmp_path / "bin", BASE_TOOLS)
    return subprocess.run(
        ["bash", "-c", f'set -euo pipefail; . "$1"; {snippet}', "bash", str(LIBRARY)],
        capture_output=True,
        text=True,
        env={"PATH": str(bin_dir), "HOME": os.environ["HOME"], **(env or {})},
        timeout=30,
        check=False,
    )


def test_the_timeout_stand_in_stops_a_command_and_passes_a_quick_one(tmp_path: Path) -> None:
    started = time.monotonic()
    stopped = _library("ensure_with_timeout 1 sleep 30", tmp_path)
    assert stopped.returncode != 0
    assert time.monotonic() - started < 10
    quick = _library("ensure_with_timeout 5 sh -c 'exit 3' || echo rc=$?", tmp_path / "q")
    assert quick.stdout == "rc=3\n"


@pytest.mark.parametrize(
    ("minimum", "version", "expected"),
    [
        ("3.260.0", "3.276.0", 0),
        ("3.260.0", "3.260.0", 0),
        ("3.260.0", "3.99.0", 1),
        ("1.0", "", 1),
    ],
)
def test_version_comparison(tmp_path: Path, minimum: str, version: str, expected: int) -> None:
    proc = _library(f"ensure_version_at_least '{minimum}' '{version}'", tmp_path)
    assert proc.returncode == expected


def test_a_new_lock_made_while_breaking_an_abandoned_one_is_not_taken_over(
    tmp_path: Path, cache: Path
) -> None:
    # An abandoned lock with no pid (its holder was killed between mkdir and writing the pid).
    # Between this waiter's first look and its taking ".break", another waiter removes that lock
    # and a new run takes the lock, not having written its pid yet: the new lock must survive.
    lock = cache / ".lock-kubernetes-plugin-v4.25.0.d"
    lock.mkdir(parents=True)
    old = time.time() - 600
    os.utime(lock, (old, old))
    snippet = f"""
        ensure_init kubernetes-plugin-v4.25.0
        lock={str(lock)!r}
        mkdir() {{
            if [ "$1" = "$lock.break" ] && [ -z "${{raced:-}}" ]; then
                raced=1
                rm -rf "$lock" && command mkdir "$lock"
            fi
            command mkdir "$@"
        }}
        if ensure_lock 3; then echo taken; else echo waited; fi
    """
    proc = _library(snippet, tmp_path, env={"XDG_CACHE_HOME": str(cache.parent)})
    assert proc.stdout == "waited\n", proc.stderr
    assert "taking over" not in proc.stderr
    assert lock.is_dir()  # the new run's lock, untouched
    assert not (lock / "pid").exists()
    assert not (cache / ".lock-kubernetes-plugin-v4.25.0.d.break").exists()


def test_a_waiting_run_says_what_it_waits_for(tmp_path: Path, cache: Path) -> None:
    lock = cache / ".lock-kubernetes-plugin-v4.25.0.d"
    lock.mkdir(parents=True)
    (lock / "pid").write_text(f"{os.getpid()}\n")
    proc = _library(
        "ensure_init kubernetes-plugin-v4.25.0; ensure_lock 2 || true",
        tmp_path,
        env={"XDG_CACHE_HOME": str(cache.parent)},
    )
    waiting = [line for line in proc.stderr.splitlines() if line.startswith("bash: waiting")]
    assert waiting == [f"bash: waiting for pid {os.getpid()}, which holds the lock {lock}"]


def test_a_build_directory_left_by_a_killed_run_is_removed_by_the_next(
    tmp_path: Path, cache: Path, run: Run
) -> None:
    # A run killed outright (kill -9 of its process group, as the OOM killer or a cancelled job
    # does) has no EXIT trap: its build directory, inside the cache root, stays behind.
    fake_go = tmp_path / "fake-go" / "go"
    fake_go.parent.mkdir()
    fake_go.write_text(f"#!/bin/sh\ntouch {tmp_path}/go-started\nexec sleep 60\n")
    fake_go.chmod(0o755)
    bin_dir = _bin_dir(tmp_path / "bin", [*BASE_TOOLS, "shasum"])
    env = {
        "PATH": f"{fake_go.parent}:{bin_dir}",
        "HOME": os.environ["HOME"],
        "XDG_CACHE_HOME": str(cache.parent),
    }
    with subprocess.Popen(
        [str(SCRIPTS / "ensure-kubernetes-plugin")],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    ) as killed:
        deadline = time.monotonic() + 30
        while not (tmp_path / "go-started").exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        os.killpg(killed.pid, 9)
    assert [p for p in _leftovers(cache) if p.startswith(".build-")], "the killed run left nothing"
    proc = run("ensure-kubernetes-plugin")
    assert "Go is required" in proc.stderr  # it went past the lock to the build
    assert _leftovers(cache) == []


def test_the_timeout_stand_in_stops_what_the_command_started(tmp_path: Path) -> None:
    # The installer ensure-pulumi runs under the timeout is `sh install.sh`, whose curl is what
    # hangs without internet: stopping sh alone would leave curl running after the script ended.
    survived = tmp_path / "survived"
    proc = _library(
        f"ensure_with_timeout 1 sh -c '(sleep 2; touch {survived}) & wait' || echo stopped",
        tmp_path,
    )
    assert proc.stdout == "stopped\n", proc.stderr
    time.sleep(2.5)
    assert not survived.exists()


def test_the_timeout_stand_in_passes_on_the_commands_stderr_and_nothing_else(
    tmp_path: Path,
) -> None:
    proc = _library("ensure_with_timeout 5 sh -c 'echo said >&2; exit 4' || echo rc=$?", tmp_path)
    assert proc.stdout == "rc=4\n"
    assert proc.stderr == "said\n"  # no job-control report ("[1]+ Done ...")


@pytest.mark.parametrize("tools", [("sha256sum",), ("shasum",)])
def test_a_stamp_of_a_missing_source_is_an_error(tmp_path: Path, tools: tuple[str, ...]) -> None:
    # As the scripts call it, in $(...): no digest of the files that do exist.
    bin_dir = _bin_dir(tmp_path / "bin", [*BASE_TOOLS, *tools])
    proc = subprocess.run(
        [
            "bash",
            "-c",
            'set -euo pipefail; . "$1"; stamp="$(ensure_sha256 "$1" /nonexistent)" || echo failed',
            "bash",
            str(LIBRARY),
        ],
        capture_output=True,
        text=True,
        env={"PATH": str(bin_dir), "HOME": os.environ["HOME"]},
        timeout=30,
        check=False,
    )
    assert proc.stdout == "failed\n"
    assert f"bash: cannot hash {LIBRARY} /nonexistent" in proc.stderr
