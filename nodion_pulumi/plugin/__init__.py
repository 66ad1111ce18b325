"""The provider plugin: Nodion's resources and lookups for Pulumi YAML, TypeScript, Go and
C# programs (DESIGN 9), served by ``nodion-pulumi plugin``.

A Pulumi YAML program names the directory :func:`plugin_for_interpreter` writes::

    plugins:
      providers:
        - name: nodion
          path: <the directory `nodion-pulumi plugin` prints>

and ``pulumi package add <that directory>`` generates an SDK for the other languages. The
directory holds ``PulumiPlugin.yaml`` and an entry point that serves
:class:`~nodion_pulumi.plugin._provider.NodionPlugin` of the package installed for the Python
that wrote it (:mod:`nodion_pulumi._interpreter_dir`). ``schema.json`` beside this module is
the schema it serves.
"""

from __future__ import annotations

import sys
from pathlib import Path

from nodion_pulumi._interpreter_dir import runtime_naming_interpreter, write_for_interpreter

__all__ = ["plugin_for_interpreter"]

_ENTRY_POINT = '''"""Serves the Nodion provider plugin of the nodion-pulumi installed here."""

from nodion_pulumi.plugin.__main__ import main

main()
'''


def plugin_for_interpreter(executable: str | None = None, cache_root: Path | None = None) -> Path:
    """A plugin directory that serves the provider on ``executable`` (default: this Python).

    Written under ``${XDG_CACHE_HOME:-~/.cache}/nodion-pulumi/plugin-<hash>/``.
    """
    interpreter = executable if executable is not None else sys.executable
    plugin_yaml = (
        f"# Written by `nodion-pulumi plugin` for {interpreter}; the plugin runs on it.\n"
        + runtime_naming_interpreter()
    )
    files = {"__main__.py": _ENTRY_POINT, "PulumiPlugin.yaml": plugin_yaml}
    return write_for_interpreter("plugin", files, interpreter, cache_root)
