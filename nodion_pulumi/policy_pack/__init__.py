"""The bundled policy pack: ``pulumi preview --policy-pack "$(nodion-pulumi policy-pack)"``.

This directory is the pack (``PulumiPolicy.yaml`` plus the ``__main__.py`` entry point that
the Python language host runs). The policies themselves are in :mod:`nodion_pulumi.policies`.

Given as it is, the pack runs on whichever Python the language host picks for a pack that
names none; :func:`pack_for_interpreter` writes one that runs on this Python
(:mod:`nodion_pulumi._interpreter_dir` says why).
"""

from __future__ import annotations

import sys
from pathlib import Path

from nodion_pulumi._interpreter_dir import runtime_naming_interpreter, write_for_interpreter

__all__ = ["PACK_DIR", "pack_for_interpreter"]

#: Absolute path of the bundled pack directory; it runs on the language host's default Python.
PACK_DIR = Path(__file__).resolve().parent

_ENTRY_POINT = '''"""Serves the policy pack of the nodion-pulumi installed for this Python."""

from nodion_pulumi.policy_pack.__main__ import main

main()
'''


def _policy_yaml(interpreter: str) -> str:
    """The bundled PulumiPolicy.yaml with its bare ``runtime: python`` naming the interpreter."""
    bundled = (PACK_DIR / "PulumiPolicy.yaml").read_text().splitlines(keepends=True)
    rest = [line for line in bundled if not line.startswith("runtime:")]
    if len(rest) != len(bundled) - 1:
        raise RuntimeError(f"{PACK_DIR / 'PulumiPolicy.yaml'} has no single 'runtime:' line")
    return (
        f"# Written by `nodion-pulumi policy-pack` for {interpreter}; the pack runs on it.\n"
        + runtime_naming_interpreter()
        + "".join(rest)
    )


def pack_for_interpreter(executable: str | None = None, cache_root: Path | None = None) -> Path:
    """A pack directory whose policies run on ``executable`` (default: this Python).

    Written under ``${XDG_CACHE_HOME:-~/.cache}/nodion-pulumi/policy-pack-<hash>/``; its entry
    point imports this package's pack, so the pack always matches the installed package.
    """
    interpreter = executable if executable is not None else sys.executable
    files = {"__main__.py": _ENTRY_POINT, "PulumiPolicy.yaml": _policy_yaml(interpreter)}
    return write_for_interpreter("policy-pack", files, interpreter, cache_root)
