"""Looking for the outcome of a write whose answer was lost, on the session's own clock."""

from __future__ import annotations

from typing import Any

from nodion_pulumi._errors import NodionConnectionError, NodionTimeoutError
from nodion_pulumi._recovery import LOOK_INTERVAL, look_after_lost_answer


class _Clock:
    """A session stand-in whose sleep moves its clock: no real time passes."""

    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def _lost(kind: type[NodionConnectionError]) -> NodionConnectionError:
    return kind("gone", operation="create", method="POST", path="/x", request_sent=True)


def test_after_a_timeout_it_keeps_looking_until_it_finds_something() -> None:
    session: Any = _Clock()
    answers = iter([[], [], ["found"]])
    found = look_after_lost_answer(
        session, _lost(NodionTimeoutError), lambda: next(answers), seconds=10
    )
    assert found == ["found"]
    assert session.slept == [LOOK_INTERVAL, LOOK_INTERVAL]


def test_after_a_timeout_it_stops_looking_at_the_deadline() -> None:
    session: Any = _Clock()
    looks: list[float] = []

    def look() -> list[str]:
        looks.append(session.now)
        return []

    assert look_after_lost_answer(session, _lost(NodionTimeoutError), look, seconds=3) == []
    assert looks == [0.0, 1.0, 2.0, 3.0]


def test_other_lost_answers_are_looked_for_once() -> None:
    session: Any = _Clock()
    looks: list[int] = []

    def look() -> bool:
        looks.append(1)
        return False

    assert look_after_lost_answer(session, _lost(NodionConnectionError), look, seconds=30) is False
    assert looks == [1]
    assert session.slept == []
