"""The `nodion-pulumi` command line.

Each subcommand is registered by one `_add_*` function listed in `_COMMANDS`; it sets
`handler(args) -> int` on its parser, so adding a command means adding one function.
"""

from __future__ import annotations

import argparse
import errno
import functools
import importlib.util
import os
import shlex
import signal
import sqlite3
import sys
import threading
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path
from types import FrameType

from nodion_pulumi._cli_credentials import add_credentials, add_registries
from nodion_pulumi._config import ENV_API_TOKEN, ENV_API_URL
from nodion_pulumi._facts import is_loopback_host, nodion_registry_hostname
from nodion_pulumi.emulator import DEFAULT_PROJECT_ID, DEFAULT_REGIONS, Emulator
from nodion_pulumi.emulator._regions import normalize_regions
from nodion_pulumi.emulator._token import keep_token


def default_data_path() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or os.path.join(os.path.expanduser("~"), ".local/share")
    return Path(base) / "nodion-pulumi" / "emulator.db"


def _regions_arg(value: str) -> tuple[str, ...]:
    try:
        return normalize_regions(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _uuid_arg(value: str) -> str:
    try:
        return str(uuid.UUID(value))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a UUID: {value!r}") from None


def _add_emulator(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "emulator",
        help="run a local Nodion Container Registries API",
        description=(
            "Serve a local emulator of the Nodion Container Registries API. Once ready it "
            "prints NODION_API_URL=..., then the export lines for NODION_API_URL and "
            "NODION_API_TOKEN, and runs until interrupted. Requests with any other token "
            "get 401. The token is kept in the data file, so a restart with the same --data "
            "requires the same token. With --serve-registries it then prints HTTPS_PROXY=... "
            "and SSL_CERT_FILE=... and their export lines; the proxy relays every other host "
            "unchanged and SSL_CERT_FILE also trusts the system's CAs, so other https clients "
            "in that shell keep working."
        ),
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default: 127.0.0.1)")
    parser.add_argument(
        "--port", type=int, default=8181, help="port to bind; 0 picks a free one (default: 8181)"
    )
    parser.add_argument(
        "--token",
        default=None,
        help=(
            "bearer token to require; it replaces the one kept in the data file, so later "
            "starts without --token require it too (default: the token kept in the data "
            "file, or a new random one kept there; printed when ready)"
        ),
    )
    parser.add_argument(
        "--data",
        type=Path,
        default=None,
        help=f"SQLite data file (default: {default_data_path()})",
    )
    parser.add_argument(
        "--regions",
        type=_regions_arg,
        default=DEFAULT_REGIONS,
        help=f"comma-separated region slugs to seed (default: {','.join(DEFAULT_REGIONS)})",
    )
    parser.add_argument(
        "--project-id",
        type=_uuid_arg,
        default=DEFAULT_PROJECT_ID,
        help="project UUID that X-Nodion-Project must match when sent",
    )
    parser.add_argument(
        "--allow-remote",
        action="store_true",
        help="allow binding a non-loopback address (the emulator has no real security)",
    )
    parser.add_argument(
        "--serve-registries",
        action="store_true",
        help=(
            "also serve the registries behind the Nodion registries (registry.<slug>.nodion.net) "
            "through an HTTPS proxy with a test CA; needs pip install 'nodion-pulumi[emulator]'"
        ),
    )
    parser.add_argument("--verbose", action="store_true", help="log every request to stderr")
    parser.set_defaults(handler=functools.partial(_run_emulator, parser=parser))


def _run_emulator(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    if not args.allow_remote and not is_loopback_host(args.host):
        parser.error(f"refusing to bind non-loopback host {args.host!r}; pass --allow-remote")
    if not 0 <= args.port <= 65535:
        parser.error(f"invalid port: {args.port}")
    data = args.data if args.data is not None else default_data_path()
    if args.token is not None and not args.token.strip():
        parser.error("--token must not be empty")
    # A required token rather than "accept any": a wrong or stale token then fails here the
    # way it fails against Nodion, instead of first surfacing in production. Kept in the data
    # file, so the token a user stored keeps working after a restart.
    try:
        kept = keep_token(data, args.project_id, args.token)
    except (OSError, sqlite3.Error) as exc:
        print(f"nodion-pulumi emulator: cannot use the data file {data}: {exc}", file=sys.stderr)
        return 1
    token = kept.value
    stop = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, request_stop)
    try:
        emulator = Emulator(
            token=token,
            data_path=data,
            regions=args.regions,
            host=args.host,
            allow_remote=args.allow_remote,
            port=args.port,
            project_id=args.project_id,
            verbose=args.verbose,
            serve_registries=args.serve_registries,
        ).start()
    except OSError as exc:
        print(f"nodion-pulumi emulator: cannot start: {_start_failure(exc, args)}", file=sys.stderr)
        return 1
    except RuntimeError as exc:  # the emulator extra is missing
        print(f"nodion-pulumi emulator: cannot start: {exc}", file=sys.stderr)
        return 1
    try:
        chosen = {
            "given": "given by --token and kept in the data file",
            "kept": "kept in the data file from an earlier start",
            "generated": "generated and kept in the data file",
        }[kept.origin]
        print(
            f"nodion-pulumi emulator: data in {data}; regions {','.join(emulator.regions)}; "
            f"token {chosen} (any other gets 401); stop with Ctrl-C",
            file=sys.stderr,
            flush=True,
        )
        # The bare line first: scripts read the URL from it; the export lines are for people.
        print(f"NODION_API_URL={emulator.url}", flush=True)
        print(f"export {ENV_API_URL}={shlex.quote(emulator.url)}", flush=True)
        print(f"export {ENV_API_TOKEN}={shlex.quote(token)}", flush=True)
        if args.serve_registries:
            _print_registry_environment(emulator)
        while not stop.wait(0.2):
            pass
    finally:
        emulator.stop()
    return 0


def _print_registry_environment(emulator: Emulator) -> None:
    """The bare lines first, as for the URL; NO_PROXY is left to the user's shell."""
    env = emulator.registry_environment()
    names = ("HTTPS_PROXY", "SSL_CERT_FILE")
    hostnames = ", ".join(nodion_registry_hostname(slug) for slug in emulator.regions)
    print(
        f"nodion-pulumi emulator: registries {hostnames} served through HTTPS_PROXY; "
        "other hosts are relayed unchanged and SSL_CERT_FILE trusts the system's CAs too, "
        "so other https clients in that shell keep working",
        file=sys.stderr,
        flush=True,
    )
    for name in names:
        print(f"{name}={env[name]}", flush=True)
    for name in names:
        print(f"export {name}={shlex.quote(env[name])}", flush=True)


def _start_failure(exc: OSError, args: argparse.Namespace) -> str:
    if exc.errno == errno.EADDRINUSE:
        return (
            f"{args.host}:{args.port} is already in use (another emulator?); "
            "pass --port 0 to pick a free port"
        )
    return str(exc)


def _print_directory(command: str, what: str, write: Callable[[], Path]) -> int:
    """Print the directory ``write`` writes for this Python, or why it could not."""
    try:
        directory = write()
    except (OSError, RuntimeError) as exc:
        print(f"nodion-pulumi {command}: cannot write the {what}: {exc}", file=sys.stderr)
        return 1
    print(directory, flush=True)
    return 0


def _add_policy_pack(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "policy-pack",
        help="print the path of the Nodion policy pack, to run on this Python",
        description=(
            "Print the absolute path of a Pulumi policy pack directory whose policies run on "
            "the Python running this command (your virtualenv), for "
            'pulumi preview --policy-pack "$(nodion-pulumi policy-pack)". The directory is '
            "written once per interpreter under ${XDG_CACHE_HOME:-~/.cache}/nodion-pulumi/. "
            "The pack needs pip install 'nodion-pulumi[policy]'."
        ),
    )
    parser.set_defaults(handler=_run_policy_pack)


def _run_policy_pack(args: argparse.Namespace) -> int:
    from nodion_pulumi.policy_pack import pack_for_interpreter

    if importlib.util.find_spec("pulumi_policy") is None:
        print(
            "nodion-pulumi policy-pack: warning: pulumi-policy is not installed for "
            f"{sys.executable}; the pack needs it: pip install 'nodion-pulumi[policy]'",
            file=sys.stderr,
        )
    return _print_directory("policy-pack", "policy pack", pack_for_interpreter)


def _add_plugin(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "plugin",
        help="print the path of the Nodion provider plugin, to run on this Python",
        description=(
            "Print the absolute path of the Nodion provider plugin directory, served by the "
            "Python running this command (your virtualenv), for a Pulumi YAML program's "
            "plugins: providers: [{name: nodion, path: ...}] or "
            'pulumi package add "$(nodion-pulumi plugin)". The directory is written once per '
            "interpreter under ${XDG_CACHE_HOME:-~/.cache}/nodion-pulumi/."
        ),
    )
    parser.set_defaults(handler=_run_plugin)


def _run_plugin(args: argparse.Namespace) -> int:
    from nodion_pulumi.plugin import plugin_for_interpreter

    return _print_directory("plugin", "plugin", plugin_for_interpreter)


_COMMANDS: tuple[Callable[[argparse._SubParsersAction[argparse.ArgumentParser]], None], ...] = (
    _add_emulator,
    _add_policy_pack,
    _add_plugin,
    add_registries,
    add_credentials,
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="nodion-pulumi", description="Tools for the Nodion Pulumi providers."
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    subparsers.required = True
    for add in _COMMANDS:
        add(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    result: int = args.handler(args)
    return result


if __name__ == "__main__":
    sys.exit(main())
