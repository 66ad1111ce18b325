"""The project's own workflows (.github/workflows) do what the release process relies on.

actionlint runs in `make lint`; here it is run on a broken copy too, so a lint that passes
everything (a wrong path, a missing binary treated as success) cannot go unnoticed. The rest
checks what actionlint cannot know: that CI covers both ends of the Python range the package
claims, that only the publish job may ask for an OIDC token and only the release job may write,
and that the tag check stops a release whose tag disagrees with the package version.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

import yaml

from nodion_pulumi._version import __version__

REPO = Path(__file__).resolve().parents[2]
WORKFLOWS = REPO / ".github" / "workflows"
CI = WORKFLOWS / "ci.yml"
RELEASE = WORKFLOWS / "release.yml"
LINTED = [CI, RELEASE, REPO / "examples" / "ci" / "deploy.yml"]
PINNED_USE = re.compile(r"(- )?uses: [\w-]+/[\w-]+@[0-9a-f]{40} # v\d+\.\d+\.\d+")


def _load(path: Path) -> dict[Any, Any]:
    document = yaml.safe_load(path.read_text())
    assert isinstance(document, dict)
    return document


def _triggers(workflow: dict[Any, Any]) -> dict[str, Any]:
    # YAML 1.1 reads the bare key `on` as True.
    triggers: dict[str, Any] = workflow["on"] if "on" in workflow else workflow[True]
    return triggers


def _actionlint(*workflows: Path) -> subprocess.CompletedProcess[str]:
    found = subprocess.run(
        [str(REPO / "scripts" / "ensure-actionlint")],
        check=True,
        capture_output=True,
        text=True,
    )
    binary = Path(found.stdout.strip().splitlines()[-1]) / "actionlint"
    return subprocess.run(
        [str(binary), "-no-color", *map(str, workflows)],
        capture_output=True,
        text=True,
        cwd=REPO,
    )


def test_actionlint_accepts_the_project_workflows_and_the_example() -> None:
    result = _actionlint(*LINTED)
    assert result.returncode == 0, result.stdout + result.stderr


def test_actionlint_rejects_a_workflow_with_an_undefined_matrix_key(tmp_path: Path) -> None:
    broken = tmp_path / "ci.yml"
    broken.write_text(CI.read_text().replace("${{ matrix.python }}", "${{ matrix.nope }}"))
    assert broken.read_text() != CI.read_text()
    result = _actionlint(broken)
    assert result.returncode == 1, result.stdout + result.stderr
    assert 'property "nope" is not defined' in result.stdout


def test_ci_runs_the_ci_script_on_both_ends_of_each_python_range() -> None:
    """The package's ends (the classifiers) for `make compat`; the project environment's ends
    (constraints.txt installs on Python >= 3.11 only) for the matrix that builds it."""
    pyproject = (REPO / "pyproject.toml").read_text()
    claimed = sorted(
        re.findall(r'"Programming Language :: Python :: (3\.\d+)"', pyproject),
        key=lambda version: int(version.split(".")[1]),
    )
    package_ends = [claimed[0], claimed[-1]]
    environment_floor = re.search(r"Python >= (3\.\d+)", (REPO / "constraints.txt").read_text())
    assert environment_floor, "constraints.txt names the oldest Python its pins install on"
    workflow = _load(CI)
    assert set(_triggers(workflow)) == {"push", "pull_request"}
    assert workflow["permissions"] == {"contents": "read"}
    [job] = workflow["jobs"].values()
    assert job["timeout-minutes"] == 90
    assert job["strategy"]["matrix"]["python"] == [environment_floor[1], claimed[-1]]
    steps = job["steps"]
    pythons = [s["with"]["python-version"] for s in steps if "setup-python" in s.get("uses", "")]
    # Both package ends for `make compat`, then the matrix entry, so it is python3 on PATH.
    assert pythons == ["\n".join(package_ends) + "\n", "${{ matrix.python }}"]
    [cache] = [s for s in steps if "actions/cache@" in s.get("uses", "")]
    assert cache["with"]["path"] == "~/.cache/nodion-pulumi"
    assert steps.index(cache) < [s.get("run") for s in steps].index(".ci/run")


def test_release_runs_on_version_tags_with_least_privilege_per_job() -> None:
    workflow = _load(RELEASE)
    assert _triggers(workflow) == {"push": {"tags": ["v*.*.*"]}}
    assert workflow["permissions"] == {"contents": "read"}
    jobs = workflow["jobs"]
    assert {name: job.get("permissions") for name, job in jobs.items()} == {
        "build": None,
        "pypi": {"id-token": "write"},
        "github-release": {"contents": "write"},
    }
    assert "make dist" in [s.get("run") for s in jobs["build"]["steps"]]
    pypi = jobs["pypi"]
    assert pypi["environment"]["name"] == "pypi"
    publish = pypi["steps"][-1]
    assert publish["uses"].startswith("pypa/gh-action-pypi-publish@")
    assert "with" not in publish, "trusted publishing: no password, no token"
    secrets = re.findall(r"secrets\.(\w+)", RELEASE.read_text())
    assert secrets == ["GITHUB_TOKEN"]
    upload = jobs["github-release"]["steps"][-1]
    assert upload["env"]["GH_TOKEN"] == "${{ secrets.GITHUB_TOKEN }}"
    assert "gh release upload" in upload["run"]
    assert "dist/*.whl dist/*.tar.gz" in upload["run"]


def _tag_check(tag: str) -> subprocess.CompletedProcess[str]:
    """The release's tag check, run as the runner would (bash -e) from the repository root."""
    [step] = [
        s
        for s in _load(RELEASE)["jobs"]["build"]["steps"]
        if s.get("name", "").startswith("Check the tag")
    ]
    return subprocess.run(
        ["bash", "-e", "-c", step["run"]],
        env={"PATH": "/usr/bin:/bin", "TAG": tag},
        cwd=REPO,
        capture_output=True,
        text=True,
    )


def test_the_release_tag_check_passes_on_the_package_version_and_names_a_mismatch() -> None:
    version = __version__
    assert _tag_check(f"v{version}").returncode == 0
    wrong = _tag_check("v99.0.0")
    assert wrong.returncode == 1
    assert f"The tag v99.0.0 does not match the package version {version}" in wrong.stdout
    assert _tag_check(version).returncode == 1, "the tag carries the v"


def test_every_action_is_pinned_by_full_commit_with_its_version_in_a_comment() -> None:
    for workflow in (CI, RELEASE):
        lines = [line.strip() for line in workflow.read_text().splitlines()]
        uses = [line for line in lines if line.startswith(("uses:", "- uses:"))]
        assert uses, workflow
        for line in uses:
            assert PINNED_USE.fullmatch(line), f"{workflow.name}: {line}"
