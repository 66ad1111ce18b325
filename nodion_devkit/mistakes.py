"""`make mistakes`: a new user's mistakes run through the real Pulumi CLI, written to
docs/mistakes.md (never typed by hand).

Each case (nodion_devkit/mistake_cases.py) is a small program run with `pulumi preview` and,
when preview passes, `pulumi up`, against one emulator. The table records the phase that
caught the mistake, how many lines the CLI printed for the failing resource, whether a Python
traceback appeared, what reached Nodion (the emulator's request log) and the message.

`--check` exits non-zero when a case misses the bar of issue 11: caught later than its
expected phase, a traceback for a program-side failure, more than 12 lines of diagnostics,
or a secret in the output.
"""

from __future__ import annotations

import argparse
import datetime
import os
import re
import socket
import string
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import httpx

from nodion_devkit.engine import REPO_ROOT, Engine, assert_no_plaintext, ensure_pulumi
from nodion_devkit.mistake_cases import CASES, HEADER, Case
from nodion_pulumi.emulator import Emulator, nodion_registry_id

MAX_LINES = 12
# Markers the output and the state are scanned for: none may appear in either.
TOKEN = "mistakes-token-4b8e1f"
WRONG_TOKEN = "wrong-token-9c2d7a"
PASSWORD = "mistakes-password-61f0"
SECRETS = (TOKEN, WRONG_TOKEN, PASSWORD)
PROJECT = "mistake"
NOT_CAUGHT = "not caught"
_GENERIC = (
    "update failed",
    "preview failed",
    "Resource monitor has terminated",
    "an unhandled error occurred: Program exited with non-zero exit code",
)
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_MESSAGE_CHARS = 400


@dataclass(frozen=True)
class Result:
    case: Case
    phase: str  # "preview", "up" or NOT_CAUGHT
    lines: int  # diagnostic lines of the failing resource
    traceback: bool
    writes: tuple[str, ...]  # "METHOD /path -> status" of each write request Nodion received
    message: str
    leaked: bool = False


# -- reading what the CLI printed ----------------------------------------------------------


def diagnostic_blocks(output: str) -> dict[str, list[str]]:
    """The `Diagnostics:` section, per resource header (`type (name)`), its lines dedented.

    Blank lines inside a block are kept: a multi-line message is printed with them.
    """
    blocks: dict[str, list[str]] = {}
    current: list[str] | None = None
    inside = False
    for line in output.splitlines():
        if line.rstrip() == "Diagnostics:":
            inside = True
            continue
        if not inside:
            continue
        if line and not line.startswith(" "):
            break  # "Resources:", "Outputs:", ...: the section is over
        if line.startswith("  ") and not line.startswith("    ") and line.rstrip().endswith("):"):
            current = blocks.setdefault(line.strip()[:-1], [])
            continue
        if current is not None:
            current.append(line[4:] if line.startswith("    ") else line.strip())
    return {header: _trim(lines) for header, lines in blocks.items()}


def _trim(lines: list[str]) -> list[str]:
    while lines and not lines[-1].strip():
        lines = lines[:-1]
    return lines


def failing_block(blocks: Mapping[str, list[str]]) -> list[str]:
    """The diagnostics of the resource the mistake is about.

    The stack's block only repeats that an update failed when a resource failed; it is the
    one to read when the program itself failed (or when nothing else has an error).
    """
    errored = {h: b for h, b in blocks.items() if any("error:" in line for line in b)}
    specific = {
        h: b for h, b in errored.items() if not all(_is_generic(line) for line in b if line.strip())
    }
    chosen = specific or errored
    if not chosen:
        return []
    resources = {h: b for h, b in chosen.items() if not h.startswith("pulumi:pulumi:Stack")}
    return max((resources or chosen).values(), key=len)


def _is_generic(line: str) -> bool:
    return any(g in line for g in _GENERIC)


def has_traceback(text: str) -> bool:
    return "Traceback (most recent call last)" in text


def count_lines(block: list[str]) -> int:
    return sum(1 for line in block if line.strip())


def message_of(block: list[str]) -> str:
    """The words of the error without traceback frames, on one line."""
    lines = list(block)
    frames = [i for i, line in enumerate(lines) if line.lstrip().startswith('File "')]
    if frames:
        last = frames[-1]
        indent = len(lines[last]) - len(lines[last].lstrip())
        rest = last + 1
        while rest < len(lines) and len(lines[rest]) - len(lines[rest].lstrip()) > indent:
            rest += 1  # the frame's source line and its ^^^ markers
        lines = lines[rest:]
    words = []
    for line in lines:
        text = line.strip()
        if not text or _is_generic(text) or text.startswith("Traceback (most recent"):
            continue
        if text.startswith("error: "):
            text = text[len("error: ") :]
        if text == "Program failed with an unhandled exception:":
            continue
        words.append(text)
    message = " ".join(words)
    return message if len(message) <= _MESSAGE_CHARS else message[: _MESSAGE_CHARS - 1] + "…"


def redact(text: str, secrets: Iterable[str]) -> tuple[str, bool]:
    """The text with every secret replaced, and whether any was there."""
    leaked = False
    for secret in secrets:
        try:
            assert_no_plaintext({"output": text}, [secret])
        except AssertionError:
            leaked = True
            text = text.replace(secret, "[secret]")
    return text, leaked


# -- the bar -------------------------------------------------------------------------------


def problems(result: Result) -> list[str]:
    """Why a result misses the issue's bar; empty when it meets it."""
    found = []
    order = {"preview": 0, "up": 1, NOT_CAUGHT: 2}
    if order[result.phase] > order[result.case.expected]:
        found.append(f"caught at {result.phase}, expected at {result.case.expected}")
    if result.case.side == "program" and result.traceback:
        found.append("a traceback for a program-side failure")
    if result.lines > MAX_LINES:
        found.append(f"{result.lines} lines of diagnostics (at most {MAX_LINES})")
    if result.leaked:
        found.append("a secret in the output")
    return found


# -- the table -----------------------------------------------------------------------------


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _writes(writes: tuple[str, ...]) -> str:
    return ", ".join(_UUID.sub("{id}", w) for w in writes) or "none"


def summary(results: list[Result]) -> list[str]:
    at = {phase: [r for r in results if r.phase == phase] for phase in ("preview", "up")}
    missed = [r for r in results if problems(r)]
    long = [r.case.key for r in results if r.lines > MAX_LINES]
    return [
        f"- {len(results)} cases: {len(at['preview'])} caught at preview, {len(at['up'])} at "
        f"up, {sum(r.phase == NOT_CAUGHT for r in results)} not caught.",
        f"- Over {MAX_LINES} lines of diagnostics: {', '.join(long) or 'none'}.",
        f"- Cases missing the bar: {', '.join(r.case.key for r in missed) or 'none'}.",
    ]


def render(results: list[Result], today: str) -> str:
    lines = [
        "# A new user's mistakes, as the CLI reports them",
        "",
        f"Generated by `make mistakes` (`python -m nodion_devkit.mistakes`) on {today}: each "
        "mistake is a small program (nodion_devkit/mistake_cases.py) run with `pulumi "
        "preview` and, when preview passes, `pulumi up --skip-preview`, through the real "
        "Pulumi CLI against the emulator. Do not edit by hand.",
        "",
        "*Lines* counts what the CLI printed under `Diagnostics:` for the failing resource "
        "(the stack, for a program-side failure). *Writes* are the write requests Nodion "
        "received, with its answers (the emulator's request log). The bar: caught no later "
        f"than expected, at most {MAX_LINES} lines, no traceback for a program-side failure "
        "(a lookup, the configuration), no secret in the output or the state.",
        "",
        *summary(results),
        "",
        "| case | mistake | side | caught at | expected | lines | traceback | writes "
        "| message | meets the bar |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        verdict = "; ".join(problems(r)) or "yes"
        lines.append(
            f"| {r.case.key} | {_cell(r.case.mistake)} ({r.case.origin}) | {r.case.side} "
            f"| {r.phase} | {r.case.expected} | {r.lines} | {'yes' if r.traceback else 'no'} "
            f"| {_writes(r.writes)} | {_cell(r.message)} | {_cell(verdict)} |"
        )
    later = [r for r in results if r.case.expected == "up"]
    if later:
        lines += ["", "## Why these are not caught at preview", ""]
        lines += [f"- **{r.case.key}**: {r.case.later_because}." for r in later]
    return "\n".join(lines) + "\n"


# -- running the cases ---------------------------------------------------------------------


def _dead_url() -> str:
    """A loopback URL nothing listens on: what a stopped emulator leaves behind."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/v1"


@dataclass
class Runner:
    """One emulator shared by every case, reset before each one."""

    bin_dir: Path
    root: Path
    emulator: Emulator
    dead_url: str

    def run(self, case: Case) -> Result:
        # The registries are served too: a refresh verifies credentials against them.
        engine = Engine(
            bin_dir=self.bin_dir,
            root=self.root / case.key,
            extra_env=self.emulator.registry_environment(),
        )
        external_id = self._reset()
        values = {
            "fra_id": nodion_registry_id(self.emulator.project_id, "fra"),
            "external_id": external_id,
            "missing_id": str(uuid.uuid4()),
            "password": PASSWORD,
        }
        work_dir = engine.root / "program"
        work_dir.mkdir(parents=True)
        (work_dir / "Pulumi.yaml").write_text(f"name: {PROJECT}\nruntime: python\n")
        pulumi = self._cli(engine, work_dir)
        pulumi("stack", "init", case.key)
        url = {"url": self.emulator.url, "root": self.emulator.root_url, "dead": self.dead_url}
        pulumi("config", "set", "nodion:apiUrl", url[case.url])
        token = {"token": TOKEN, "wrong": WRONG_TOKEN, "none": None}[case.token]
        if token is not None:
            pulumi("config", "set", "--secret", "nodion:apiToken", token)
        if case.before is not None:
            self._write(work_dir, case.before, values)
            up = pulumi("up", "--yes", "--skip-preview")
            if up.returncode != 0:
                raise RuntimeError(f"{case.key}: the starting stack failed:\n{up.stdout}")
        if case.out_of_band != "none":
            self.emulator.admin.regenerate_credentials(values["fra_id"])
        if case.out_of_band == "regenerate-then-refresh":
            refresh = pulumi("refresh", "--yes", "--skip-preview")
            if refresh.returncode != 0:
                raise RuntimeError(f"{case.key}: the refresh failed:\n{refresh.stdout}")
        self._write(work_dir, case.program, values)
        self.emulator.admin.clear_requests()
        phase, proc = "preview", pulumi("preview")
        if proc.returncode == 0:
            phase, proc = "up", pulumi("up", "--yes", "--skip-preview")
        output, leaked = redact(proc.stdout + proc.stderr, SECRETS)
        state = {str(p): p.read_text(errors="replace") for p in engine.state_files()}
        try:
            assert_no_plaintext(state, list(SECRETS))
        except AssertionError:
            leaked = True
        block = failing_block(diagnostic_blocks(output)) if proc.returncode else []
        writes = tuple(
            f"{w['method']} {w['path']} -> {w['status']}" for w in self.emulator.admin.writes()
        )
        return Result(
            case=case,
            phase=phase if proc.returncode else NOT_CAUGHT,
            lines=count_lines(block),
            traceback=proc.returncode != 0 and has_traceback(output),
            writes=writes,
            message=message_of(block) if block else "",
            leaked=leaked,
        )

    def _reset(self) -> str:
        """Back to the seeded registries, plus one external registry; returns its id."""
        admin = self.emulator.admin
        for registry in admin.registries():
            if registry["registry_type"] != "nodion":
                admin.delete_registry(registry["id"])
            elif registry["has_credentials"]:
                admin.drop_credentials(registry["id"])
        response = httpx.post(
            f"{self.emulator.url}/container_registries",
            json={"name": "existing", "registry_type": "docker_hub"},
            headers={"Authorization": f"Bearer {TOKEN}"},
            trust_env=False,
        )
        response.raise_for_status()
        return str(response.json()["container_registry"]["id"])

    @staticmethod
    def _write(work_dir: Path, program: str, values: Mapping[str, str]) -> None:
        body = string.Template(program).substitute(values)
        (work_dir / "__main__.py").write_text(HEADER + body)

    def _cli(
        self, engine: Engine, work_dir: Path
    ) -> Callable[..., subprocess.CompletedProcess[str]]:
        # Only what the engine sets: a NODION_* variable of the caller would change the case.
        env = {k: v for k, v in os.environ.items() if not k.startswith("NODION_")}
        env.update(engine.env())

        def pulumi(*args: str) -> subprocess.CompletedProcess[str]:
            return subprocess.run(
                [str(self.bin_dir / "pulumi"), *args, "--non-interactive", "--color", "never"],
                cwd=work_dir,
                env=env,
                capture_output=True,
                text=True,
                check=False,
                timeout=300,
            )

        return pulumi


def run_cases(
    cases: Iterable[Case], bin_dir: Path, root: Path, progress: Callable[[str], None]
) -> list[Result]:
    results = []
    with Emulator(token=TOKEN, serve_registries=True) as emulator:
        runner = Runner(bin_dir, root, emulator, _dead_url())
        for case in cases:
            result = runner.run(case)
            progress(f"{case.key}: {result.phase}, {result.lines} lines")
            results.append(result)
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m nodion_devkit.mistakes", description=__doc__)
    parser.add_argument("--output", type=Path, default=REPO_ROOT / "docs" / "mistakes.md")
    parser.add_argument(
        "--check", action="store_true", help="write nothing; exit 1 if a case misses the bar"
    )
    parser.add_argument("--case", action="append", help="run only these case keys")
    args = parser.parse_args(argv)

    cases = [c for c in CASES if not args.case or c.key in args.case]
    bin_dir = ensure_pulumi()
    with tempfile.TemporaryDirectory(prefix="nodion-mistakes-") as tmp:
        results = run_cases(cases, bin_dir, Path(tmp), lambda line: print(line, flush=True))
    print("\n".join(summary(results)))
    if args.check:
        for r in results:
            for problem in problems(r):
                print(f"{r.case.key}: {problem}")
        return 1 if any(problems(r) for r in results) else 0
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(render(results, datetime.date.today().isoformat()))
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
