"""The package's version and CHANGELOG.md tell the same story.

A release is cut from `_version.py` (the wheel's metadata, the policy pack, the release
workflow's tag check), while users read CHANGELOG.md to decide whether to upgrade: a release
whose version has no entry, or an entry for a version never set, would tell them nothing or
the wrong thing. Headings follow Keep a Changelog: `## [X.Y.Z] - YYYY-MM-DD`, newest first,
each with a link reference at the bottom; `## [Unreleased]` collects what has no version yet.
"""

from __future__ import annotations

import itertools
import re
from pathlib import Path

import pytest

from nodion_pulumi._version import __version__

CHANGELOG = Path(__file__).resolve().parents[2] / "CHANGELOG.md"

_VERSION_HEADING = re.compile(r"^## \[(\d+)\.(\d+)\.(\d+)\] - \d{4}-\d{2}-\d{2}$")
_ANY_HEADING = re.compile(r"^## \[([^\]]+)\]")
_LINK_REFERENCE = re.compile(r"^\[([^\]]+)\]: \S+$")

Version = tuple[int, int, int]


def released_versions(text: str) -> list[Version]:
    """Each version heading of a changelog, in the order written; `[Unreleased]` is skipped.

    A heading that names a version in any other form fails here, so that it cannot be
    silently left out of the checks below.
    """
    versions: list[Version] = []
    for line in text.splitlines():
        heading = _ANY_HEADING.match(line)
        if heading is None or heading.group(1) == "Unreleased":
            continue
        version = _VERSION_HEADING.match(line)
        assert version is not None, (
            f"changelog heading {line!r} is not `## [X.Y.Z] - YYYY-MM-DD` or `## [Unreleased]`"
        )
        major, minor, patch = (int(part) for part in version.groups())
        versions.append((major, minor, patch))
    return versions


def link_references(text: str) -> set[str]:
    return {m.group(1) for line in text.splitlines() if (m := _LINK_REFERENCE.match(line))}


def dotted(version: Version) -> str:
    return ".".join(map(str, version))


def version_problems(text: str, package_version: str) -> list[str]:
    """What is wrong between a changelog's text and the package's version (empty: nothing)."""
    versions = released_versions(text)
    if not versions:
        return ["the changelog has no `## [X.Y.Z] - YYYY-MM-DD` heading"]
    problems = []
    if dotted(versions[0]) != package_version:
        problems.append(
            f"_version.py says {package_version} but the newest changelog heading is "
            f"{dotted(versions[0])}: add the release's entry or set the version it names"
        )
    links = link_references(text)
    problems += [
        f"[{dotted(v)}] has no link reference at the bottom of the changelog"
        for v in versions
        if dotted(v) not in links
    ]
    problems += [
        f"[{dotted(newer)}] is followed by [{dotted(older)}]: versions must descend"
        for newer, older in itertools.pairwise(versions)
        if not newer > older
    ]
    return problems


def test_changelog_agrees_with_the_package_version() -> None:
    assert version_problems(CHANGELOG.read_text(encoding="utf-8"), __version__) == []


GOOD = """# Changelog

## [Unreleased]

## [0.10.0] - 2027-01-02

## [0.9.1] - 2026-12-24

[Unreleased]: https://example.org/compare/v0.10.0...HEAD
[0.10.0]: https://example.org/0.10.0
[0.9.1]: https://example.org/0.9.1
"""


def test_a_good_changelog_passes_and_unreleased_is_not_the_newest_version() -> None:
    assert version_problems(GOOD, "0.10.0") == []


def test_a_version_the_changelog_does_not_name_fails() -> None:
    [problem] = version_problems(GOOD, "0.11.0")
    assert "_version.py says 0.11.0 but the newest changelog heading is 0.10.0" in problem


def test_a_heading_without_a_link_reference_fails() -> None:
    text = GOOD.replace("[0.9.1]: https://example.org/0.9.1\n", "")
    assert version_problems(text, "0.10.0") == [
        "[0.9.1] has no link reference at the bottom of the changelog"
    ]


def test_versions_compare_as_numbers_and_must_descend() -> None:
    text = GOOD.replace("## [0.9.1] - 2026-12-24", "## [0.10.1] - 2026-12-24")
    text += "[0.10.1]: https://example.org/0.10.1\n"
    assert version_problems(text, "0.10.0") == [
        "[0.10.0] is followed by [0.10.1]: versions must descend"
    ]


def test_a_changelog_without_a_version_fails() -> None:
    assert version_problems("# Changelog\n\n## [Unreleased]\n", "0.1.0") != []


@pytest.mark.parametrize("heading", ["## [0.2] - 2026-12-02", "## [0.2.0]", "## [v0.2.0] - x"])
def test_a_malformed_version_heading_fails(heading: str) -> None:
    with pytest.raises(AssertionError, match=re.escape("is not `## [X.Y.Z]")):
        released_versions(f"# Changelog\n\n{heading}\n")
