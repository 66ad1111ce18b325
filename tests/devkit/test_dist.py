"""`make dist`'s judgement of a wheel, on file lists built here (the build itself runs in CI)."""

from __future__ import annotations

from nodion_devkit.dist import problems_between, problems_of_wheel

GOOD = {
    "nodion_pulumi/__init__.py": "a",
    "nodion_pulumi/py.typed": "b",
    "nodion_pulumi-0.1.0.dist-info/METADATA": "c",
    "nodion_pulumi-0.1.0.dist-info/licenses/LICENSE": "d",
    "nodion_pulumi-0.1.0.dist-info/RECORD": "e",
}


def test_a_wheel_of_the_package_and_its_dist_info_passes() -> None:
    assert problems_of_wheel(GOOD) == []


def test_a_stray_top_level_package_is_named() -> None:
    [problem] = problems_of_wheel({**GOOD, "reliability/__init__.py": "x"})
    assert "reliability/__init__.py" in problem


def test_a_missing_license_or_py_typed_is_reported() -> None:
    missing = {k: v for k, v in GOOD.items() if not k.endswith(("LICENSE", "py.typed"))}
    problems = problems_of_wheel(missing)
    assert any("LICENSE" in p for p in problems)
    assert any("py.typed" in p for p in problems)


def test_wheels_that_differ_in_a_file_or_its_bytes_are_told_apart() -> None:
    assert problems_between(GOOD, {**GOOD, "nodion_pulumi-0.1.0.dist-info/RECORD": "z"}) == []
    extra = problems_between({**GOOD, "nodion_pulumi/extra.py": "x"}, GOOD)
    assert extra == ["only the wheel built from the sdist has nodion_pulumi/extra.py"]
    changed = problems_between(GOOD, {**GOOD, "nodion_pulumi/__init__.py": "other"})
    assert changed == [
        "nodion_pulumi/__init__.py differs between the wheel from the sdist and from the tree"
    ]
