"""``ContainerRegistry``: an external registry (Docker Hub, GHCR or custom) in a project.

Nodion never returns a stored password, so the password the program declares is kept in
the state as a secret and compared there; ``pulumi refresh`` brings back what Nodion does
return (name, hostname, status, ``has_credentials``) and keeps the password.

Pulumi's engine cannot import resources of dynamic providers (neither ``pulumi import`` nor
the ``import_`` option: it calls the provider without the serialized provider, see
pulumi/pulumi#16175). ``adopt_id`` is the way in: instead of creating a registry, ``create``
takes over the existing one with that id and brings it to the declared inputs.
"""

from __future__ import annotations

from typing import overload

import pulumi

from nodion_pulumi._facts import (
    CONTAINER_REGISTRY_TYPE,
    RESOURCE_MODULE,
    ExternalRegistryType,  # the SDK resolves getter annotations
    resource_class_name,
)
from nodion_pulumi._registry_provider import (  # re-exported: state of 0.1.0 names it here
    _PROVIDER,
    ContainerRegistryProvider,
)
from nodion_pulumi._resource import NodionResource, given_inputs, output

__all__ = ["ContainerRegistry", "ContainerRegistryArgs", "ContainerRegistryProvider"]

SECRET_OUTPUTS = ["password"]


class ContainerRegistryArgs:
    """The inputs of a :class:`ContainerRegistry`."""

    def __init__(
        self,
        *,
        name: pulumi.Input[str],
        registry_type: pulumi.Input[ExternalRegistryType],
        hostname: pulumi.Input[str] | None = None,
        username: pulumi.Input[str] | None = None,
        password: pulumi.Input[str] | None = None,
        adopt_id: pulumi.Input[str] | None = None,
    ) -> None:
        """
        :param name: Display name of the registry in Nodion.
        :param registry_type: ``docker_hub``, ``ghcr`` or ``custom``; changing it replaces
            the registry.
        :param hostname: Bare ``host[:port]``; required for ``custom``, defaults to
            ``docker.io`` / ``ghcr.io``.
        :param username: Login for pulls; give it together with ``password``.
        :param password: Password or access token; always stored as a secret.
        :param adopt_id: Id of an existing external registry to take over instead of
            creating one (Pulumi's import does not work for dynamic providers). Used only
            when the resource is created.
        """
        self.name = name
        self.registry_type = registry_type
        self.hostname = hostname
        self.username = username
        self.password = password
        self.adopt_id = adopt_id


class ContainerRegistry(
    NodionResource, module=RESOURCE_MODULE, name=resource_class_name(CONTAINER_REGISTRY_TYPE)
):
    """An external container registry (Docker Hub, GHCR or a custom host) in Nodion.

    ``registry_type`` changes replace the registry; ``name``, ``hostname``, ``username``
    and ``password`` change in place. The resource id is Nodion's registry id.
    """

    @overload
    def __init__(
        self,
        resource_name: str,
        args: ContainerRegistryArgs,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None: ...

    @overload
    def __init__(
        self,
        resource_name: str,
        *,
        name: pulumi.Input[str],
        registry_type: pulumi.Input[ExternalRegistryType],
        hostname: pulumi.Input[str] | None = None,
        username: pulumi.Input[str] | None = None,
        password: pulumi.Input[str] | None = None,
        adopt_id: pulumi.Input[str] | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None: ...

    def __init__(
        self,
        resource_name: str,
        args: ContainerRegistryArgs | None = None,
        opts: pulumi.ResourceOptions | None = None,
        *,
        name: pulumi.Input[str] | None = None,
        registry_type: pulumi.Input[ExternalRegistryType] | None = None,
        hostname: pulumi.Input[str] | None = None,
        username: pulumi.Input[str] | None = None,
        password: pulumi.Input[str] | None = None,
        adopt_id: pulumi.Input[str] | None = None,
    ) -> None:
        """
        :param resource_name: The Pulumi name of this resource.
        :param args: The inputs as a :class:`ContainerRegistryArgs`, or give them as
            keyword arguments (not both); see :class:`ContainerRegistryArgs` for each.
        :param opts: Resource options; ``password`` is always added to
            ``additional_secret_outputs``.
        """
        inputs = given_inputs(
            type(self).__name__,
            resource_name,
            args,
            ContainerRegistryArgs,
            {
                "name": name,
                "registry_type": registry_type,
                "hostname": hostname,
                "username": username,
                "password": password,
                "adopt_id": adopt_id,
            },
        )
        if inputs["password"] is not None:
            inputs["password"] = pulumi.Output.secret(inputs["password"])
        super().__init__(
            _PROVIDER,
            resource_name,
            inputs,
            opts,
            outputs=("status", "has_credentials", "region_id", "created_at", "updated_at"),
            secret_outputs=SECRET_OUTPUTS,
        )

    # Outputs are read under the keys of the registered properties (snake_case), which is
    # also the name each value has in the state and in the provider.

    @property
    @pulumi.getter
    def name(self) -> pulumi.Output[str]:
        """Display name of the registry in Nodion; a change made in the Nodion dashboard
        comes back on ``pulumi refresh``."""
        return output(self, "name")

    @property
    @pulumi.getter
    def registry_type(self) -> pulumi.Output[ExternalRegistryType]:
        """``docker_hub``, ``ghcr`` or ``custom``; changing it replaces the registry."""
        return output(self, "registry_type")

    @property
    @pulumi.getter
    def hostname(self) -> pulumi.Output[str]:
        """Host and optional port of the registry: the declared one, else ``docker.io`` for
        ``docker_hub`` and ``ghcr.io`` for ``ghcr``."""
        return output(self, "hostname")

    @property
    @pulumi.getter
    def username(self) -> pulumi.Output[str | None]:
        """The declared login user, or None. Nodion never returns it, so it is not refreshed."""
        return output(self, "username")

    @property
    @pulumi.getter
    def password(self) -> pulumi.Output[str | None]:
        """The declared password or access token (a secret), or None. Nodion never returns
        it, so the state keeps the declared value."""
        return output(self, "password")

    @property
    @pulumi.getter
    def status(self) -> pulumi.Output[str]:
        """The registry's status as Nodion reports it, e.g. ``available``."""
        return output(self, "status")

    @property
    @pulumi.getter
    def has_credentials(self) -> pulumi.Output[bool]:
        """Whether Nodion holds a login for this registry."""
        return output(self, "has_credentials")

    @property
    @pulumi.getter
    def region_id(self) -> pulumi.Output[str | None]:
        """Id of the region Nodion assigns the registry to, or None (external registries
        usually belong to no region)."""
        return output(self, "region_id")

    @property
    @pulumi.getter
    def created_at(self) -> pulumi.Output[str]:
        """When Nodion created the registry: ISO 8601 with milliseconds and offset."""
        return output(self, "created_at")

    @property
    @pulumi.getter
    def updated_at(self) -> pulumi.Output[str]:
        """When Nodion last changed the registry: ISO 8601 with milliseconds and offset."""
        return output(self, "updated_at")
