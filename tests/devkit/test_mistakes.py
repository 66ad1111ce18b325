"""How `make mistakes` reads the CLI's output and judges each case, on printed text and
constructed results (the CLI runs of the table are in tests/e2e/test_mistakes_table.py)."""

from __future__ import annotations

import base64
from dataclasses import replace

from nodion_devkit.mistake_cases import CASES, Case
from nodion_devkit.mistakes import (
    MAX_LINES,
    NOT_CAUGHT,
    Result,
    count_lines,
    diagnostic_blocks,
    failing_block,
    has_traceback,
    message_of,
    problems,
    redact,
    render,
    summary,
)
from nodion_pulumi._facts import CONTAINER_REGISTRY_TYPE as REGISTRY

# What `pulumi up` printed for a provider that raised, trimmed to the parts that matter.
PROVIDER_FAILURE = f"""\
Updating (test):

 +  {REGISTRY} hub creating (0s) error: Traceback (most rec
 +  pulumi:pulumi:Stack mistake-test **creating failed (0.29s)** 2 errors
Diagnostics:
  pulumi:pulumi:Stack (mistake-test):
    error: update failed
    error: Resource monitor has terminated, shutting down

  {REGISTRY} (hub):
    error: Traceback (most recent call last):
      File "/venv/lib/python3.11/site-packages/pulumi/dynamic/__main__.py", line 170, in Create
        result = provider.create(props)
                 ^^^^^^^^^^^^^^^^^^^^^^
      File "/repo/nodion_pulumi/_config.py", line 204, in resolve_settings
        raise ConfigurationError(MISSING_TOKEN_MESSAGE)
    nodion_pulumi._errors.ConfigurationError: No Nodion API token is configured. Set one with
        pulumi config set --secret nodion:apiToken <token>

Resources:
    + 1 created
    2 errored

Duration: 1s
"""  # noqa: S608 (the CLI's words "Updating ... created", not SQL)

PROGRAM_FAILURE = """\
Previewing update (test):

Diagnostics:
  pulumi:pulumi:Stack (mistake-test):
    error: Program failed with an unhandled exception:
    Traceback (most recent call last):
      File "/tmp/region/__main__.py", line 2, in <module>
        nodion.get_nodion_registry('xyz')
    nodion_pulumi.lookups.NoSuchRegionError: no Nodion registry for region 'xyz'

Resources:
    1 errored
"""

CHECK_FAILURE = f"""\
Diagnostics:
  pulumi:pulumi:Stack (mistake-test):
    error: Resource monitor has terminated, shutting down

  {REGISTRY} (hub):
    error: property registry_type value {{gitlab}} has a problem: must be one of 'ghcr' | 'custom'

Resources:
"""


def case(**changes: object) -> Case:
    base = Case("k", "A mistake", "Why", "provider", "pass\n")
    return replace(base, **changes)  # type: ignore[arg-type]


def result(**changes: object) -> Result:
    base = Result(case(), "preview", 1, False, (), "what went wrong")
    return replace(base, **changes)  # type: ignore[arg-type]


def test_the_diagnostics_section_is_split_per_resource_and_ends_at_resources() -> None:
    blocks = diagnostic_blocks(PROVIDER_FAILURE)
    assert set(blocks) == {
        "pulumi:pulumi:Stack (mistake-test)",
        f"{REGISTRY} (hub)",
    }
    hub = blocks[f"{REGISTRY} (hub)"]
    assert hub[0] == "error: Traceback (most recent call last):"
    assert hub[-1] == "    pulumi config set --secret nodion:apiToken <token>"
    assert not any("created" in line for block in blocks.values() for line in block)


def test_a_resource_failure_is_read_from_the_resource_not_the_stacks_generic_lines() -> None:
    block = failing_block(diagnostic_blocks(PROVIDER_FAILURE))
    assert count_lines(block) == 8
    assert message_of(block) == (
        "nodion_pulumi._errors.ConfigurationError: No Nodion API token is configured. "
        "Set one with pulumi config set --secret nodion:apiToken <token>"
    )


def test_a_program_failure_is_read_from_the_stack_without_its_frames() -> None:
    block = failing_block(diagnostic_blocks(PROGRAM_FAILURE))
    assert count_lines(block) == 5
    assert message_of(block) == (
        "nodion_pulumi.lookups.NoSuchRegionError: no Nodion registry for region 'xyz'"
    )
    assert has_traceback(PROGRAM_FAILURE)


def test_a_check_failure_is_one_line_without_a_traceback() -> None:
    block = failing_block(diagnostic_blocks(CHECK_FAILURE))
    assert count_lines(block) == 1
    assert message_of(block).startswith("property registry_type value {gitlab}")
    assert not has_traceback(CHECK_FAILURE)


def test_output_without_diagnostics_has_no_failing_block() -> None:
    assert failing_block(diagnostic_blocks("Resources:\n    + 1 to create\n")) == []


def test_a_long_message_is_cut() -> None:
    message = message_of(["error: " + "x" * 1000])
    assert len(message) == 400
    assert message.endswith("…")


def test_secrets_and_their_base64_are_noticed_and_the_plain_form_replaced() -> None:
    text, leaked = redact("token s3cr3t-value here", ["s3cr3t-value", "other"])
    assert (text, leaked) == ("token [secret] here", True)
    encoded = base64.b64encode(b"s3cr3t-value").decode()
    assert redact(f"auth {encoded}", ["s3cr3t-value"])[1] is True
    assert redact("nothing to see", ["s3cr3t-value"]) == ("nothing to see", False)


def test_a_result_within_the_bar_has_no_problem() -> None:
    assert problems(result()) == []
    assert problems(result(lines=MAX_LINES)) == []


def test_caught_later_than_expected_misses_the_bar_and_earlier_does_not() -> None:
    assert problems(result(phase="up")) == ["caught at up, expected at preview"]
    assert problems(result(phase=NOT_CAUGHT)) == ["caught at not caught, expected at preview"]
    assert problems(result(case=case(expected="up"), phase="preview")) == []
    assert problems(result(case=case(expected="up"), phase="up")) == []


def test_a_traceback_misses_the_bar_only_for_a_program_side_failure() -> None:
    assert problems(result(traceback=True)) == []
    assert problems(result(case=case(side="program"), traceback=True)) == [
        "a traceback for a program-side failure"
    ]


def test_too_many_lines_and_a_leak_each_miss_the_bar() -> None:
    assert problems(result(lines=MAX_LINES + 1)) == [
        f"13 lines of diagnostics (at most {MAX_LINES})"
    ]
    assert problems(result(leaked=True)) == ["a secret in the output"]


def test_the_table_has_a_row_per_case_with_its_verdict_and_explains_later_phases() -> None:
    late = case(key="late", expected="up", later_because="Nodion decides at the write")
    results = [
        result(message="one | two"),
        result(
            case=late,
            phase="up",
            lines=20,
            traceback=True,
            writes=("POST /v1/container_registries/0a1b2c3d-0000-4000-8000-00000000000f -> 201",),
        ),
    ]
    text = render(results, "2026-01-01")
    rows = [
        line for line in text.splitlines() if line.startswith("| k ") or line.startswith("| late ")
    ]
    assert len(rows) == 2
    assert rows[0].endswith("| none | one \\| two | yes |")
    assert "| POST /v1/container_registries/{id} -> 201 |" in rows[1]
    assert rows[1].endswith(f"| 20 lines of diagnostics (at most {MAX_LINES}) |")
    assert "- **late**: Nodion decides at the write." in text
    assert "2026-01-01" in text


def test_the_summary_counts_phases_and_names_the_cases_missing_the_bar() -> None:
    results = [
        result(),
        result(case=case(key="b"), phase="up"),
        result(case=case(key="c"), lines=30),
    ]
    assert summary(results) == [
        "- 3 cases: 2 caught at preview, 1 at up, 0 not caught.",
        f"- Over {MAX_LINES} lines of diagnostics: c.",
        "- Cases missing the bar: b, c.",
    ]


def test_the_cases_are_enough_distinct_and_explain_every_later_phase() -> None:
    keys = [c.key for c in CASES]
    assert len(keys) == len(set(keys)) >= 15
    assert {c.origin for c in CASES} == {"Why", "validation"}
    assert all(c.later_because for c in CASES if c.expected == "up")
    assert not any(c.later_because for c in CASES if c.expected == "preview")
