"""``RegistryCredentials``: push/pull credentials of a Nodion registry, captured once.

Nodion shows the password of a Nodion registry's credentials in the creation response
only. This resource is the one place that response lands: the password and a ready
``.dockerconfigjson`` document go into the state as secrets, and are never minted again on
read. Rotation is "delete and recreate", so any change of ``registry_id`` or ``triggers``
revokes the old credentials before new ones are generated.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, overload

import pulumi

from nodion_pulumi._credentials_provider import (  # re-exported: state of 0.1.0 names it here
    _PROVIDER,
    RegistryCredentialsProvider,
)
from nodion_pulumi._errors import CredentialsAlreadyExistError  # re-exported: first defined here
from nodion_pulumi._facts import REGISTRY_CREDENTIALS_TYPE, RESOURCE_MODULE, resource_class_name
from nodion_pulumi._resource import NodionResource, given_inputs, output

__all__ = [
    "CredentialsAlreadyExistError",
    "RegistryCredentials",
    "RegistryCredentialsArgs",
    "RegistryCredentialsProvider",
]

SECRET_OUTPUTS = ["password", "docker_config_json"]


class RegistryCredentialsArgs:
    """The inputs of a :class:`RegistryCredentials`."""

    def __init__(
        self,
        *,
        registry_id: pulumi.Input[str],
        triggers: pulumi.Input[Mapping[str, Any]] | None = None,
    ) -> None:
        """
        :param registry_id: Id of a Nodion registry, e.g.
            ``nodion.get_nodion_registry("fra").id``.
        :param triggers: Any values; changing one rotates the credentials (the old ones
            are revoked first).
        """
        self.registry_id = registry_id
        self.triggers = triggers


class RegistryCredentials(
    NodionResource, module=RESOURCE_MODULE, name=resource_class_name(REGISTRY_CREDENTIALS_TYPE)
):
    """Push/pull credentials of a Nodion registry, kept as Pulumi secrets.

    The resource id is the registry's id. ``password`` and ``docker_config_json`` (a
    ``.dockerconfigjson`` document for Kubernetes pull secrets or CI) are secret outputs.
    Protect this resource (``protect=True``): deleting it revokes the credentials. Pulumi
    refuses to replace a protected resource, so a rotation (a change of ``triggers`` or
    ``registry_id``) then fails at preview; rotate with ``pulumi state unprotect <urn>``
    followed by ``pulumi up``, which protects the new credentials again.
    """

    @overload
    def __init__(
        self,
        resource_name: str,
        args: RegistryCredentialsArgs,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None: ...

    @overload
    def __init__(
        self,
        resource_name: str,
        *,
        registry_id: pulumi.Input[str],
        triggers: pulumi.Input[Mapping[str, Any]] | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None: ...

    def __init__(
        self,
        resource_name: str,
        args: RegistryCredentialsArgs | None = None,
        opts: pulumi.ResourceOptions | None = None,
        *,
        registry_id: pulumi.Input[str] | None = None,
        triggers: pulumi.Input[Mapping[str, Any]] | None = None,
    ) -> None:
        """
        :param resource_name: The Pulumi name of this resource.
        :param args: The inputs as a :class:`RegistryCredentialsArgs`, or give them as
            keyword arguments (not both); see :class:`RegistryCredentialsArgs` for each.
        :param opts: Resource options; the secret outputs are always added to
            ``additional_secret_outputs``, and ``delete_before_replace`` is always set.
        """
        super().__init__(
            _PROVIDER,
            resource_name,
            given_inputs(
                type(self).__name__,
                resource_name,
                args,
                RegistryCredentialsArgs,
                {"registry_id": registry_id, "triggers": triggers},
            ),
            opts,
            outputs=("hostname", "username", "password", "docker_config_json"),
            secret_outputs=SECRET_OUTPUTS,
            # A registry holds one set: the old credentials always go first, also for
            # `pulumi up --replace`, where the engine asks no diff.
            delete_before_replace=True,
        )

    # Outputs are read under the keys of the registered properties (snake_case), which is
    # also the name each value has in the state and in the provider.

    @property
    @pulumi.getter
    def registry_id(self) -> pulumi.Output[str]:
        """Id of the Nodion registry these credentials are for (also the resource id);
        changing it replaces the credentials."""
        return output(self, "registry_id")

    @property
    @pulumi.getter
    def triggers(self) -> pulumi.Output[Mapping[str, Any] | None]:
        """The declared triggers: any change rotates the credentials, revoking the old ones
        first."""
        return output(self, "triggers")

    @property
    @pulumi.getter
    def hostname(self) -> pulumi.Output[str]:
        """Host to log in to, e.g. ``registry.fra.nodion.net``."""
        return output(self, "hostname")

    @property
    @pulumi.getter
    def username(self) -> pulumi.Output[str]:
        """User name for ``docker login``."""
        return output(self, "username")

    @property
    @pulumi.getter
    def password(self) -> pulumi.Output[str]:
        """Password for ``docker login`` (a secret). Nodion shows it only when the
        credentials are generated; the state is the one place it is kept."""
        return output(self, "password")

    @property
    @pulumi.getter
    def docker_config_json(self) -> pulumi.Output[str]:
        """A ``.dockerconfigjson`` document for these credentials (a secret):
        ``{"auths": {hostname: {"username", "password", "auth"}}}``, ready for a Kubernetes
        pull secret or a CI job."""
        return output(self, "docker_config_json")
