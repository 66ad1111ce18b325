"""Entry point of the Nodion policy pack, run by the Pulumi engine (``python -u <pack dir>``).

It serves the policies of :mod:`nodion_pulumi.policies` over gRPC until the engine stops it.
"""

from __future__ import annotations

import sys


def main() -> None:
    try:
        from pulumi_policy import PolicyPack

        from nodion_pulumi.policies import PACK_DESCRIPTION, PACK_NAME, policies
    except ImportError as error:
        print(
            f"The Nodion policy pack cannot start: {error}. Install it into the Python that "
            f"runs the pack ({sys.executable}) with: pip install 'nodion-pulumi[policy]'",
            file=sys.stderr,
        )
        sys.exit(1)
    PolicyPack(PACK_NAME, policies=policies(), description=PACK_DESCRIPTION)


if __name__ == "__main__":
    main()
