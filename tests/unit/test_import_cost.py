"""The package's public names: each resolves to what its module defines, on first use.

The engine's provider process imports the resource modules to unpickle a provider; they
must load without httpx and pydantic, which only the first API call needs.
"""

from __future__ import annotations

import inspect
import subprocess
import sys

import nodion_pulumi as nodion

PROBE = """
import sys
import pulumi.dynamic
import nodion_pulumi
import nodion_pulumi.container_registry
import nodion_pulumi.registry_credentials
print(sorted(m for m in ("httpx", "pydantic") if m in sys.modules))
"""

# What DESIGN section 3 promises users as `nodion.<name>`; the package may export more.
PROMISED = {
    "ContainerRegistry",
    "ContainerRegistryArgs",
    "RegistryCredentials",
    "RegistryCredentialsArgs",
    "Registry",
    "get_container_registries",
    "get_container_registries_output",
    "get_container_registry",
    "get_container_registry_output",
    "get_nodion_registry",
    "get_nodion_registry_output",
    "NodionClient",
    "NodionError",
    "ExternalRegistryType",
}


def run(code: str) -> str:
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return proc.stdout.strip()


def test_provider_modules_load_without_httpx_or_pydantic() -> None:
    assert run(PROBE) == "[]"


def test_the_names_the_design_promises_are_public() -> None:
    assert set(nodion.__all__) >= PROMISED


def test_each_public_name_is_the_object_of_that_name_in_its_module() -> None:
    for name in nodion.__all__:
        value = getattr(nodion, name)  # AttributeError: listed from a module without it
        if isinstance(value, type) or inspect.isfunction(value):
            assert value.__name__ == name, (name, value)
            assert value.__module__.startswith("nodion_pulumi."), (name, value)


def test_a_star_import_gives_exactly_the_public_names() -> None:
    found = run(
        "from nodion_pulumi import *\n"
        "print(sorted(k for k in dir() if not k.startswith('__') or k == '__version__'))"
    )
    assert found == str(sorted(nodion.__all__))


def test_an_unknown_name_is_an_attribute_error() -> None:
    assert not hasattr(nodion, "ContainerRegistri")
    assert nodion.lookups.get_nodion_registry is nodion.get_nodion_registry
