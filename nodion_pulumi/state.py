"""The state contract: what every resource's Pulumi state holds of its provider.

Pulumi pickles a dynamic resource's provider into the resource's state (``__provider``, in
the inputs and again in the outputs) and unpickles it in the provider process for every
later refresh, update and destroy, possibly years and many releases later. From 0.2.0 a
provider of this package pickles as a call of :func:`provider` with a short kind name::

    nodion_pulumi.state.provider("registry")      # ContainerRegistry
    nodion_pulumi.state.provider("credentials")   # RegistryCredentials

That function's module and name and the kind names are permanent: state written today
refers to them, so they never move, never change meaning, and a kind is never removed. The
provider classes are not part of the contract and may move freely; only this module knows
where they live. (Stacks written by 0.1.0 refer to the classes themselves,
``nodion_pulumi.container_registry.ContainerRegistryProvider`` and
``nodion_pulumi.registry_credentials.RegistryCredentialsProvider``: those two names stay
importable for ever, as re-exports if the classes move.)

Why a call with a kind and no instance state: the blob stays about 60 bytes whatever the
class is called, and it contains no dictionary. Every ``pulumi.dynamic.Resource`` wraps the
SDK's pickle dictionary writer once more and never unwraps it, so pickling a dictionary
costs one frame per dynamic resource declared before (see docs/limits.md); a provider that
pickles no dictionary keeps its cost per resource flat at any number of resources.

This module imports nothing at load time: the provider process imports it to unpickle a
provider, and only the one provider module the kind names is imported then.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from nodion_pulumi._provider import NodionProvider

__all__ = ["KINDS", "provider"]

# kind name -> (module, class) of the provider it stands for. Add kinds; never rename or
# remove one, since existing state names it.
_PROVIDERS: dict[str, tuple[str, str]] = {
    "registry": ("nodion_pulumi._registry_provider", "ContainerRegistryProvider"),
    "credentials": ("nodion_pulumi._credentials_provider", "RegistryCredentialsProvider"),
}
KINDS = tuple(_PROVIDERS)


def provider(kind: str) -> NodionProvider:
    """A new, unconfigured provider of the resources of ``kind`` (one of :data:`KINDS`).

    This is what the engine calls when it unpickles a resource's provider; the SDK then
    configures the provider with the stack's configuration.
    """
    try:
        module, name = _PROVIDERS[kind]
    except KeyError:
        raise ValueError(
            f"unknown nodion-pulumi provider kind {kind!r} (known: {', '.join(KINDS)}): the "
            "state was written by a later nodion-pulumi; upgrade the package"
        ) from None
    cls: type[NodionProvider] = getattr(importlib.import_module(module), name)
    return cls()
