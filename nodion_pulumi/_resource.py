"""What the two resource classes share: their inputs, given as an ``...Args`` object or as
keyword arguments (never both), and their registration with the engine.

Pulumi's generated SDKs accept either form; a program that mixes them would silently lose
the keywords, so the mix is refused with the keywords named.

Both register through the SDK's public ``pulumi.dynamic.Resource.__init__``, called from
:class:`NodionResource`. The source position the SDK records for a resource is the caller of
the third ``__init__`` on the stack, which is therefore the line in this module that calls
it, not the program's line; the stack trace the SDK records still contains the program's
line.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, cast

import pulumi
from pulumi.dynamic import Resource, ResourceProvider

__all__ = ["NodionResource", "given_inputs", "output"]


def given_inputs(
    resource: str, resource_name: str, args: object, args_type: type, keywords: Mapping[str, Any]
) -> dict[str, Any]:
    """The inputs of resource ``resource_name`` of class ``resource``: the keyword arguments,
    or, when ``args`` is given, the same names read from it.

    Raises ``TypeError`` when ``args`` comes with keywords (naming them) or is not an
    instance of ``args_type``.
    """
    if args is None:
        return dict(keywords)
    given = sorted(key for key, value in keywords.items() if value is not None)
    if given:
        raise TypeError(
            f"{resource} {resource_name!r}: pass either args or keyword arguments, not both "
            f"(got args and {', '.join(given)})"
        )
    if not isinstance(args, args_type):
        raise TypeError(
            f"{resource} {resource_name!r}: args must be a {args_type.__name__} (got "
            f"{type(args).__name__}); or give the inputs as keyword arguments"
        )
    return {key: getattr(args, key) for key in keywords}


def output(resource: pulumi.Resource, key: str) -> pulumi.Output[Any]:
    """The output the SDK stored on ``resource`` for the property ``key``, typed.

    The SDK keeps a dynamic resource's outputs in its instance dictionary under the keys of
    the registered properties; ``pulumi.get`` reads them there but is typed ``Any``.
    """
    return cast("pulumi.Output[Any]", pulumi.get(resource, key))


class NodionResource(Resource):
    """Base of the package's resources: registers the inputs and the names of the outputs
    the provider fills in, with the options every instance of the resource needs."""

    def __init__(
        self,
        provider: ResourceProvider,
        resource_name: str,
        inputs: Mapping[str, Any],
        opts: pulumi.ResourceOptions | None,
        *,
        outputs: Iterable[str],
        secret_outputs: Sequence[str],
        delete_before_replace: bool | None = None,
    ) -> None:
        # An output is registered as None: the SDK then creates its Output, which the
        # provider's answer resolves.
        props: dict[str, Any] = {**inputs, **{key: None for key in outputs if key not in inputs}}
        # The provider is the public path; see nodion_pulumi.state for what it records.
        super().__init__(
            provider,
            resource_name,
            props,
            pulumi.ResourceOptions.merge(
                opts,
                pulumi.ResourceOptions(
                    additional_secret_outputs=list(secret_outputs),
                    delete_before_replace=delete_before_replace,
                ),
            ),
        )
