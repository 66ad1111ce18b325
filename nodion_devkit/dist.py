"""Build the sdist and the wheel, and refuse a distribution a user should not install.

``python -m nodion_devkit.dist OUT_DIR`` (``make dist``) builds the sdist and, from it, the
wheel (as ``pip install`` of the sdist would), builds a second wheel straight from the tree
(as ``pip install .`` would), and checks that:

- the two wheels hold the same files with the same bytes, so what a user gets does not depend
  on how it was built;
- the wheel installs ``nodion_pulumi`` and its dist-info only: dev-only packages
  (``nodion_devkit``, ``benchmarks``, ``reliability``) and tests never reach a user's
  site-packages;
- the LICENSE travels in both archives, and ``twine check`` accepts the metadata.

Each problem is printed; the exit status is 1 when there is any.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path

from nodion_devkit.engine import REPO_ROOT

PACKAGE = "nodion_pulumi"


def _build(out_dir: Path, *which: str) -> None:
    subprocess.run(
        [sys.executable, "-m", "build", *which, "--outdir", str(out_dir), str(REPO_ROOT)],
        check=True,
        stdout=subprocess.DEVNULL,
    )


def wheel_contents(wheel: Path) -> dict[str, str]:
    """Each file of the wheel with the sha256 of its bytes."""
    with zipfile.ZipFile(wheel) as archive:
        return {
            name: hashlib.sha256(archive.read(name)).hexdigest()
            for name in archive.namelist()
            if not name.endswith("/")
        }


def problems_of_wheel(contents: dict[str, str]) -> list[str]:
    """What is wrong with a wheel's file list, in words."""
    found: list[str] = []
    tops = {name: name.split("/", 1)[0] for name in contents}
    strays = sorted(
        name for name, top in tops.items() if top != PACKAGE and not top.endswith(".dist-info")
    )
    if strays:
        found.append(f"the wheel installs more than {PACKAGE}/: {', '.join(strays)}")
    if not any(name.endswith(".dist-info/licenses/LICENSE") for name in contents):
        found.append("the wheel carries no LICENSE in its dist-info")
    if f"{PACKAGE}/py.typed" not in contents:
        found.append(f"the wheel lacks {PACKAGE}/py.typed: type checkers would ignore it")
    return found


def problems_between(from_sdist: dict[str, str], from_tree: dict[str, str]) -> list[str]:
    """How the wheel built from the sdist differs from the one built from the tree."""
    found: list[str] = []
    # RECORD lists every file's hash, so it differs exactly when a file does: compare the rest.
    names = {n for n in from_sdist.keys() | from_tree.keys() if not n.endswith("/RECORD")}
    for name in sorted(names):
        if name not in from_tree:
            found.append(f"only the wheel built from the sdist has {name}")
        elif name not in from_sdist:
            found.append(f"only the wheel built from the tree has {name}")
        elif from_sdist[name] != from_tree[name]:
            found.append(f"{name} differs between the wheel from the sdist and from the tree")
    return found


def check(out_dir: Path) -> list[str]:
    for old in out_dir.glob("nodion_pulumi-*"):
        old.unlink()
    _build(out_dir)  # the sdist, then the wheel from that sdist
    [sdist] = out_dir.glob("nodion_pulumi-*.tar.gz")
    [wheel] = out_dir.glob("nodion_pulumi-*.whl")
    with tempfile.TemporaryDirectory() as scratch:
        _build(Path(scratch), "--wheel")
        [tree_wheel] = Path(scratch).glob("nodion_pulumi-*.whl")
        tree_contents = wheel_contents(tree_wheel)
    contents = wheel_contents(wheel)
    found = [
        *problems_of_wheel(contents),
        *(f"(built from the tree) {p}" for p in problems_of_wheel(tree_contents)),
        *problems_between(contents, tree_contents),
    ]
    with tarfile.open(sdist) as archive:
        if not any(name.endswith("/LICENSE") for name in archive.getnames()):
            found.append("the sdist carries no LICENSE")
    twine = subprocess.run(
        [sys.executable, "-m", "twine", "check", "--strict", str(sdist), str(wheel)],
        capture_output=True,
        text=True,
        check=False,
    )
    if twine.returncode != 0:
        found.append(f"twine check failed:\n{twine.stdout}{twine.stderr}")
    print(f"built {sdist.name} and {wheel.name} ({len(contents)} files)")
    return found


def main(argv: list[str]) -> int:
    out_dir = Path(argv[0] if argv else "dist").resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    found = check(out_dir)
    for problem in found:
        print(f"dist: {problem}", file=sys.stderr)
    if not found:
        print("dist: the wheel holds nodion_pulumi only and matches a wheel built from the tree")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
