"""What the providers print besides an error's message: warnings and check failures.

Both often quote a registry's name or hostname, which come from the API; printed raw, an
ESC byte recolours the terminal, a newline forges a line of Pulumi's output and U+202E makes
the rest read backwards. They reach the engine escaped.
"""

from __future__ import annotations

from typing import Any

import pytest
from pulumi.dynamic import CheckFailure, CheckResult

from nodion_pulumi._operations import report_to_the_engine
from nodion_pulumi._warnings import warn

HOSTILE = "Hub \x1b[31mred\n\u202eerror: forged"
ESCAPED = "Hub \\x1b[31mred\\n\\u202eerror: forged"


def test_a_warning_shows_control_and_format_characters_as_escapes(
    capsys: pytest.CaptureFixture[str],
) -> None:
    warn(f"kept registry {HOSTILE}")
    err = capsys.readouterr().err
    assert err == f"warning: kept registry {ESCAPED}\n"


def test_check_failures_reach_the_engine_escaped() -> None:
    @report_to_the_engine
    def check(olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        return CheckResult(news, [CheckFailure("registry_id", f"registry {HOSTILE} is external")])

    result = check({}, {"name": "x"})
    assert result.inputs == {"name": "x"}
    assert [(f.property, f.reason) for f in result.failures] == [
        ("registry_id", f"registry {ESCAPED} is external")
    ]


def test_other_results_pass_through_unchanged() -> None:
    answer = object()

    @report_to_the_engine
    def read() -> object:
        return answer

    assert read() is answer
