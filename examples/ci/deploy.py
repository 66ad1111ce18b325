"""The deployment that deploy.yml runs, as a Pulumi Automation API program.

    python ci/deploy.py preview   # pull requests: preview with the Nodion policy pack
    python ci/deploy.py up        # main: the same preview, then up, then the outputs

A program rather than a list of `pulumi` steps so that the CI path is one thing a test can run
end to end. From the environment: STACK (default `prod`), PULUMI_WORK_DIR (the Pulumi project,
default the current directory), NODION_API_TOKEN (required) and NODION_API_URL (only when
set, e.g. an emulator). The backend and the passphrase come from the usual PULUMI_BACKEND_URL
and PULUMI_CONFIG_PASSPHRASE. Secrets stay masked in what it prints.

The token and URL stay in the environment, which the providers read: they are never written
to the stack's configuration, because `pulumi config set` takes the value on its command line,
where any process on the runner can read it (/proc/<pid>/cmdline). A `nodion:apiToken` or
`nodion:apiUrl` left in the stack's configuration is removed, since configuration wins over
the environment.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Mapping

from pulumi import automation as auto

from nodion_pulumi.policy_pack import pack_for_interpreter


def _stack(environ: Mapping[str, str]) -> auto.Stack:
    token = environ.get("NODION_API_TOKEN", "").strip()
    if not token:
        raise SystemExit(
            "deploy: NODION_API_TOKEN is not set; add it as a repository secret and pass it "
            "in the workflow's env"
        )
    stack = auto.create_or_select_stack(
        stack_name=environ.get("STACK", "prod"),
        work_dir=environ.get("PULUMI_WORK_DIR", os.getcwd()),
    )
    # The providers read NODION_API_TOKEN and NODION_API_URL; stored keys would win over them.
    stack.remove_all_config(["nodion:apiToken", "nodion:apiUrl"])
    return stack


def _changes(summary: Mapping[auto.OpType, int] | None) -> int:
    return sum(count for op, count in (summary or {}).items() if op != auto.OpType.SAME)


def _print_outputs(outputs: Mapping[str, auto.OutputValue]) -> None:
    print("outputs:")
    for name, output in sorted(outputs.items()):
        print(f"  {name}: {'[secret]' if output.secret else output.value}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("operation", choices=("preview", "up"))
    args = parser.parse_args(argv)
    # The pack runs on this Python (the job's virtualenv), like the program it guards.
    policy_packs = [str(pack_for_interpreter())]
    try:
        stack = _stack(os.environ)
        # A mandatory policy (two sets of credentials for one registry) fails here, before
        # anything is written.
        preview = stack.preview(policy_packs=policy_packs, diff=True, on_output=print)
        print(f"deploy: preview of {stack.name}: {_changes(preview.change_summary)} change(s)")
        if args.operation == "preview":
            return 0
        result = stack.up(policy_packs=policy_packs, on_output=print)
    except auto.CommandError as exc:
        # Its text repeats the engine's output, already printed above; the errors are at its end.
        errors = str(exc).partition("\n stderr: ")[2].strip() or str(exc)
        print(f"deploy: {args.operation} failed:\n{errors}", file=sys.stderr)
        return 1
    print(f"deploy: up of {stack.name}: {_changes(result.summary.resource_changes)} change(s)")
    _print_outputs(result.outputs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
