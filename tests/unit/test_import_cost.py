"""The engine's provider process imports the resource modules to unpickle a provider; they
must load without httpx and pydantic, which only the first API call needs."""

from __future__ import annotations

import subprocess
import sys

PROBE = """
import sys
import pulumi.dynamic
import nodion_pulumi.container_registry
import nodion_pulumi.registry_credentials
print(sorted(m for m in ("httpx", "pydantic") if m in sys.modules))
"""


def test_provider_modules_load_without_httpx_or_pydantic() -> None:
    proc = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, check=True)
    assert proc.stdout.strip() == "[]"


def test_public_names_still_resolve() -> None:
    import nodion_pulumi as nodion

    for name in nodion.__all__:
        assert getattr(nodion, name) is not None
    assert nodion.lookups.get_nodion_registry is nodion.get_nodion_registry
    assert set(nodion.__all__) <= set(dir(nodion))
