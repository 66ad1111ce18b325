"""Every hostile input and answer of the reliability table gets the error it should."""

from __future__ import annotations

import pytest

from reliability._hostile import SECRET, cases

CASES = cases()


def test_the_table_has_at_least_thirty_entries_of_both_kinds() -> None:
    assert len(CASES) >= 30
    assert {case.kind for case in CASES} == {"input", "answer"}


@pytest.mark.parametrize("case", CASES, ids=[case.description for case in CASES])
def test_each_gets_its_expected_outcome_without_the_secret(case) -> None:  # type: ignore[no-untyped-def]
    actual = case.run()
    assert case.expected in actual
    assert SECRET not in actual
