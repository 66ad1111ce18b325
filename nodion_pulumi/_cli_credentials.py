"""``nodion-pulumi registries`` and ``nodion-pulumi credentials revoke``: the way out of the
one-owner rule (DESIGN 3b) without the Nodion dashboard.

A registry has one set of credentials, and only the stack that minted them knows the
password. When a preview refuses a second owner, the user either consumes the owner's
outputs or revokes the existing set and lets the stack capture a new one. Revoking is
destructive (whoever uses the old password loses access), so it asks first, and a script
must say ``--yes``: without a terminal to ask on and without ``--yes`` it revokes nothing.

Exit codes, for scripts: 0 revoked (or there was nothing to revoke), 1 Nodion or the
configuration failed, 2 usage (including a registry that matches nothing), 3 not confirmed.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

from nodion_pulumi._config import ENV_API_TOKEN, ENV_API_URL, ENV_PROJECT_ID, resolve_settings
from nodion_pulumi._errors import NoCredentialsError, NodionError
from nodion_pulumi._ownership import REVOKE_COMMAND, RegistryRef
from nodion_pulumi._printable import printable

if TYPE_CHECKING:
    from typing import TypeAlias

    from nodion_pulumi._client import NodionClient
    from nodion_pulumi._models import Registry

    Subparsers: TypeAlias = argparse._SubParsersAction[argparse.ArgumentParser]

__all__ = [
    "EXIT_FAILED",
    "EXIT_NOT_CONFIRMED",
    "EXIT_OK",
    "EXIT_USAGE",
    "add_credentials",
    "add_registries",
]

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_NOT_CONFIRMED = 3

_ENVIRONMENT = (
    f"Reads {ENV_API_TOKEN}, {ENV_API_URL} (default https://api.nodion.com/v1) and "
    f"{ENV_PROJECT_ID} from the environment."
)


def add_registries(subparsers: Subparsers) -> None:
    parser = subparsers.add_parser(
        "registries",
        help="list the project's container registries",
        description=(
            "List the Nodion project's container registries: region, id, type, name, "
            f"hostname and whether credentials exist. {_ENVIRONMENT}"
        ),
    )
    parser.set_defaults(handler=_with_client("nodion-pulumi registries", _list))


def add_credentials(subparsers: Subparsers) -> None:
    parser = subparsers.add_parser(
        "credentials",
        help="manage a Nodion registry's push/pull credentials",
        description="Manage the push/pull credentials of Nodion's own registries.",
    )
    actions = parser.add_subparsers(dest="action", metavar="ACTION")
    actions.required = True
    revoke = actions.add_parser(
        "revoke",
        help="revoke a Nodion registry's credentials",
        description=(
            "Revoke the push/pull credentials of one Nodion registry, so that a stack can "
            "capture new ones with `pulumi up`. Whoever uses the old password loses access. "
            "Asks for confirmation; without a terminal, pass --yes. Exit codes: 0 revoked or "
            "nothing to revoke, 1 failed, 2 usage or no such registry, 3 not confirmed. "
            f"{_ENVIRONMENT}"
        ),
    )
    revoke.add_argument(
        "registry",
        metavar="REGISTRY",
        help="region slug (fra), registry id, region id or hostname (registry.fra.nodion.net)",
    )
    revoke.add_argument("--yes", action="store_true", help="revoke without asking")
    revoke.set_defaults(handler=_with_client(REVOKE_COMMAND, _revoke))


Action = Callable[["NodionClient", argparse.Namespace], int]


def _with_client(command: str, action: Action) -> Callable[[argparse.Namespace], int]:
    """Run ``action`` with a client for the environment's settings; any of our errors (no
    token, Nodion unreachable, a refusal) ends the command with its one-line message."""

    def handler(args: argparse.Namespace) -> int:
        try:
            from nodion_pulumi._client import NodionClient

            with NodionClient(resolve_settings({})) as client:
                return action(client, args)
        except NodionError as error:
            # The same advice a Pulumi run gives: which setting to fix, which command next.
            from nodion_pulumi._advice import advise

            print(f"{command}: {advise(error)}", file=sys.stderr)
            return EXIT_FAILED

    return handler


def _list(client: NodionClient, _args: argparse.Namespace) -> int:
    registries = sorted(
        client.list_registries(),
        key=lambda r: (not r.is_nodion, r.region_slug or "", r.name.lower(), r.id),
    )
    header = ("REGION", "ID", "TYPE", "NAME", "HOSTNAME", "CREDENTIALS")
    # Every cell comes from the API: whoever named a registry must not be able to recolour
    # the terminal or forge a row with a control character, so each one shows as an escape.
    rows = [
        tuple(
            printable(cell)
            for cell in (
                r.region_slug or "-",
                r.id,
                r.registry_type,
                r.name,
                r.hostname,
                ("yes" if r.has_credentials else "no") if r.is_nodion else "-",
            )
        )
        for r in registries
    ]
    widths = [max(len(row[i]) for row in (header, *rows)) for i in range(len(header))]
    for row in (header, *rows):
        print(
            "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        )
    return EXIT_OK


def _find(registries: list[Registry], wanted: str) -> Registry | None:
    """By id (any registry), else a Nodion registry by region slug, region id or hostname."""
    for registry in registries:
        if registry.id == wanted.strip():
            return registry
    return next((r for r in registries if r.is_nodion and r.known_as(wanted)), None)


def _revoke(client: NodionClient, args: argparse.Namespace) -> int:
    command = REVOKE_COMMAND
    registries = client.list_registries()
    registry = _find(registries, args.registry)
    if registry is None:
        regions = ", ".join(
            sorted(printable(r.region_slug or r.id) for r in registries if r.is_nodion)
        )
        print(
            f"{command}: no Nodion registry matches {args.registry!r}. Give a region slug, "
            f"a registry id or a hostname; this project's regions: {regions or 'none'} "
            "(see `nodion-pulumi registries`)",
            file=sys.stderr,
        )
        return EXIT_USAGE
    # The id and hostname come from the API: shown with control characters escaped.
    ref = RegistryRef(printable(registry.id), printable(registry.hostname))
    if not registry.is_nodion:
        print(
            f"{command}: registry {ref} is an external registry "
            f"({printable(registry.registry_type)}); "
            "only Nodion's own registries have credentials generated by Nodion",
            file=sys.stderr,
        )
        return EXIT_USAGE
    if not registry.has_credentials:
        print(f"registry {ref} has no credentials: nothing to revoke", file=sys.stderr)
        return EXIT_OK
    if not args.yes and not _confirmed(ref):
        return EXIT_NOT_CONFIRMED
    # The user runs `pulumi up` next, which mints a new set: a revoke whose answer was lost
    # is settled (seen to land) before the command says it is done, as a provider's is, so
    # that it cannot land late and take the new set too.
    from nodion_pulumi._session import Session

    session = Session(client.settings, lambda: client)
    with contextlib.suppress(NoCredentialsError):  # revoked meanwhile: the outcome asked for
        session.revoke_credentials(registry.id)
    print(
        f"revoked the credentials of registry {ref}. Run `pulumi up` in the stack that "
        "should own them to capture new ones.",
        file=sys.stderr,
    )
    return EXIT_OK


def _confirmed(registry: RegistryRef) -> bool:
    command = REVOKE_COMMAND
    if not sys.stdin.isatty():
        print(
            f"{command}: not revoking the credentials of registry {registry}: there is no "
            "terminal to confirm on. Pass --yes to revoke without asking.",
            file=sys.stderr,
        )
        return False
    print(
        f"Revoke the push/pull credentials of registry {registry}? Whoever uses them "
        "(other stacks, CI jobs, image-pull secrets) loses access.",
        file=sys.stderr,
    )
    try:
        answer = input("Type 'yes' to revoke: ")
    except EOFError:
        answer = ""
    if answer.strip().lower() in ("y", "yes"):
        return True
    print(f"{command}: not confirmed; nothing was revoked", file=sys.stderr)
    return False
