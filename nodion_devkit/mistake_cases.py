"""The mistakes a new user makes, each as a small program for `python -m nodion_devkit.mistakes`.

A case lists where its failure is raised (``side``) because the bar differs: a program-side
failure (a lookup, the configuration) must end without a Python traceback, a provider-side
one may show the SDK's frames. ``expected`` is the earliest phase that can catch the mistake;
a case expected at ``up`` says why preview cannot see it, so the table explains every gap.

Programs are ``string.Template`` text; the runner fills in, per case: ``$fra_id`` (the
Frankfurt Nodion registry), ``$external_id`` (an external registry that exists before the
program runs), ``$missing_id`` (a well-formed id of no registry) and ``$password`` (a secret
marker the output is scanned for).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Phase = Literal["preview", "up"]
Side = Literal["program", "provider", "engine"]

HEADER = "import pulumi\n\nimport nodion_pulumi as nodion\n\n"

# The API settings a case runs with; "token"/"url" are the emulator's own.
Token = Literal["token", "wrong", "none"]
Url = Literal["url", "root", "dead"]
# What happens outside the stack between `before` and the program: someone regenerates the
# Frankfurt registry's credentials (in the dashboard, or another stack's), and then, maybe,
# the user runs `pulumi refresh`.
OutOfBand = Literal["none", "regenerate", "regenerate-then-refresh"]


@dataclass(frozen=True)
class Case:
    key: str
    mistake: str
    origin: Literal["Why", "validation"]
    side: Side
    program: str
    expected: Phase = "preview"
    later_because: str = ""
    before: str | None = None  # a program brought `up` first: the stack the mistake starts from
    token: Token = "token"
    url: Url = "url"
    out_of_band: OutOfBand = "none"


def _registry(**inputs: str) -> str:
    args = ", ".join(f"{k}={v!r}" for k, v in {"name": "mirror", **inputs}.items())
    return f"nodion.ContainerRegistry('mirror', {args})\n"


_LOOKUP = (
    "fra = nodion.get_nodion_registry('fra')\n"
    "nodion.RegistryCredentials('push', registry_id=fra.id)\n"
)
_PUSH = "nodion.RegistryCredentials('push', registry_id='$fra_id')\n"
_ROTATION = (
    "nodion.RegistryCredentials(\n"
    "    'push',\n"
    "    registry_id='$fra_id',\n"
    "    triggers={'rotation': '%s'},\n"
    "    opts=pulumi.ResourceOptions(protect=True),\n"
    ")\n"
)


def _custom(hostname: str) -> dict[str, str]:
    return {"registry_type": "custom", "hostname": hostname}


_INVALID_REGISTRIES: tuple[tuple[str, str, dict[str, str]], ...] = (
    ("type-nodion", "registry_type 'nodion'", {"registry_type": "nodion"}),
    ("type-unknown", "registry_type 'gitlab'", {"registry_type": "gitlab"}),
    ("custom-no-hostname", "registry_type 'custom' without hostname", {"registry_type": "custom"}),
    ("hostname-scheme", "hostname with a scheme", _custom("https://registry.example.com")),
    ("hostname-path", "hostname with a path", _custom("registry.example.com/team/app")),
    ("hostname-space", "hostname with a space", _custom("registry example.com")),
    ("hostname-port", "hostname with port 0", _custom("registry.example.com:0")),
    (
        "username-no-password",
        "username without password",
        {"registry_type": "ghcr", "username": "octocat"},
    ),
    ("name-blank", "A blank name", {"name": " ", "registry_type": "docker_hub"}),
)

CASES: tuple[Case, ...] = (
    Case(
        "no-token",
        "No API token, in a program without lookups",
        "Why",
        "provider",
        _registry(registry_type="docker_hub")
        + "nodion.RegistryCredentials('push', registry_id='$fra_id')\n",
        token="none",
    ),
    Case(
        "credentials-external-id",
        "RegistryCredentials at the id of an external registry",
        "Why",
        "provider",
        "nodion.RegistryCredentials('push', registry_id='$external_id')\n",
    ),
    Case(
        "credentials-external-resource",
        "RegistryCredentials at an external registry declared in the same program",
        "Why",
        "provider",
        "mirror = "
        + _registry(registry_type="docker_hub")
        + "nodion.RegistryCredentials('push', registry_id=mirror.id)\n",
        expected="up",
        later_because="the registry id is unknown until the registry is created",
    ),
    Case(
        "credentials-missing-id",
        "RegistryCredentials at a registry id that does not exist",
        "Why",
        "provider",
        "nodion.RegistryCredentials('push', registry_id='$missing_id')\n",
    ),
    Case(
        "credentials-region-slug",
        "RegistryCredentials given a region slug as registry_id",
        "Why",
        "provider",
        "nodion.RegistryCredentials('push', registry_id='fra')\n",
    ),
    Case(
        "credentials-twice",
        "Two RegistryCredentials for one registry in one stack",
        "Why",
        "provider",
        _PUSH + "nodion.RegistryCredentials('pull', registry_id='$fra_id')\n",
    ),
    Case(
        "credentials-held-elsewhere",
        "RegistryCredentials for a registry whose credentials another stack holds",
        "Why",
        "provider",
        _PUSH,
        out_of_band="regenerate",
    ),
    Case(
        "credentials-regenerated-refreshed",
        "Credentials regenerated in the dashboard, then `pulumi refresh`, then `pulumi up`",
        "Why",
        "provider",
        _PUSH,
        before=_PUSH,
        out_of_band="regenerate-then-refresh",
    ),
    Case(
        "api-unreachable-lookup",
        "API unreachable (emulator stopped), program with a lookup",
        "Why",
        "program",
        _LOOKUP,
        url="dead",
    ),
    Case(
        "api-unreachable",
        "API unreachable (emulator stopped), program with a registry only",
        "Why",
        "provider",
        _registry(registry_type="docker_hub"),
        url="dead",
    ),
    Case(
        "api-url-without-v1",
        "nodion:apiUrl without /v1",
        "Why",
        "program",
        _LOOKUP,
        url="root",
    ),
    Case(
        "wrong-token",
        "A wrong API token",
        "Why",
        "program",
        _LOOKUP,
        token="wrong",
    ),
    *(
        Case(
            f"adopt-{what}",
            f"adopt_id of {description}",
            "Why",
            "provider",
            _registry(registry_type="docker_hub", adopt_id=adopt_id),
        )
        for what, description, adopt_id in (
            ("nodion", "a Nodion registry", "$fra_id"),
            ("missing", "a registry that does not exist", "$missing_id"),
        )
    ),
    Case(
        "protect-rotation",
        "protect=True, then a triggers change to rotate",
        "Why",
        "engine",
        _ROTATION % "2",
        before=_ROTATION % "1",
    ),
    Case(
        "unknown-region",
        "get_nodion_registry with an unknown region",
        "Why",
        "program",
        "nodion.get_nodion_registry('frankfurt')\n",
    ),
    *(
        Case(key, mistake, "validation", "provider", _registry(**inputs))
        for key, mistake, inputs in _INVALID_REGISTRIES
    ),
    Case(
        "password-no-username",
        "password without username",
        "validation",
        "provider",
        "nodion.ContainerRegistry(\n"
        "    'mirror',\n"
        "    name='mirror',\n"
        "    registry_type='ghcr',\n"
        "    password=pulumi.Output.secret('$password'),\n"
        ")\n",
    ),
)
