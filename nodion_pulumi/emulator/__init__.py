"""A local Nodion Container Registries API for demos and tests (`nodion-pulumi emulator`)."""

from nodion_pulumi.emulator._admin import EmulatorAdmin, EmulatorAdminError
from nodion_pulumi.emulator._emulator import Emulator
from nodion_pulumi.emulator._regions import (
    DEFAULT_PROJECT_ID,
    DEFAULT_REGIONS,
    NAMESPACE,
    REGIONS,
    Region,
    nodion_registry_id,
    region_id,
)

__all__ = [
    "DEFAULT_PROJECT_ID",
    "DEFAULT_REGIONS",
    "NAMESPACE",
    "REGIONS",
    "Emulator",
    "EmulatorAdmin",
    "EmulatorAdminError",
    "Region",
    "nodion_registry_id",
    "region_id",
]
