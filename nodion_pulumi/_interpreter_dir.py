"""Plugin directories that run on a given Python: the policy pack and the provider plugin.

The engine starts a Python plugin (a directory with ``PulumiPolicy.yaml`` or
``PulumiPlugin.yaml`` and a ``__main__.py``) through the Python language host, on whichever
interpreter the host picks for a directory that names none (``PULUMI_PYTHON_CMD``, else
``python3`` from ``PATH``). In a ``pulumi new`` project, whose program runs on
``virtualenv: venv``, that is not the virtualenv holding this package, and the plugin fails
with ``No module named 'nodion_pulumi'``. So the commands that print a plugin directory write,
once per interpreter, a small one that names its interpreter through the ``virtualenv`` runtime
option, which both the official Python language host and the one ``scripts/ensure-pulumi``
builds honour. Its entry point imports the installed package, so it always matches it.
"""

from __future__ import annotations

import hashlib
import os
import shlex
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path

__all__ = ["INTERPRETER_DIR", "cache_root", "runtime_naming_interpreter", "write_for_interpreter"]

#: The runtime option's directory inside a written plugin; ``bin/python`` in it starts the
#: interpreter. A wrapper rather than the interpreter's own ``sys.prefix``: a Python outside
#: any virtualenv (``/usr``) may have no ``bin/python``, or one of another version.
INTERPRETER_DIR = "interpreter"


def cache_root() -> Path:
    """``${XDG_CACHE_HOME:-~/.cache}/nodion-pulumi``, where written plugin directories live."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "nodion-pulumi"


def runtime_naming_interpreter() -> str:
    """The ``runtime:`` block of a plugin's YAML that runs it on the written interpreter."""
    return f"runtime:\n  name: python\n  options:\n    virtualenv: {INTERPRETER_DIR}\n"


def _write_if_changed(path: Path, text: str, mode: int) -> None:
    """Leave an identical file alone; otherwise replace it atomically.

    Atomic so that two commands writing the same directory at once (parallel CI jobs sharing
    a cache) never let the engine read half a file.
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


def write_for_interpreter(
    kind: str,
    files: Mapping[str, str],
    executable: str | None = None,
    root: Path | None = None,
) -> Path:
    """Write ``files`` (name to text) into a ``<kind>-<hash>`` directory whose ``interpreter``
    runs ``executable`` (default: this Python), and return the directory.

    One directory per interpreter path, so two virtualenvs never share one; files are
    rewritten only where they differ, e.g. after an upgrade changed one.
    """
    interpreter = executable if executable is not None else sys.executable
    if not interpreter or not os.path.isabs(interpreter):
        raise RuntimeError(f"cannot tell which Python this is (sys.executable={interpreter!r})")
    digest = hashlib.sha256(os.fsencode(interpreter)).hexdigest()[:16]
    directory = (root or cache_root()) / f"{kind}-{digest}"
    bin_dir = directory / INTERPRETER_DIR / "bin"
    bin_dir.mkdir(parents=True, exist_ok=True)
    # `exec` keeps the path the interpreter was started by, which is how a virtualenv's
    # Python finds its site-packages (a symlink would resolve to the base interpreter).
    wrapper = f'#!/bin/sh\nexec {shlex.quote(interpreter)} "$@"\n'
    _write_if_changed(bin_dir / "python", wrapper, 0o755)
    for name, text in files.items():
        _write_if_changed(directory / name, text, 0o644)
    return directory
