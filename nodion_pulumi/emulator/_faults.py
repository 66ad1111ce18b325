"""Fault injection: what a flaky network, a rate limiter or a crashing proxy does to a client.

Faults are rules matched against each /v1 request. Several delays (`latency` holds the
request before Nodion handles it, `slow_answer` holds the answer after the change is made)
may fire together with at most one terminal fault (status, reset_before, drop_after); rules
are tried in the order they were added. `times` counts firings only, and `rate` is drawn from
a per-fault `random.Random(seed)` so a seeded scenario replays identically.
"""

from __future__ import annotations

import itertools
import random
import re
import threading
from dataclasses import dataclass, field
from typing import Any, TypeGuard

from nodion_pulumi.emulator._http import JSON_TYPE, Reply, reason

KINDS = ("latency", "slow_answer", "status", "reset_before", "drop_after")
_DELAYS = ("latency", "slow_answer")
_FIELDS = {"kind", "method", "path", "status", "retry_after", "seconds", "times", "rate", "seed"}

_HTML_TYPE = "text/html; charset=utf-8"
_PROXY_PAGE = (
    "<html>\r\n<head><title>{code} {text}</title></head>\r\n<body>\r\n"
    "<center><h1>{code} {text}</h1></center>\r\n<hr><center>nginx</center>\r\n"
    "</body>\r\n</html>\r\n"
)


class FaultSpecError(ValueError):
    def __init__(self, errors: list[str]) -> None:
        super().__init__("; ".join(errors))
        self.errors = errors


@dataclass
class Fault:
    id: str
    kind: str
    method: str | None
    path: str | None
    status: int | None
    retry_after: float | None
    seconds: float | None
    times: int | None
    rate: float
    seed: int | None
    remaining: int | None = None
    fired: int = 0
    _pattern: re.Pattern[str] | None = field(default=None, repr=False)
    _rng: random.Random = field(default_factory=random.Random, repr=False)

    def applies_to(self, method: str, path: str) -> bool:
        if self.remaining is not None and self.remaining <= 0:
            return False
        if self.method is not None and self.method != method:
            return False
        return self._pattern is None or self._pattern.search(path) is not None

    def describe(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "method": self.method,
            "path": self.path,
            "status": self.status,
            "retry_after": self.retry_after,
            "seconds": self.seconds,
            "times": self.times,
            "rate": self.rate,
            "seed": self.seed,
            "remaining": self.remaining,
            "fired": self.fired,
        }


@dataclass(frozen=True)
class Firing:
    delay: float = 0.0
    latency_fired: bool = False
    terminal: Fault | None = None
    # Seconds the answer waits once the change is made: the request is carried out at once,
    # so a client that gives up meanwhile finds the change already done when it looks.
    answer_delay: float = 0.0

    @property
    def kind(self) -> str | None:
        if self.terminal is not None:
            return self.terminal.kind
        if self.answer_delay:
            return "slow_answer"
        return "latency" if self.latency_fired else None


def _number(value: object) -> TypeGuard[float]:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def parse_fault(spec: object, fault_id: str) -> Fault:
    if not isinstance(spec, dict):
        raise FaultSpecError(["fault must be a JSON object"])
    errors = [f"unknown field: {key}" for key in sorted(set(spec) - _FIELDS)]
    kind = spec.get("kind")
    if kind not in KINDS:
        errors.append(f"kind must be one of: {', '.join(KINDS)}")
    method = spec.get("method")
    if method is not None and not isinstance(method, str):
        errors.append("method must be a string or null")
    path = spec.get("path")
    pattern = None
    if path is not None:
        try:
            pattern = re.compile(path) if isinstance(path, str) else None
        except re.error as exc:
            errors.append(f"path is not a valid regular expression: {exc}")
        if not isinstance(path, str):
            errors.append("path must be a string or null")
    status = spec.get("status")
    if kind == "status" and not (
        isinstance(status, int) and not isinstance(status, bool) and 100 <= status <= 599
    ):
        errors.append("status must be an HTTP status code (100-599) for kind status")
    retry_after = spec.get("retry_after")
    if retry_after is not None and not (_number(retry_after) and retry_after >= 0):
        errors.append("retry_after must be a non-negative number or null")
    seconds = spec.get("seconds")
    if kind in _DELAYS and not (_number(seconds) and seconds >= 0):
        errors.append(f"seconds must be a non-negative number for kind {kind}")
    times = spec.get("times", 1)
    if times is not None and not (
        isinstance(times, int) and not isinstance(times, bool) and times >= 1
    ):
        errors.append("times must be a positive integer or null")
    rate = spec.get("rate", 1.0)
    if not (_number(rate) and 0.0 <= rate <= 1.0):
        errors.append("rate must be a number between 0 and 1")
    seed = spec.get("seed")
    if seed is not None and not (isinstance(seed, int) and not isinstance(seed, bool)):
        errors.append("seed must be an integer or null")
    if errors:
        raise FaultSpecError(errors)
    return Fault(
        id=fault_id,
        kind=str(kind),
        method=method.upper() if isinstance(method, str) else None,
        path=path,
        status=status if kind == "status" else None,
        retry_after=float(retry_after) if retry_after is not None else None,
        seconds=float(seconds) if kind in _DELAYS and seconds is not None else None,
        times=times,
        rate=float(rate),
        seed=seed,
        remaining=times,
        _pattern=pattern,
        _rng=random.Random(seed),  # noqa: S311 - jitter for tests, not cryptography
    )


class FaultSet:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []
        self._ids = itertools.count(1)

    def add(self, spec: object) -> Fault:
        with self._lock:
            fault = parse_fault(spec, f"fault-{next(self._ids)}")
            self._faults.append(fault)
            return fault

    def describe(self) -> list[dict[str, Any]]:
        with self._lock:
            return [f.describe() for f in self._faults]

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def select(self, method: str, path: str) -> Firing:
        delay, latency_fired, answer_delay = 0.0, False, 0.0
        with self._lock:
            for fault in self._faults:
                if not fault.applies_to(method, path):
                    continue
                if fault.rate < 1.0 and fault._rng.random() >= fault.rate:
                    continue
                fault.fired += 1
                if fault.remaining is not None:
                    fault.remaining -= 1
                if fault.kind == "latency":
                    delay += fault.seconds or 0.0
                    latency_fired = True
                    continue
                if fault.kind == "slow_answer":
                    answer_delay += fault.seconds or 0.0
                    continue
                return Firing(delay, latency_fired, fault, answer_delay)
        return Firing(delay, latency_fired, None, answer_delay)


def status_fault_reply(fault: Fault) -> Reply:
    """Bodies as real middleboxes send them: JSON from the app, HTML from a proxy, or nothing."""
    status = fault.status or 500
    headers: tuple[tuple[str, str], ...] = ()
    if fault.retry_after is not None:
        value = fault.retry_after
        headers = (("Retry-After", str(int(value)) if value == int(value) else str(value)),)
    if status in (502, 504):
        page = _PROXY_PAGE.format(code=status, text=reason(status)).encode()
        return Reply(status, raw=page, content_type=_HTML_TYPE, headers=headers)
    if status == 503:
        return Reply(status, raw=b"", content_type=None, headers=headers)
    body = {"status": status, "error": reason(status)}
    return Reply(status, body, content_type=JSON_TYPE, headers=headers)
