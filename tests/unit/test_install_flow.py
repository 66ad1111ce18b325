"""The project's own environment is installed from constraints.txt in hash-checking mode:
every pin carries hashes, every dependency the dev extra needs is pinned, and `make setup`
installs them with --require-hashes, then the project alone."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+)")


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _requirements() -> dict[str, list[str]]:
    """Each pinned distribution with its --hash options (continuation lines joined)."""
    text = (ROOT / "constraints.txt").read_text()
    logical = re.sub(
        r"\\\n\s*",
        " ",
        "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#")),
    )
    found: dict[str, list[str]] = {}
    for line in logical.splitlines():
        if not line.strip():
            continue
        match = PIN.match(line)
        assert match, f"not an exact pin: {line[:80]}"
        found[_canonical(match[1])] = re.findall(r"--hash=sha256:([0-9a-f]{64})", line)
    return found


def test_every_pin_has_a_hash() -> None:
    requirements = _requirements()
    assert len(requirements) > 50
    assert [name for name, hashes in requirements.items() if not hashes] == []


def _declared(key: str) -> list[str]:
    """The quoted entries of the list ``key = [...]`` in pyproject.toml (read as text: the
    tests also run on Python 3.10, which has no tomllib)."""
    text = "\n".join(
        line.split("#", 1)[0] for line in (ROOT / "pyproject.toml").read_text().splitlines()
    )
    body = re.search(rf"^{re.escape(key)} = \[(.*?)\]", text, re.MULTILINE | re.DOTALL)
    assert body, key
    return re.findall(r'"([^"]+)"', body[1])


def test_the_dev_extra_and_the_build_backend_are_pinned() -> None:
    wanted = [*_declared("dependencies"), *_declared("dev"), *_declared("requires")]
    assert len(wanted) > 10
    names = {_canonical(re.split(r"[<>=!~;\[ ]", spec, maxsplit=1)[0]) for spec in wanted}
    assert names - set(_requirements()) == set()


def test_make_setup_installs_with_require_hashes_then_the_project_alone() -> None:
    makefile = (ROOT / "Makefile").read_text()
    recipe = makefile.split("$(STAMP):", 1)[1].split("\n\n", 1)[0]
    installs = [line.strip() for line in recipe.splitlines() if "pip install" in line]
    assert installs == [
        "$(PY) -m pip install --quiet --require-hashes -r constraints.txt",
        "$(PY) -m pip install --quiet --no-deps --no-build-isolation -e .",
    ]
