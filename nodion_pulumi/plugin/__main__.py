"""Entry point of the provider plugin, run by the engine (``python -u <plugin dir>``, or
``python -m nodion_pulumi.plugin ENGINE_ADDRESS``)."""

from __future__ import annotations

import sys


def main() -> None:
    from nodion_pulumi._version import __version__
    from nodion_pulumi.plugin._provider import NodionPlugin
    from nodion_pulumi.plugin._server import serve

    serve(NodionPlugin(), __version__, sys.argv[1:])


if __name__ == "__main__":
    main()
