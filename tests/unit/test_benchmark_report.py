"""The benchmark's pure parts: summaries, target evaluation and the report (no engine run)."""

from __future__ import annotations

from benchmarks._report import (
    FLOOR,
    OPERATIONS,
    OURS,
    Lifecycle,
    OpResult,
    Results,
    evaluate,
    parse_summary,
    render,
)


def _lifecycle(
    kind: str,
    size: int,
    latency: int,
    *,
    up: float,
    requests: dict[str, int] | None = None,
    writes: dict[str, int] | None = None,
    state: int = 1000,
) -> Lifecycle:
    requests = requests or {}
    writes = writes or {}
    ops = {
        op: OpResult(
            operation=op,
            wall_s=up if op == "up" else 1.0,
            cpu_s=1.0,
            peak_rss_bytes=100 * 2**20,
            requests=requests.get(op, 0),
            writes=writes.get(op, 0),
            summary={"unchanged": size + 1} if op == "up (no change)" else {},
        )
        for op in OPERATIONS
    }
    return Lifecycle(kind, size, latency, ops, state_bytes=state * size, trace_bytes=300 * size)


def _results(ours_up_0: float = 10.5, ours_up_100: float = 17.0, **kwargs: object) -> Results:
    good = {"up": 200, "refresh": 1, "destroy": 200}
    lifecycles = [
        _lifecycle(FLOOR, 200, 0, up=10.0),
        _lifecycle(FLOOR, 200, 100, up=10.0),
        _lifecycle(OURS, 200, 0, up=ours_up_0, requests=good, writes={"up": 200}),
        _lifecycle(OURS, 200, 100, up=ours_up_100, requests=good, writes={"up": 200}),
    ]
    results = Results(
        sizes=[200],
        latencies_ms=[0, 100],
        repeats=1,
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
    assert targets[0].measured.startswith("1.12x (median of 1 back-to-back pairs")
    # bound: 1.2 x (10 s + 200 x 0.1 s / 4) = 18 s
    assert targets[4].verdict == "FAIL"
    assert "bound 18.0 s" in targets[4].measured


def test_requests_writes_import_and_state() -> None:
    results = _results(import_ms=151.0)
    # Counts fail on the worst run; state bytes on the median (1000 twice, 1600 three times).
    results.lifecycles.append(
        _lifecycle(
            OURS,
            200,
            0,
            up=10.0,
            requests={"up (no change)": 1, "refresh": 3},
            writes={"preview": 1},
            state=1600,
        )
    )
    results.lifecycles += [_lifecycle(OURS, 200, 100, up=10.0, state=1600) for _ in range(2)]
    assert _verdicts(results) == ["PASS", "FAIL", "FAIL", "FAIL", "PASS", "FAIL", "FAIL"]


def test_a_no_change_up_that_changes_something_fails() -> None:
    results = _results()
    changed = _lifecycle(OURS, 200, 0, up=10.0)
    changed.ops["up (no change)"].summary["updated"] = 1
    results.lifecycles.append(changed)
    target = evaluate(results)[1]
    assert target.verdict == "FAIL"
    assert "changed resources" in target.measured


def test_unmeasured_targets_are_not_passed() -> None:
    results = _results(latencies_ms=[100])
    results.lifecycles = [c for c in results.lifecycles if c.latency_ms == 100]
    assert evaluate(results)[0].verdict == "n/a"


def test_medians_over_repeats() -> None:
    results = _results()
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
    assert "| 200 | 184 + 16 | 1000 | 1000 | +0 | 300 | 300 |" in report
    assert report.count("**PASS**") == 7
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
    assert results.paired_ratio(200, 0, "up") == 1.05
    target = evaluate(results)[0]
    assert target.verdict == "PASS"
    assert target.measured.startswith(
        "1.05x (median of 3 back-to-back pairs, which ranged 1.05-1.09x"
    )
