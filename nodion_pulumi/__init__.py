"""Pulumi dynamic providers for Nodion's Container Registries API."""

from nodion_pulumi._version import __version__

__all__ = ["__version__"]
