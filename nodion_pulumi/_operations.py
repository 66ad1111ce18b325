"""Where a provider's operations meet the engine: advice added, our frames cut.

The SDK's provider host prints the whole traceback of a failed operation, and the CLI shows
it above the message: a dozen lines of our client's internals before the one line that says
what to do. Our errors carry everything in their message, so at this boundary they get
their advice for a Pulumi user (``nodion_pulumi._advice``) and leave without traceback or
chained cause; anything else (a bug) keeps its full traceback.

Check failures are printed by the CLI too, and often name a registry and its hostname as
the API gave them: they leave with control and format characters escaped, as our errors'
messages do (``nodion_pulumi._printable``).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar, cast

from pulumi.dynamic import CheckFailure, CheckResult

from nodion_pulumi._errors import NodionError
from nodion_pulumi._printable import printable

__all__ = ["OPERATIONS", "report_to_the_engine"]

# The methods the engine calls, through the SDK's provider host.
OPERATIONS = ("check", "diff", "create", "read", "update", "delete")

_F = TypeVar("_F", bound=Callable[..., Any])


def report_to_the_engine(operation: _F) -> _F:
    """Wrap a provider operation so that our errors reach the engine advised and as one
    message."""

    @functools.wraps(operation)
    def run(*args: Any, **kwargs: Any) -> Any:
        try:
            result = operation(*args, **kwargs)
        except NodionError as error:
            from nodion_pulumi._advice import advise

            raise advise(error).with_traceback(None) from None
        if isinstance(result, CheckResult) and result.failures:
            result.failures = [
                CheckFailure(failure.property, printable(failure.reason))
                for failure in result.failures
            ]
        return result

    return cast("_F", run)
