"""Every hostile input and answer of the reliability table gets the error it should, and no
outcome holds any piece of the secret."""

from __future__ import annotations

import base64

import pytest

from reliability._hostile import PIECE, SECRET, Case, Outcome, cases, leaked_pieces

CASES = cases()


def test_the_table_has_entries_of_every_kind() -> None:
    assert len(CASES) >= 60
    assert {case.kind for case in CASES} == {
        "input",
        "answer",
        "verdict",
        "setting",
        "emulator",
        "deadline",
    }


@pytest.mark.parametrize(
    "text",
    [
        f"error: {SECRET[3 : 3 + PIECE]}",  # a cut inside the secret
        f"... {SECRET[-PIECE:]}",
        base64.b64encode(f"u:{SECRET}".encode()).decode()[5 : 5 + PIECE],  # cut Basic form
    ],
    ids=["middle", "tail", "basic"],
)
def test_an_outcome_holding_a_piece_of_the_secret_fails(text: str) -> None:
    case = Case("answer", "a leak", "error", lambda: text)
    assert leaked_pieces(text) > 0
    assert not Outcome(case, text).ok


@pytest.mark.parametrize("case", CASES, ids=[case.description for case in CASES])
def test_each_gets_its_expected_outcome_without_the_secret(case: Case) -> None:
    actual = case.run()
    # Scanned before anything that could show it: a failure reports how many pieces leaked.
    assert leaked_pieces(actual) == 0, f"{leaked_pieces(actual)} pieces of the secret leaked"
    assert case.expected in actual


def test_a_failing_row_never_prints_the_piece_it_found() -> None:
    from reliability.__main__ import _hostile_table

    case = Case("answer", "an echo", "BadRequestError", lambda: "")
    leaking = Outcome(case, f"ServerError: echo {SECRET[2:14]}\x1b[2J")
    plain = Outcome(case, "ServerError: no\x1b[2J | luck")
    leaking_row, plain_row = _hostile_table([leaking, plain])[2:]
    assert SECRET[2 : 2 + PIECE] not in leaking_row
    assert "pieces of the secret" in leaking_row
    assert "\x1b" not in plain_row
    assert plain_row.endswith("| FAIL: ServerError: no\\x1b[2J \\| luck |")
