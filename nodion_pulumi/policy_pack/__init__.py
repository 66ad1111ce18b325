"""The bundled policy pack: ``pulumi preview --policy-pack "$(nodion-pulumi policy-pack)"``.

This directory is the pack (``PulumiPolicy.yaml`` plus the ``__main__.py`` entry point that
the Python language host runs). The policies themselves are in :mod:`nodion_pulumi.policies`.

Given as it is, the pack runs on whichever Python the language host picks for a pack that
names none (``PULUMI_PYTHON_CMD``, else ``python3`` from ``PATH``): in a ``pulumi new``
project, whose program runs on ``virtualenv: venv``, that is not the virtualenv holding
``pulumi-policy``, and the pack fails with ``No module named 'pulumi_policy'``.
:func:`pack_for_interpreter` therefore writes, once per interpreter, a small pack directory
that names its interpreter through the ``virtualenv`` runtime option, which both the official
Python language host and the one ``scripts/ensure-pulumi`` builds honour.
"""

from __future__ import annotations

import hashlib
import os
import shlex
import sys
import tempfile
from pathlib import Path

__all__ = ["PACK_DIR", "pack_for_interpreter"]

#: Absolute path of the bundled pack directory; it runs on the language host's default Python.
PACK_DIR = Path(__file__).resolve().parent

#: The runtime option's directory inside a written pack; ``bin/python`` in it starts the
#: interpreter. A wrapper rather than the interpreter's own ``sys.prefix``: a Python outside
#: any virtualenv (``/usr``) may have no ``bin/python``, or one of another version.
_INTERPRETER_DIR = "interpreter"

_ENTRY_POINT = '''"""Serves the policy pack of the nodion-pulumi installed for this Python."""

from nodion_pulumi.policy_pack.__main__ import main

main()
'''


def _cache_root() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "nodion-pulumi"


def _policy_yaml(interpreter: str) -> str:
    """The bundled PulumiPolicy.yaml with its bare ``runtime: python`` naming the interpreter."""
    bundled = (PACK_DIR / "PulumiPolicy.yaml").read_text().splitlines(keepends=True)
    rest = [line for line in bundled if not line.startswith("runtime:")]
    if len(rest) != len(bundled) - 1:
        raise RuntimeError(f"{PACK_DIR / 'PulumiPolicy.yaml'} has no single 'runtime:' line")
    return (
        f"# Written by `nodion-pulumi policy-pack` for {interpreter}; the pack runs on it.\n"
        "runtime:\n"
        "  name: python\n"
        "  options:\n"
        f"    virtualenv: {_INTERPRETER_DIR}\n" + "".join(rest)
    )


def _write_if_changed(path: Path, text: str, mode: int) -> None:
    """Leave an identical file alone; otherwise replace it atomically.

    Atomic so that two commands writing the same pack at once (parallel CI jobs sharing a
    cache) never let the engine read half a file.
    """
    try:
        if path.read_text() == text and (path.stat().st_mode & 0o777) == mode:
            return
    except FileNotFoundError:
        pass
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(text)
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def pack_for_interpreter(executable: str | None = None, cache_root: Path | None = None) -> Path:
    """A pack directory whose policies run on ``executable`` (default: this Python).

    Written under ``${XDG_CACHE_HOME:-~/.cache}/nodion-pulumi/policy-pack-<hash>/`` (one
    directory per interpreter path, so two virtualenvs never share one) and rewritten only
    where it differs, e.g. after an upgrade changed the bundled PulumiPolicy.yaml. Its entry
    point imports this package's pack, so the pack always matches the installed package.
    """
    interpreter = executable if executable is not None else sys.executable
    if not interpreter or not os.path.isabs(interpreter):
        raise RuntimeError(f"cannot tell which Python this is (sys.executable={interpreter!r})")
    digest = hashlib.sha256(os.fsencode(interpreter)).hexdigest()[:16]
    pack = (cache_root or _cache_root()) / f"policy-pack-{digest}"
    bin_dir = pack / _INTERPRETER_DIR / "bin"
    bin_dir.mkdir(parents=True, exist_ok=True)
    # `exec` keeps the path the interpreter was started by, which is how a virtualenv's
    # Python finds its site-packages (a symlink would resolve to the base interpreter).
    wrapper = f'#!/bin/sh\nexec {shlex.quote(interpreter)} "$@"\n'
    _write_if_changed(bin_dir / "python", wrapper, 0o755)
    _write_if_changed(pack / "__main__.py", _ENTRY_POINT, 0o644)
    _write_if_changed(pack / "PulumiPolicy.yaml", _policy_yaml(interpreter), 0o644)
    return pack
