"""Properties of both providers' ``check``, over inputs a program could hand them.

``check`` runs at preview, for every resource, with whatever the program computed: it must
answer (never raise), name the field of every failure in text the engine can carry, never
quote a password, accept what is not known yet, and be a fixpoint: what it accepted, checked
again (as the next `up` does with the state's inputs), comes back unchanged and accepted.
"""

from __future__ import annotations

import string
from collections.abc import Callable, Mapping
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from pulumi.dynamic import CheckResult
from pulumi.output import Unknown

from nodion_devkit import fuzzing
from nodion_pulumi._facts import EXTERNAL_REGISTRY_TYPES, REGISTRY_TYPES
from nodion_pulumi._unknowns import UNKNOWN
from nodion_pulumi.container_registry import ContainerRegistryProvider
from nodion_pulumi.emulator import DEFAULT_PROJECT_ID, DEFAULT_REGIONS, Emulator, nodion_registry_id
from nodion_pulumi.registry_credentials import RegistryCredentialsProvider

REGISTRY_FIELDS = ("name", "registry_type", "hostname", "username", "password", "adopt_id")
CREDENTIALS_FIELDS = ("registry_id", "triggers")
EXAMPLES = fuzzing.examples(60)

# -- strategies ----------------------------------------------------------------------------

unknowns = st.sampled_from([Unknown(), UNKNOWN])  # type: ignore[no-untyped-call]
# Any text, lone surrogates and control characters included.
any_text = st.text(
    st.one_of(st.characters(), st.characters(categories=["Cs", "Cc", "Zs", "Zl"])), max_size=40
)
scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(), any_text, st.binary(max_size=4)
)
anything = st.recursive(
    st.one_of(scalars, unknowns),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(any_text, inner, max_size=3)
    ),
    max_leaves=6,
)
labels = st.from_regex(r"\A[a-z0-9]([a-z0-9-]{0,8}[a-z0-9])?\Z")
hostnames = st.builds(
    lambda parts, port: ".".join(parts) + (f":{port}" if port else ""),
    st.lists(labels, min_size=1, max_size=3),
    st.one_of(st.none(), st.integers(0, 70000)),
)
registry_ids = st.one_of(
    st.uuids().map(str), st.text(string.ascii_letters + string.digits + "-_.~", max_size=130)
)


def _field(plausible: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Mostly plausible values, so that many inputs pass the other fields' rules."""
    return st.one_of(plausible, plausible, plausible, anything)


printable = st.characters(exclude_categories=["Cc", "Cf", "Cs", "Zl", "Zp"])
# Text that reads well but holds a lone surrogate, as a mis-decoded file yields.
with_surrogates = st.builds(
    lambda before, surrogate, after: before + surrogate + after,
    st.text(printable, max_size=8),
    st.characters(categories=["Cs"]),
    st.text(printable, max_size=8),
)


# Inputs that are valid, for the properties about what check accepts.
display_names = st.text(printable, min_size=1, max_size=60).filter(lambda name: name.strip())
secrets = st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1, max_size=40)


@st.composite
def valid_registry_inputs(draw: st.DrawFn) -> dict[str, Any]:
    registry_type = draw(st.sampled_from(EXTERNAL_REGISTRY_TYPES))
    inputs: dict[str, Any] = {"name": draw(display_names), "registry_type": registry_type}
    if registry_type == "custom" or draw(st.booleans()):
        inputs["hostname"] = draw(
            st.builds(lambda parts: ".".join(parts), st.lists(labels, min_size=1, max_size=3))
        )
    if draw(st.booleans()):
        inputs["username"], inputs["password"] = draw(secrets), draw(secrets)
    return inputs


# Per field, what a program could hand over instead of a valid value.
HOSTILE: dict[str, st.SearchStrategy[Any]] = {
    "name": st.one_of(with_surrogates, st.text(printable, max_size=20), any_text, anything),
    "registry_type": st.one_of(
        st.sampled_from([*REGISTRY_TYPES, "dockerhub", "GHCR", ""]), anything
    ),
    "hostname": st.one_of(with_surrogates, hostnames, any_text, anything),
    "username": st.one_of(with_surrogates, any_text, anything),
    "password": st.one_of(with_surrogates, any_text, anything),
    "adopt_id": st.one_of(registry_ids, anything),
    "registry_id": st.one_of(registry_ids, anything),
    "triggers": st.one_of(
        st.dictionaries(st.one_of(with_surrogates, any_text), anything, max_size=3),
        st.dictionaries(st.text(max_size=4), with_surrogates, max_size=2),
        anything,
    ),
}


def _mutated(valid: st.SearchStrategy[dict[str, Any]], fields: tuple[str, ...]) -> Any:
    """Valid inputs with up to three fields replaced by hostile values or left out: near
    misses reach every rule, and many inputs still pass."""

    @st.composite
    def news(draw: st.DrawFn) -> dict[str, Any]:
        inputs = dict(draw(valid))
        for key in draw(st.lists(st.sampled_from(fields), max_size=3, unique=True)):
            if draw(st.booleans()):
                inputs.pop(key, None)
            else:
                inputs[key] = draw(HOSTILE[key])
        return inputs

    return news()


registry_news = _mutated(valid_registry_inputs(), REGISTRY_FIELDS)


json_values = fuzzing.json_values
triggers = st.dictionaries(st.text(max_size=12), json_values, max_size=4)
nodion_ids = st.sampled_from(
    [nodion_registry_id(DEFAULT_PROJECT_ID, slug) for slug in DEFAULT_REGIONS]
)
credentials_news = _mutated(
    st.fixed_dictionaries({"registry_id": nodion_ids}, optional={"triggers": triggers}),
    CREDENTIALS_FIELDS,
)

# -- what every answer of check must be ------------------------------------------------------


def _assert_well_formed(
    result: CheckResult, fields: tuple[str, ...], news: Mapping[str, Any]
) -> None:
    """Every failure names one of the resource's inputs, in text the engine's gRPC can
    carry, without quoting the password it was given."""
    password = news.get("password")
    for failure in result.failures:
        assert failure.property in fields, failure
        assert isinstance(failure.reason, str)
        assert failure.reason.strip(), failure
        failure.reason.encode("utf-8")
        if isinstance(password, str) and len(password.strip()) >= 4:
            assert password not in failure.reason, f"{failure.property}: the password is quoted"


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, Mapping):
        return [s for k, v in value.items() for s in (*_strings(k), *_strings(v))]
    if isinstance(value, list | tuple):
        return [s for item in value for s in _strings(item)]
    return []


def _assert_fixpoint(check: Callable[..., CheckResult], accepted: CheckResult) -> None:
    """What check accepted can be sent (every string encodes: the request and the engine's
    gRPC need UTF-8), and comes back unchanged and accepted, as the next `up` checks it."""
    for text in _strings(accepted.inputs):
        text.encode("utf-8")
    again = check(accepted.inputs, accepted.inputs)
    assert again.failures == []
    assert again.inputs == accepted.inputs


# -- properties ------------------------------------------------------------------------------


@settings(max_examples=EXAMPLES)
@given(news=registry_news)
def test_registry_check_answers_well_formed_and_is_a_fixpoint(
    registries: ContainerRegistryProvider, news: dict[str, Any]
) -> None:
    result = registries.check({}, news)
    _assert_well_formed(result, REGISTRY_FIELDS, news)
    if not result.failures:
        _assert_fixpoint(registries.check, result)
        assert registries.check({}, result.inputs).inputs == result.inputs


@settings(max_examples=EXAMPLES)
@given(news=credentials_news)
def test_credentials_check_answers_well_formed_and_is_a_fixpoint(
    credentials: RegistryCredentialsProvider, news: dict[str, Any]
) -> None:
    with fuzzing.isolated_process_state():  # each example is a fresh run: nothing claimed
        result = credentials.check({}, news)
        _assert_well_formed(result, CREDENTIALS_FIELDS, news)
        if not result.failures:
            _assert_fixpoint(credentials.check, result)


@settings(max_examples=EXAMPLES)
@given(inputs=valid_registry_inputs(), data=st.data())
def test_registry_check_accepts_valid_inputs_and_whatever_is_unknown(
    registries: ContainerRegistryProvider, inputs: dict[str, Any], data: st.DataObject
) -> None:
    assert registries.check({}, inputs).failures == []
    unknown = data.draw(st.sets(st.sampled_from(sorted(inputs))), label="unknown fields")
    partly_known = {key: data.draw(unknowns) if key in unknown else v for key, v in inputs.items()}
    assert registries.check({}, partly_known).failures == []


@settings(max_examples=EXAMPLES)
@given(region=st.sampled_from(["fra", "nbg", "ams", "hel"]), rotation=triggers, data=st.data())
def test_credentials_check_accepts_valid_inputs_and_whatever_is_unknown(
    credentials: RegistryCredentialsProvider,
    emulator: Emulator,
    region: str,
    rotation: dict[str, Any],
    data: st.DataObject,
) -> None:
    inputs = {"registry_id": emulator.nodion_registry_id(region), "triggers": rotation}
    with fuzzing.isolated_process_state():
        assert credentials.check({}, inputs).failures == []
    unknown = data.draw(st.sets(st.sampled_from(sorted(inputs))), label="unknown fields")
    partly_known = {key: data.draw(unknowns) if key in unknown else v for key, v in inputs.items()}
    if rotation:
        first_trigger = next(iter(rotation))
        if data.draw(st.booleans(), label="an unknown trigger"):
            partly_known["triggers"] = {**rotation, first_trigger: data.draw(unknowns)}
    with fuzzing.isolated_process_state():
        assert credentials.check({}, partly_known).failures == []
