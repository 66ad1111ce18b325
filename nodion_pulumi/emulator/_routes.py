"""A minimal path router that tells "no such path" (404) from "wrong method" (405)."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from nodion_pulumi.emulator._http import Reply, Request, status_reply

Handler = Callable[[Request, Mapping[str, str]], Reply]
Bound = Callable[[Request], Reply]


@dataclass(frozen=True)
class Route:
    pattern: re.Pattern[str]
    methods: Mapping[str, Handler]

    @classmethod
    def of(cls, template: str, **methods: Handler) -> Route:
        """`/things/{id}` matches one non-empty segment per placeholder; a trailing slash is ok."""
        regex = re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", template)
        return cls(re.compile(f"^{regex}/?$"), methods)


def resolve(routes: list[Route], method: str, path: str) -> Bound | Reply:
    for route in routes:
        found = route.pattern.match(path)
        if found is None:
            continue
        handler = route.methods.get(method)
        if handler is None:
            allow = ", ".join(sorted(route.methods))
            return status_reply(405, headers=(("Allow", allow),))
        return _bind(handler, found.groupdict())
    return status_reply(404)


def _bind(handler: Handler, params: Mapping[str, str]) -> Bound:
    def bound(request: Request) -> Reply:
        return handler(request, params)

    return bound
