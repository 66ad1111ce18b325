"""Warnings a provider shows in the engine's output.

A dynamic provider process has no engine connection of its own for diagnostics; what it
writes to stderr is shown by the CLI, prefixed like Pulumi's own warnings. The engine hides
a provider plugin's stderr, so the plugin sends warnings through the engine's log instead
(the process's runtime holds where they go). A warning is for
what the provider did on the user's behalf (kept a recovered registry, revoked credentials
nobody could hold) or could not check: the operation itself succeeded. Warnings quote
registry names and hostnames from the API, so they are printed with control and format
characters escaped (``nodion_pulumi._printable``).
"""

from __future__ import annotations

import sys

from nodion_pulumi._printable import printable

__all__ = ["warn"]


def warn(message: str) -> None:
    """Show ``message`` as a warning in the engine's output."""
    from nodion_pulumi._runtime import current

    sink = current().warning_sink
    if sink is None:
        print(f"warning: {printable(message)}", file=sys.stderr, flush=True)
    else:
        sink(printable(message))
