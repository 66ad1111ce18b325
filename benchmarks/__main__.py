"""``python -m benchmarks``: run the benchmark, print the report, write it to ``docs/``.

Exits 1 when a target fails. Progress goes to stderr, the report to stdout.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from benchmarks._measure import import_time_ms
from benchmarks._report import (
    FLOOR,
    OURS,
    SCALE_OPERATIONS,
    UP_MIN_PAIRS,
    Lifecycle,
    Results,
    evaluate,
    render,
)
from benchmarks._stack import TOKEN, Shape, StackRunner, shape_for, stack_name
from nodion_devkit.engine import REPO_ROOT, Engine, ensure_pulumi
from nodion_pulumi.emulator import REGIONS, Emulator

DEFAULT_OUTPUT = REPO_ROOT / "docs" / "benchmark.md"
PROVIDER_MODULES = ("nodion_pulumi.container_registry", "nodion_pulumi.registry_credentials")


def _ints(text: str) -> list[int]:
    try:
        values = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated integers, got {text!r}"
        ) from None
    if not values or any(v < 0 for v in values):
        raise argparse.ArgumentTypeError(f"expected non-negative integers, got {text!r}")
    return values


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="The providers' cost over a no-op dynamic provider, through the real CLI.",
    )
    parser.add_argument("--sizes", type=_ints, default=[10, 50, 200], help="resources per stack")
    parser.add_argument(
        "--latencies", type=_ints, default=[0, 100], help="emulator latency in ms per request"
    )
    parser.add_argument(
        "--repeats", type=int, default=3, help="lifecycles of each kind per size and latency"
    )
    parser.add_argument(
        "--headline-repeats",
        type=int,
        default=UP_MIN_PAIRS,
        help="lifecycles of each kind at the largest size and 0 ms (the 1.10x target, judged "
        f"only on at least {UP_MIN_PAIRS})",
    )
    parser.add_argument(
        "--scale-sizes",
        type=_ints,
        default=[200, 1000, 3000],
        help="external registries per stack of the scale curve (preview, up, destroy)",
    )
    parser.add_argument(
        "--scale-latency-size",
        type=int,
        default=1000,
        help="one more scale stack of ours at 100 ms latency, of this size (0: none)",
    )
    parser.add_argument("--no-scale", action="store_true", help="leave out the scale curve")
    parser.add_argument(
        "--scale-checkpoints",
        action="store_true",
        help="let the scale stacks write the engine's intermediate checkpoints (off by default: "
        "the file backend rewrites the whole state after every step, a cost quadratic in the "
        "stack whatever the provider)",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="a smoke run: 10 resources, one lifecycle each, no report file unless --output",
    )
    parser.add_argument(
        "--output",
        type=Path,
        default=None,
        help=f"where to write the Markdown report (default {DEFAULT_OUTPUT.relative_to(REPO_ROOT)}"
        ", none with --quick)",
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.sizes, args.repeats, args.headline_repeats = [10], 1, 1
        args.scale_sizes, args.scale_latency_size = [10, 30], 0
    elif args.output is None:
        args.output = DEFAULT_OUTPUT
    if args.repeats < 1 or args.headline_repeats < 1:
        parser.error("--repeats and --headline-repeats must be at least 1")
    if args.no_scale:
        args.scale_sizes, args.scale_latency_size = [], 0
    for size in args.sizes:
        try:
            shape_for(size)
        except ValueError as error:
            parser.error(str(error))
    return args


def _progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _command_output(argv: Sequence[str]) -> str:
    try:
        proc = subprocess.run(
            list(argv), capture_output=True, text=True, check=False, cwd=REPO_ROOT
        )
    except OSError:
        return "unknown"
    return proc.stdout.strip() or "unknown"


def _environment(bin_dir: Path) -> dict[str, str]:
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    return {
        "at": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "commit": _command_output(["git", "describe", "--always", "--dirty"]),
        "Pulumi CLI": _command_output([str(bin_dir / "pulumi"), "version"]),
        "Python": platform.python_version(),
        "CPUs": str(os.cpu_count()),
        "load average at start": load,
    }


def _scale_lifecycle(
    runner: StackRunner,
    kind: str,
    size: int,
    latency_ms: int,
    results: Results,
    checkpoints: bool = False,
) -> None:
    """One stack of ``size`` external registries through SCALE_OPERATIONS; a CLI failure
    (say, a RecursionError in the program) is recorded, not raised, so that the report
    says which size failed."""
    with Emulator(token=TOKEN, regions=list(REGIONS)) as emulator:
        runner.engine.extra_env = {} if checkpoints else {"PULUMI_SKIP_CHECKPOINTS": "true"}
        if latency_ms:
            emulator.admin.add_fault("latency", seconds=latency_ms / 1000, times=None)
        stack = f"{stack_name(kind, size, latency_ms, 0)}-scale"
        try:
            results.scale.append(
                runner.lifecycle(
                    kind,
                    size,
                    latency_ms,
                    emulator,
                    stack,
                    operations=SCALE_OPERATIONS,
                    shape=Shape(externals=size, credentials=0),
                )
            )
        except RuntimeError as error:
            lines = [line for line in str(error).splitlines() if line.strip()]
            errors = [line for line in lines if "Error" in line] or lines or ["failed"]
            results.scale_failures[(kind, size, latency_ms)] = errors[-1].strip()
            _progress(f"  {kind} N={size} {latency_ms} ms failed: {errors[-1].strip()}")


def run_scale(runner: StackRunner, args: argparse.Namespace, results: Results) -> None:
    """The scale curve: ours and the floor back to back at each size (alternating which
    goes first), then ours alone at 100 ms latency."""
    for index, size in enumerate(args.scale_sizes):
        for kind in (FLOOR, OURS) if index % 2 == 0 else (OURS, FLOOR):
            _scale_lifecycle(runner, kind, size, 0, results, args.scale_checkpoints)
    if args.scale_latency_size:
        _scale_lifecycle(
            runner, OURS, args.scale_latency_size, 100, results, args.scale_checkpoints
        )


def run(args: argparse.Namespace) -> Results:
    bin_dir = ensure_pulumi()
    environment = _environment(bin_dir)
    started = time.perf_counter()
    root = Path(tempfile.mkdtemp(prefix="nodion-bench-"))
    lifecycles: list[Lifecycle] = []
    results = Results(
        sizes=list(args.sizes),
        latencies_ms=list(args.latencies),
        repeats=args.repeats,
        headline_repeats=args.headline_repeats,
        lifecycles=lifecycles,
        import_ms=0.0,
        floor_import_ms=0.0,
        shapes={s: (shape_for(s).externals, shape_for(s).credentials) for s in args.sizes},
        environment=environment,
    )
    try:
        runner = StackRunner(Engine(bin_dir=bin_dir, root=root), log=_progress)
        env = runner.env()
        results.import_ms = import_time_ms(PROVIDER_MODULES, env=env, cwd=root)
        results.floor_import_ms = import_time_ms(["benchmarks.noop_provider"], env=env, cwd=root)
        _progress(f"import of the provider modules: {results.import_ms:.0f} ms")
        for latency in args.latencies:
            for size in args.sizes:
                headline = size == max(args.sizes) and latency == 0
                for rep in range(args.headline_repeats if headline else args.repeats):
                    # Alternate which kind goes first, so that a slow spell of a busy
                    # machine does not always fall on the same side.
                    for kind in (FLOOR, OURS) if rep % 2 == 0 else (OURS, FLOOR):
                        with Emulator(
                            token=TOKEN, regions=list(REGIONS), serve_registries=True
                        ) as emulator:
                            # A refresh verifies credentials with the emulated registries.
                            runner.engine.extra_env = emulator.registry_environment()
                            if latency:
                                emulator.admin.add_fault(
                                    "latency", seconds=latency / 1000, times=None
                                )
                            stack = stack_name(kind, size, latency, rep)
                            lifecycles.append(
                                runner.lifecycle(kind, size, latency, emulator, stack)
                            )
        run_scale(runner, args, results)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    environment["load average at end"] = ", ".join(f"{v:.1f}" for v in os.getloadavg())
    results.duration_s = time.perf_counter() - started
    return results


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    results = run(args)
    targets = evaluate(results)
    report = render(results, targets)
    print(report)
    if args.output is not None:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(report)
        _progress(f"wrote {args.output}")
    failed = [t for t in targets if t.passed is False]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
