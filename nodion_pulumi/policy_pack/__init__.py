"""The bundled policy pack: ``pulumi preview --policy-pack "$(nodion-pulumi policy-pack)"``.

This directory is the pack (``PulumiPolicy.yaml`` plus the ``__main__.py`` entry point that
the Python language host runs). The policies themselves are in :mod:`nodion_pulumi.policies`.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["PACK_DIR"]

#: Absolute path of the pack directory, as given to ``--policy-pack``.
PACK_DIR = Path(__file__).resolve().parent
