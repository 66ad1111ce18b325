"""The benchmark's pure parts: summaries, target evaluation and the report (no engine run)."""

from __future__ import annotations

import base64
import json
import pickle
from typing import Any

from benchmarks._report import (
    FLOOR,
    OPERATIONS,
    OURS,
    SCALE_OPERATIONS,
    UP_MIN_PAIRS,
    Lifecycle,
    OpResult,
    Results,
    Target,
    evaluate,
    parse_summary,
    render,
    serialized_providers,
    state_parts,
    undeclared_inputs,
)

# Per resource, as the lifecycles below record them: everything but `rest` (200 bytes).
PARTS = {"stack traces": 1300, "serialized provider": 200, "inputs": 150, "outputs": 150}


def _lifecycle(
    kind: str,
    size: int,
    latency: int,
    *,
    up: float,
    requests: dict[str, int] | None = None,
    writes: dict[str, int] | None = None,
    extra: dict[str, int] | None = None,
    rest: int = 0,
    cpu: float | None = None,
    operations: tuple[str, ...] = OPERATIONS,
    summaries: dict[str, dict[str, int]] | None = None,
) -> Lifecycle:
    """``extra``: bytes per resource added to some parts (and so to the state); ``rest``:
    bytes added to the whole stack outside the parts; ``cpu``: the CPU time of the `up`
    (default: its wall time)."""
    requests = requests or {}
    writes = writes or {}
    ops = {
        op: OpResult(
            operation=op,
            wall_s=up if op == "up" else 1.0,
            cpu_s=(up if cpu is None else cpu) if op == "up" else 1.0,
            peak_rss_bytes=100 * 2**20,
            requests=requests.get(op, 0),
            writes=writes.get(op, 0),
            summary=(summaries or {}).get(
                op, {"unchanged": size + 1} if op == "up (no change)" else {}
            ),
            python_peak_rss_bytes=60 * 2**20,
        )
        for op in operations
    }
    parts = dict(PARTS)
    for part, more in (extra or {}).items():
        parts[part] = parts.get(part, 0) + more
    state = 200 + sum(parts.values())
    return Lifecycle(
        kind,
        size,
        latency,
        ops,
        state_bytes=state * size + rest,
        parts={part: value * size for part, value in parts.items()},
    )


def _results(
    ours_up_0: float = 10.5,
    ours_up_100: float = 17.0,
    pairs: int = UP_MIN_PAIRS,
    cpu_up_0: float | None = None,
    **kwargs: object,
) -> Results:
    """Every target met, with ``pairs`` back-to-back pairs at 200 resources and 0 ms."""
    good = {"up": 200, "refresh": 1, "destroy": 200}
    lifecycles = []
    for _ in range(pairs):
        lifecycles += [
            _lifecycle(FLOOR, 200, 0, up=10.0),
            _lifecycle(OURS, 200, 0, up=ours_up_0, requests=good, writes={"up": 200}, cpu=cpu_up_0),
        ]
    lifecycles += [
        _lifecycle(FLOOR, 200, 100, up=10.0),
        _lifecycle(OURS, 200, 100, up=ours_up_100, requests=good, writes={"up": 200}),
    ]
    results = Results(
        sizes=[200],
        latencies_ms=[0, 100],
        repeats=1,
        headline_repeats=pairs,
        lifecycles=lifecycles,
        import_ms=40.0,
        floor_import_ms=3.0,
        shapes={200: (184, 16)},
    )
    for key, value in kwargs.items():
        setattr(results, key, value)
    return results


def _verdicts(results: Results) -> list[str]:
    return [t.verdict for t in evaluate(results)]


def test_all_targets_pass() -> None:
    assert _verdicts(_results()) == ["PASS"] * 7


def test_up_ratio_and_latency_bound() -> None:
    targets = evaluate(_results(ours_up_0=11.2, ours_up_100=18.1))
    assert targets[0].verdict == "FAIL"
    assert targets[0].measured.startswith("1.12x (median of 7 back-to-back pairs")
    assert "CPU time at most 1.10x the floor's" in targets[0].name
    # bound: 1.2 x (10 s + 200 x 0.1 s / 4) = 18 s
    assert targets[4].verdict == "FAIL"
    assert "bound 18.0 s" in targets[4].measured


def test_requests_writes_import_and_state() -> None:
    results = _results(import_ms=151.0)
    # Counts fail on the worst run, state bytes on the median. Ours has 8 lifecycles at 200
    # resources as the floor's; 7 more with one byte per resource more leave the median at
    # +0, 9 move it to +1.
    results.lifecycles.append(
        _lifecycle(
            OURS,
            200,
            0,
            up=10.0,
            requests={"up (no change)": 1, "refresh": 3},
            writes={"preview": 1},
            extra={"outputs": 1},
        )
    )
    results.lifecycles += [
        _lifecycle(OURS, 200, 100, up=10.0, extra={"outputs": 1}) for _ in range(6)
    ]
    assert _verdicts(results) == ["PASS", "FAIL", "FAIL", "FAIL", "PASS", "FAIL", "PASS"]
    results.lifecycles += [
        _lifecycle(OURS, 200, 100, up=10.0, extra={"outputs": 1}) for _ in range(2)
    ]
    assert evaluate(results)[6].verdict == "FAIL"
    assert evaluate(results)[6].measured.startswith("+1.0 bytes")


def _no_change_target(kind: str, updated: int) -> Target:
    """The no-change target when one more run of ``kind`` updated ``updated`` resources."""
    results = _results()
    changed = _lifecycle(kind, 200, 0, up=10.0)
    changed.ops["up (no change)"].summary["updated"] = updated
    results.lifecycles.append(changed)
    return evaluate(results)[1]


def test_a_no_change_up_that_changes_something_fails() -> None:
    target = _no_change_target(OURS, 1)
    assert target.verdict == "FAIL"
    assert target.measured == "at most 0 in 9 runs; 1 run(s) changed resources"


def test_a_floor_that_changes_resources_without_changes_is_named() -> None:
    target = _no_change_target(FLOOR, 184)
    # Ours is still judged on its own runs; the note says the floor's times are off.
    assert target.verdict == "PASS"
    assert target.measured == (
        "at most 0 in 8 runs; the floor changed resources in 1 run(s), so its no-change "
        "times are not a floor"
    )


def test_unmeasured_targets_are_not_judged() -> None:
    results = _results(latencies_ms=[100])
    results.lifecycles = [c for c in results.lifecycles if c.latency_ms == 100]
    targets = evaluate(results)
    assert targets[0].verdict == "not judged"
    assert targets[0].passed is None
    # No floor stack at all: the state target cannot be judged either.
    results.lifecycles = [c for c in results.lifecycles if c.kind == OURS]
    state = evaluate(results)[6]
    assert (state.passed, state.measured) == (None, "not measured")


def test_the_up_ratio_is_judged_on_seven_pairs_or_more() -> None:
    assert UP_MIN_PAIRS == 7
    # Six pairs, far over the limit or well under it: neither PASS nor FAIL.
    for ours_up in (10.5, 13.0):
        target = evaluate(_results(ours_up_0=ours_up, pairs=UP_MIN_PAIRS - 1))[0]
        assert target.passed is None
        assert target.verdict == "not judged"
        assert target.measured.startswith(f"{ours_up / 10:.2f}x (median of 6 back-to-back")
        assert "too few pairs to judge (at least 7)" in target.measured
    # The seventh pair makes it a judgement either way.
    assert evaluate(_results(ours_up_0=10.5, pairs=UP_MIN_PAIRS))[0].verdict == "PASS"
    assert evaluate(_results(ours_up_0=13.0, pairs=UP_MIN_PAIRS))[0].verdict == "FAIL"
    # An unpaired extra run of ours does not count as a pair.
    results = _results(pairs=UP_MIN_PAIRS - 1)
    results.lifecycles.append(_lifecycle(OURS, 200, 0, up=10.5))
    assert evaluate(results)[0].passed is None


def _state_target(extra: dict[str, int] | None = None, rest: int = 0) -> Target:
    """The state target when every stack of ours has what :func:`_lifecycle` adds."""
    results = _results()
    results.lifecycles = [
        _lifecycle(c.kind, c.size, c.latency_ms, up=10.5, extra=extra, rest=rest)
        if c.kind == OURS
        else c
        for c in results.lifecycles
    ]
    return evaluate(results)[6]


def test_the_state_target_is_ours_minus_the_floor_outside_the_stack_traces() -> None:
    # Ours records far longer stack traces than the floor: not ours, not counted.
    target = _state_target({"stack traces": 400})
    assert target.name.startswith("State per resource: ours minus the floor at most 0 bytes")
    assert target.verdict == "PASS"
    assert target.measured == (
        "+0.0 bytes at 200 resources (700.0 - 700.0; serialized provider +0.0, inputs +0.0, "
        "outputs +0.0, rest +0.0; stack traces, not counted: 1700.0 and 1300.0)"
    )
    # A longer serialized provider and a field only ours writes into its inputs fail it,
    # and the measured text says which part grew.
    target = _state_target({"serialized provider": 48, "inputs": 22, "stack traces": -50})
    assert target.verdict == "FAIL"
    assert target.measured == (
        "+70.0 bytes at 200 resources (770.0 - 700.0; serialized provider +48.0, inputs +22.0, "
        "outputs +0.0, rest +0.0; stack traces, not counted: 1250.0 and 1300.0)"
    )
    # The verdict takes whole bytes: less than half a byte per resource (the engine's
    # timestamps) rounds to 0 and passes; the text shows the tenths.
    target = _state_target(rest=80)
    assert target.verdict == "PASS"
    assert target.measured.startswith("+0.4 bytes at 200 resources (700.4 - 700.0;")
    target = _state_target(rest=120)
    assert target.verdict == "FAIL"
    assert target.measured.startswith("+0.6 bytes")
    assert "rest +0.6" in target.measured
    # A difference that rounds to nothing shows no sign of its own.
    assert _state_target(rest=-4).measured.startswith("+0.0 bytes")
    # Ours smaller than the floor passes, with the sign shown.
    target = _state_target({"outputs": -3})
    assert target.verdict == "PASS"
    assert target.measured.startswith("-3.0 bytes")
    assert "outputs -3.0" in target.measured


def test_state_parts_of_a_checkpoint() -> None:
    provider = "gASVOAAAAAAAAACM"
    traces: dict[str, Any] = {
        "sourcePosition": "project:///__main__.py#34",
        "stackTrace": [{"sourcePosition": "project:///__main__.py#34"}, {}],
    }
    stack: dict[str, Any] = {"urn": "urn:pulumi:s::p::pulumi:pulumi:Stack::p-s", **traces}
    registry: dict[str, Any] = {
        "urn": "urn:pulumi:s::p::pulumi-python:dynamic/nodion:ContainerRegistry::r",
        "inputs": {"__provider": provider, "name": "n", "hostname": "docker.io"},
        "outputs": {"__provider": provider, "name": "n", "status": "available"},
        **traces,
    }
    checkpoint = {"version": 3, "checkpoint": {"latest": {"resources": [stack, registry]}}}
    text = json.dumps(checkpoint, separators=(",", ":"))  # how the CLI writes it

    def lost(index: int, *path: str) -> int:
        """Bytes the file loses without one member of its ``index``-th resource."""
        copy = json.loads(text)
        target = copy["checkpoint"]["latest"]["resources"][index]
        for key in path[:-1]:
            target = target[key]
        del target[path[-1]]
        return len(text) - len(json.dumps(copy, separators=(",", ":")))

    parts = state_parts(checkpoint)
    provider_bytes = lost(1, "inputs", "__provider") + lost(1, "outputs", "__provider")
    assert parts["stack traces"] == sum(
        lost(index, key) for index in (0, 1) for key in ("sourcePosition", "stackTrace")
    )
    assert parts["serialized provider"] == provider_bytes == 2 * len('"__provider":"",') + 32
    assert parts["inputs"] == lost(1, "inputs") - provider_bytes // 2
    assert parts["outputs"] == lost(1, "outputs") - provider_bytes // 2
    assert sum(parts.values()) < len(text)
    assert state_parts({"checkpoint": {"latest": {}}}) == dict.fromkeys(parts, 0)


class _Plain:
    """A provider pickled as a bare class reference, as the floor's are."""


class _EmptyState:
    """A provider that pickles an empty state, as 0.1.0's did (``__getstate__`` returned {})."""

    def __getstate__(self) -> dict[str, Any]:
        return {}


class _WithState:
    def __init__(self) -> None:
        self.token = "t"


def _checkpoint(*resources: dict[str, Any]) -> dict[str, Any]:
    return {"checkpoint": {"latest": {"resources": list(resources)}}}


def test_serialized_providers_name_their_class_and_state_without_unpickling() -> None:
    def entry(provider: object, protocol: int = pickle.DEFAULT_PROTOCOL) -> dict[str, Any]:
        serialized = base64.b64encode(pickle.dumps(provider, protocol=protocol)).decode()
        return {"inputs": {"__provider": serialized}, "outputs": {"__provider": serialized}}

    def label(cls: type) -> str:
        return f"{cls.__module__}.{cls.__qualname__}"

    sizes = {
        cls: len(pickle.dumps(cls(), protocol=pickle.DEFAULT_PROTOCOL))
        for cls in (_Plain, _EmptyState, _WithState)
    }
    found = serialized_providers(
        _checkpoint(
            entry(_Plain()),
            entry(_Plain()),
            entry(_EmptyState()),
            entry(_WithState()),
            {"inputs": {"__provider": "not base64!"}},
            {"inputs": {"__provider": {"ciphertext": "v1:..."}}},  # a secret: not read
            {"type": "pulumi:pulumi:Stack"},
        )
    )
    assert found == {
        label(_Plain): sizes[_Plain],
        f"{label(_EmptyState)} with an empty state": sizes[_EmptyState],
        f"{label(_WithState)} with a state": sizes[_WithState],
        "unreadable": 0,
    }
    # Protocol 2 names the class with a GLOBAL opcode and memoizes with BINPUT.
    old = serialized_providers(_checkpoint(entry(_EmptyState(), protocol=2)))
    assert list(old) == [f"{label(_EmptyState)} with an empty state"]


def test_undeclared_inputs_are_the_fields_check_added() -> None:
    declared: dict[str, list[str]] = {"__provider": [], "name": [], "registry_type": []}
    registry = {
        "inputs": {"__provider": "p", "name": "n", "registry_type": "ghcr", "hostname": "h"},
        "propertyDependencies": declared,
    }
    custom = {**registry, "inputs": {"__provider": "p", "name": "n", "hostname": "h"}}
    default_provider = {"inputs": {"nodion:apiUrl": "u"}}  # no propertyDependencies
    found = undeclared_inputs(_checkpoint(registry, custom, default_provider, {}))
    assert found == {"hostname": 2}
    assert undeclared_inputs(_checkpoint({**registry, "inputs": {"name": "n"}})) == {}


def test_the_report_says_what_the_state_parts_are_made_of() -> None:
    results = _results()
    ours = [c for c in results.lifecycles if c.kind == OURS]
    ours[0].providers["pkg.mod.Provider with an empty state"] = 83
    ours[0].undeclared["hostname"] = 123
    next(c for c in results.lifecycles if c.kind == FLOOR).providers["bench.Noop"] = 67
    report = render(results, evaluate(results))
    assert "- ours: pickled providers `pkg.mod.Provider with an empty state` (83 bytes); " in (
        report
    )
    assert "input fields no program declared: `hostname` in 123 resources." in report
    assert (
        "- the floor: pickled providers `bench.Noop` (67 bytes); input fields no program "
        "declared: none." in report
    )


def test_medians_over_repeats() -> None:
    results = _results(pairs=1)
    results.lifecycles += [_lifecycle(FLOOR, 200, 0, up=30.0), _lifecycle(FLOOR, 200, 0, up=12.0)]
    summary = results.op(FLOOR, 200, 0, "up")
    assert summary is not None
    assert summary.runs == 3
    assert summary.wall_s == 12.0


def test_render_has_the_tables_and_verdicts() -> None:
    results = _results()
    report = render(results, evaluate(results))
    assert report.startswith("# Benchmark")
    assert "| 200 | up | 10.50 | 10.00 | 1.05x |" in report
    assert "| 200 | 184 + 16 | 2000 | 2000 | 1300 | 1300 | +0 | +0 | +0 | +0 | +0 |" in report
    assert report.count("**PASS**") == 7
    assert "only on 7 pairs or more" in report
    unjudged = _results(pairs=3)
    report = render(unjudged, evaluate(unjudged))
    assert report.count("**PASS**") == 6
    assert "| **not judged** |" in report
    assert "only indicative" not in report
    small = _results(sizes=[10])
    assert "only indicative" in render(small, [])


def test_parse_summary() -> None:
    output = "Updating\n\nResources:\n    + 11 created\n    2 unchanged\n\nDuration: 3s\n"
    assert parse_summary(output) == {"created": 11, "unchanged": 2}
    assert parse_summary("Resources:\n    - 3 to delete\n") == {"to delete": 3}
    assert parse_summary("no summary") == {}


def test_the_up_target_uses_back_to_back_ratios() -> None:
    results = _results()
    results.lifecycles = [
        _lifecycle(FLOOR, 200, 0, up=10.0),
        _lifecycle(OURS, 200, 0, up=10.5),
        _lifecycle(OURS, 200, 0, up=21.0),  # a busy spell slows both runs of this pair
        _lifecycle(FLOOR, 200, 0, up=20.0),
        _lifecycle(FLOOR, 200, 0, up=10.0),
        _lifecycle(OURS, 200, 0, up=10.9),
    ]
    for _ in range(2):
        results.lifecycles += [
            _lifecycle(FLOOR, 200, 0, up=10.0),
            _lifecycle(OURS, 200, 0, up=10.0),
        ]
        results.lifecycles += [
            _lifecycle(OURS, 200, 0, up=11.5),
            _lifecycle(FLOOR, 200, 0, up=10.0),
        ]
    # Ratios 1.05, 1.05, 1.09, 1.00, 1.15, 1.00, 1.15: the median pair, not the median times
    # (ours 10.9 s over the floor's 10.0 s would be 1.09x).
    assert results.paired_ratio(200, 0, "up") == 1.05
    target = evaluate(results)[0]
    assert target.verdict == "PASS"
    assert target.measured.startswith(
        "1.05x (median of 7 back-to-back pairs, which ranged 1.00-1.15x"
    )


def test_the_up_target_is_judged_on_cpu_time_with_the_wall_time_beside_it() -> None:
    # A busy machine stretched ours' wall time by half; its CPU time is 1.05x the floor's.
    target = evaluate(_results(ours_up_0=15.0, cpu_up_0=10.5))[0]
    assert target.verdict == "PASS"
    assert target.measured == (
        "1.05x (median of 7 back-to-back pairs, which ranged 1.05-1.05x; median CPU times "
        "10.5 s and 10.0 s); wall time 1.50x (pairs 1.50-1.50x; median times 15.0 s and "
        "10.0 s)"
    )
    # And the other way round: the same wall time, 1.2x the CPU, fails.
    assert evaluate(_results(ours_up_0=10.0, cpu_up_0=12.0))[0].verdict == "FAIL"


def _scale(
    ours_ms: dict[int, float],
    floor_ms: dict[int, float] | None = None,
    *,
    created: int | None = None,
) -> Results:
    """Every other target met, plus a scale curve with these `up` times per resource."""
    results = _results()
    for kind, per_resource in ((OURS, ours_ms), (FLOOR, floor_ms or {})):
        for size, ms in per_resource.items():
            done = size + 1 if created is None else created
            results.scale.append(
                _lifecycle(
                    kind,
                    size,
                    0,
                    up=ms * size / 1000,
                    operations=SCALE_OPERATIONS,
                    summaries={"up": {"created": done}, "destroy": {"deleted": done}},
                )
            )
    return results


def test_the_scale_targets_judge_the_up_per_resource_and_the_largest_stack() -> None:
    results = _scale({200: 30.0, 1000: 28.0, 3000: 36.0}, {200: 25.0, 3000: 24.0})
    growth, through = evaluate(results)[7:]
    assert growth.name == "`up` per resource at 3000: at most 1.25x that at 200 (scale curve)"
    assert (growth.verdict, growth.measured) == (
        "PASS",
        "36.0 ms against 30.0 ms: 1.20x (the floor: 24.0 and 25.0 ms, 0.96x)",
    )
    assert through.verdict == "PASS"
    assert through.measured == "`up` created 3001, `destroy` deleted 3001 (the stack included)"
    # A cost per resource that grows (a quadratic serialization, say) fails.
    assert evaluate(_scale({200: 30.0, 3000: 39.0}))[7].verdict == "FAIL"
    # An `up` that stopped short fails the second.
    assert evaluate(_scale({200: 30.0, 3000: 30.0}, created=900))[8].verdict == "FAIL"


def test_a_failed_scale_stack_is_reported_with_its_error() -> None:
    results = _scale({200: 30.0, 1000: 30.0})
    results.scale_failures[(OURS, 3000, 0)] = "RecursionError: maximum recursion depth"
    through = evaluate(results)[8]
    assert through.verdict == "FAIL"
    assert through.measured == "failed: RecursionError: maximum recursion depth"
    report = render(results, evaluate(results))
    assert "- failed: nodion 3000 at 0 ms: RecursionError: maximum recursion depth" in report


def test_the_report_has_the_scale_curve_beside_the_floor() -> None:
    results = _scale({200: 30.0, 3000: 36.0}, {200: 25.0, 3000: 24.0})
    results.scale.append(_lifecycle(OURS, 1000, 100, up=31.0, operations=SCALE_OPERATIONS))
    report = render(results, evaluate(results))
    assert "## Scale: external registries only" in report
    # N, latency, operation, then each measure ours and floor: s, ms/resource, CPU s, the
    # peak of the whole tree and of the Python processes.
    assert (
        "| 3000 | 0 | up | 108.00 | 72.00 | 36.0 | 24.0 | 108.00 | 72.00 | 100 | 100 | 60 | 60 |"
        in (report)
    )
    # The 100 ms stack is ours alone.
    assert "| 1000 | 100 | up | 31.00 | - | 31.0 | - | 31.00 | - | 100 | - | 60 | - |" in report
    assert "State per resource after `up`, outside the engine's stack traces: 200: ours" in report
    # Without a scale curve the report has neither the section nor its targets.
    plain = _results()
    assert len(evaluate(plain)) == 7
    assert "## Scale" not in render(plain, evaluate(plain))
