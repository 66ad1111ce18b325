"""`make reliability`: the fault matrix, the soak and the hostile-input table, through the
real Pulumi CLI and the emulator, and the stateful machine over the emulator run long,
written to docs/reliability.md (never typed by hand).

Exits non-zero when any cell fails, the soak finds a mismatch, an input gets an error other
than the one expected, or the machine finds a sequence that breaks an invariant.
"""

from __future__ import annotations

import argparse
import datetime
import sys
import tempfile
import time
from pathlib import Path

from nodion_devkit.engine import REPO_ROOT, ensure_pulumi
from nodion_pulumi._printable import printable
from reliability._hostile import Outcome, leaked_pieces, run_all
from reliability._machine import MachineFigures, run_machine
from reliability._matrix import FAULTS, OPERATIONS, STORMS, Cell, run_matrix
from reliability._soak import SoakFigures, run_soak


def _progress(line: str) -> None:
    print(line, flush=True)


def _matrix_table(cells: list[Cell]) -> list[str]:
    lines = [
        "| operation | fault | first run | repaired | duplicates | orphans after destroy "
        "| lost credentials | verdict |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for c in cells:
        first = c.first_run.replace("|", "\\|")
        lines.append(
            f"| {c.operation} | {c.fault} | {first} | {'yes' if c.repaired else 'NO'} "
            f"| {c.after.duplicates} | {c.after_destroy.orphans} "
            f"| {c.after.lost_credentials + c.after_destroy.lost_credentials} "
            f"| {'PASS' if c.ok else 'FAIL'} |"
        )
    return lines


def _soak_table(figures: SoakFigures) -> list[str]:
    rows = [
        ("seed", figures.seed),
        ("fault rate per request", figures.rate),
        ("stack", f"{figures.registries} registries + {figures.credentials} credentials"),
        ("cycles (up, refresh, destroy every other)", figures.cycles),
        ("CLI operations (including repairs)", figures.operations),
        ("HTTP requests to Nodion", figures.requests),
        ("faults injected", figures.faults_injected),
        ("credentials regenerated outside the stack (one per cycle)", figures.regenerations),
        ("operations that failed, then were repaired", figures.failed_operations),
        (
            "mismatches between Nodion, the registries and the state",
            figures.mismatches,
        ),
        ("seconds", f"{figures.seconds:.0f}"),
    ]
    lines = ["| figure | value |", "|---|---|", *(f"| {k} | {v} |" for k, v in rows)]
    if figures.failures:
        lines += ["", "Failures seen (each repaired by the next run):", ""]
        lines += [f"- {failure}" for failure in figures.failures]
    return lines


def _machine_table(figures: MachineFigures) -> list[str]:
    tally = figures.tally
    kinds = ", ".join(f"{kind} {count}" for kind, count in sorted(tally.error_kinds.items()))
    rows = [
        ("sequences asked for (hypothesis examples, derandomized)", figures.examples),
        ("sequences run (hypothesis may run a few more)", tally.runs),
        ("commands per sequence, at most", figures.steps),
        ("commands (each a provider process of its own)", tally.commands),
        ("faults fired", tally.faults_fired),
        ("changes made outside the stack", tally.changes_outside),
        ("errors reported to the user", f"{tally.errors}" + (f" ({kinds})" if kinds else "")),
        ("seconds", f"{figures.seconds:.0f}"),
        ("verdict", "PASS" if figures.failure is None else "FAIL"),
    ]
    lines = ["| figure | value |", "|---|---|", *(f"| {k} | {v} |" for k, v in rows)]
    if figures.failure is not None:
        lines += ["", "The sequence that broke an invariant:", "", "```", figures.failure, "```"]
    return lines


def _hostile_table(outcomes: list[Outcome]) -> list[str]:
    lines = ["| kind | input or answer | expected | verdict |", "|---|---|---|---|"]
    for o in outcomes:
        expected = o.case.expected.replace("|", "\\|")
        lines.append(f"| {o.case.kind} | {o.case.description} | {expected} | {_verdict(o)} |")
    return lines


def _verdict(outcome: Outcome) -> str:
    """PASS, or why not; a failure that holds a piece of the secret says how many pieces,
    never the text around them."""
    if outcome.ok:
        return "PASS"
    pieces = leaked_pieces(outcome.actual)
    if pieces:
        return f"FAIL: {pieces} pieces of the secret in what was printed"
    return "FAIL: " + printable(outcome.actual[:80]).replace("|", "\\|")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m reliability", description=__doc__)
    parser.add_argument("--output", type=Path, default=REPO_ROOT / "docs" / "reliability.md")
    parser.add_argument("--cycles", type=int, default=6, help="soak cycles")
    parser.add_argument("--seed", type=int, default=20261127)
    parser.add_argument("--skip-matrix", action="store_true")
    parser.add_argument("--skip-soak", action="store_true")
    parser.add_argument("--skip-machine", action="store_true")
    parser.add_argument(
        "--machine-examples", type=int, default=100, help="sequences of the stateful machine"
    )
    parser.add_argument(
        "--machine-steps", type=int, default=20, help="commands per sequence, at most"
    )
    args = parser.parse_args(argv)
    started = time.monotonic()

    outcomes = run_all()
    print(f"hostile inputs: {sum(o.ok for o in outcomes)}/{len(outcomes)} as expected")

    bin_dir = ensure_pulumi()
    with tempfile.TemporaryDirectory(prefix="nodion-reliability-") as tmp:
        cells: list[Cell] = []
        if not args.skip_matrix:
            print(
                f"fault matrix: {len(OPERATIONS)} operations x {len(FAULTS)} faults, "
                f"and {len(STORMS)} storm cell(s)"
            )
            cells = run_matrix(bin_dir, Path(tmp) / "matrix", _progress)
        soak = None
        if not args.skip_soak:
            print(f"soak: {args.cycles} cycles, seed {args.seed}")
            soak = run_soak(
                bin_dir, Path(tmp) / "soak", _progress, cycles=args.cycles, seed=args.seed
            )
    machine = None
    if not args.skip_machine:
        print(f"stateful machine: {args.machine_examples} sequences of <= {args.machine_steps}")
        machine = run_machine(args.machine_examples, args.machine_steps)
        print(f"stateful machine: {'ok' if machine.failure is None else 'FAIL'}")

    today = datetime.date.today().isoformat()
    lines = [
        "# Reliability under faults and hostile input",
        "",
        f"Generated by `make reliability` (`python -m reliability`) on {today}: the real "
        "Pulumi CLI against the emulator, which injects the faults. Do not edit by hand. "
        f"The run took {(time.monotonic() - started) / 60:.1f} minutes.",
        "",
    ]
    if cells:
        lines += [
            "## Fault matrix",
            "",
            "Each operation meets one fault on its request. *First run* is the outcome of the "
            "command that met the fault (succeeded by retrying or recovering, or the error it "
            "reported); when it failed, the same command runs again without the fault, as a "
            "user's next `up` would. Invariants are checked after that and after a destroy. "
            "A cell passes only if the first run succeeded: each fault here is one the client "
            "is built to absorb. The last rows are storms: every request of the operation "
            "meets a fault at the rate given, and the operation must still succeed in one "
            "run.",
            "",
            *_matrix_table(cells),
            "",
        ]
    if soak is not None:
        lines += ["## Soak", "", *_soak_table(soak), ""]
    if machine is not None:
        lines += [
            "## Stateful machine",
            "",
            "Both providers driven in process as the engine drives them "
            "(`nodion_devkit/provider_machine.py`): creates, updates, deletes, rotations and "
            "refreshes, each of which may meet 429/500/503, latency beyond the client's "
            "timeout or a lost answer, interleaved with registries deleted and credentials "
            "revoked or regenerated outside the stack. After every command: only Nodion's "
            "errors escape, no message holds a secret, no registry exists twice or unknown, "
            "the stack's credentials are the set Nodion holds, and after a refresh without "
            "faults the state is Nodion's truth. `make test` runs a few of these sequences.",
            "",
            *_machine_table(machine),
            "",
        ]
    lines += [
        "## Hostile input",
        "",
        "Inputs go through the providers' `check` (preview) on providers that were never "
        "configured, so a rejected input provably makes no API call. Answers are served to the "
        "client. A verdict also fails if the secret marker appears in the message.",
        "",
        *_hostile_table(outcomes),
        "",
    ]
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text("\n".join(lines))
    print(f"wrote {args.output}")

    machine_failed = machine is not None and machine.failure is not None
    failed = (
        sum(not c.ok for c in cells)
        + (soak.mismatches if soak else 0)
        + sum(not o.ok for o in outcomes)
        + machine_failed
    )
    print(
        f"matrix cells failing: {sum(not c.ok for c in cells)}; "
        f"soak mismatches: {soak.mismatches if soak else 'n/a'}; "
        f"hostile inputs failing: {sum(not o.ok for o in outcomes)}; "
        f"stateful machine: {'FAIL' if machine_failed else 'ok' if machine else 'n/a'}"
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
