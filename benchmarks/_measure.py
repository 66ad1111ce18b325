"""Measuring a command: wall time, CPU time and peak memory of its process tree; import time.

Peak memory is the largest sum, over one sample, of the resident set size (``VmRSS``) of the
command's process and every descendant alive at that moment (for ``pulumi``: the CLI, the
language host, the Python program and the dynamic-provider process), sampled every 50 ms from
``/proc``; and the same sum over the Python processes alone (the program and the
dynamic-provider process: what a provider's pickling and a program's size change). Pages
shared between processes count once per process, as ``ps`` shows them.
"""

from __future__ import annotations

import os
import resource
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

__all__ = ["SAMPLE_INTERVAL", "Run", "TreeSampler", "import_time_ms", "run_measured"]

SAMPLE_INTERVAL = 0.05
_PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")
_PROC = Path("/proc")


@dataclass(frozen=True)
class Run:
    argv: tuple[str, ...]
    returncode: int
    wall_s: float
    cpu_s: float
    peak_rss_bytes: int
    stdout: str
    stderr: str
    peak_python_rss_bytes: int = 0


def _parent_of(pid: int) -> int | None:
    try:
        stat = (_PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    # The command name (field 2) is in parentheses and may contain spaces or parentheses.
    fields = stat[stat.rfind(")") + 2 :].split()
    return int(fields[1])


def _is_python(pid: int) -> bool:
    """Whether the process runs a Python interpreter (read at each sample: a process may
    exec one after it was first seen)."""
    try:
        argv0 = (_PROC / str(pid) / "cmdline").read_bytes().split(b"\0", 1)[0]
    except OSError:
        return False
    return Path(argv0.decode(errors="replace")).name.startswith("python")


def _rss_bytes(pid: int) -> int:
    try:
        return int((_PROC / str(pid) / "statm").read_text().split()[1]) * _PAGE_SIZE
    except (OSError, IndexError, ValueError):
        return 0


class TreeSampler(threading.Thread):
    """Samples the summed RSS of ``root`` and its descendants until :meth:`stop`."""

    def __init__(self, root: int, interval: float = SAMPLE_INTERVAL) -> None:
        super().__init__(name=f"rss-sampler-{root}", daemon=True)
        self.root = root
        self.interval = interval
        self.peak_bytes = 0
        self.peak_python_bytes = 0
        self._members: set[int] = {root}
        self._stopped = threading.Event()

    def sample(self) -> int:
        # Descendants are created after the root, so (pid numbers growing until they wrap)
        # only processes with a larger pid need their parent looked up.
        try:
            names = os.listdir(_PROC)
        except OSError:
            names = []
        members = {pid for pid in self._members if (_PROC / str(pid)).exists()}
        candidates = sorted(
            pid for pid in (int(n) for n in names if n.isdigit()) if pid > self.root
        )
        for pid in candidates:
            if pid not in members and _parent_of(pid) in members:
                members.add(pid)
        self._members = members | {self.root}
        rss = {pid: _rss_bytes(pid) for pid in members}
        total = sum(rss.values())
        python = sum(size for pid, size in rss.items() if _is_python(pid))
        self.peak_bytes = max(self.peak_bytes, total)
        self.peak_python_bytes = max(self.peak_python_bytes, python)
        return total

    def run(self) -> None:
        while True:
            self.sample()
            if self._stopped.wait(self.interval):
                return

    def stop(self) -> None:
        self._stopped.set()
        self.join()


def run_measured(argv: Sequence[str], *, cwd: Path, env: Mapping[str, str]) -> Run:
    """Run ``argv`` to completion: its wall time, and the CPU time and peak RSS of its process
    tree. CPU time is user + system of every descendant waited for (the CLI waits for its
    plugins and the program), read with ``getrusage(RUSAGE_CHILDREN)`` before and after; it
    counts what the run computed, where wall time also counts what a busy machine made it
    wait for."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    proc = subprocess.Popen(
        list(argv),
        cwd=cwd,
        env=dict(env),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    sampler = TreeSampler(proc.pid)
    sampler.start()
    try:
        stdout, stderr = proc.communicate()
    finally:
        wall = time.perf_counter() - started
        sampler.stop()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return Run(
        tuple(argv),
        proc.returncode,
        wall,
        cpu,
        sampler.peak_bytes,
        stdout,
        stderr,
        sampler.peak_python_bytes,
    )


_IMPORT_PROBE = """
import time
import pulumi
import pulumi.dynamic
started = time.perf_counter()
{imports}
print(time.perf_counter() - started)
"""


def import_time_ms(
    modules: Sequence[str], *, env: Mapping[str, str], runs: int = 7, cwd: Path | None = None
) -> float:
    """Median time to import ``modules`` in a fresh interpreter that has already imported
    ``pulumi`` and ``pulumi.dynamic`` (as the dynamic-provider process has, when it unpickles
    a provider)."""
    code = _IMPORT_PROBE.format(imports="\n".join(f"import {m}" for m in modules))
    samples = []
    for _ in range(runs):
        proc = subprocess.run(
            [sys.executable, "-c", code],
            cwd=cwd,
            env=dict(env),
            capture_output=True,
            text=True,
            check=True,
        )
        samples.append(float(proc.stdout.strip().splitlines()[-1]) * 1000)
    return statistics.median(samples)
