"""Round trips over the emulator: what create stores is what Nodion holds and what read
returns, and the next diff finds nothing to change.

A value the state holds differently from Nodion (a name Nodion trims, a trigger the engine
hands back as another type) makes every `up` change something, or every refresh report a
drift that is not there.
"""

from __future__ import annotations

import string
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from nodion_devkit import fuzzing
from nodion_devkit.nodion_truth import holds_password, registries_by_id
from nodion_pulumi._facts import EXTERNAL_REGISTRY_TYPES
from nodion_pulumi.container_registry import ContainerRegistryProvider
from nodion_pulumi.emulator import Emulator
from nodion_pulumi.registry_credentials import RegistryCredentialsProvider

EXAMPLES = fuzzing.examples(25)
REGISTRY_INPUTS = ("name", "registry_type", "hostname", "username", "password")

labels = st.from_regex(r"\A[a-z0-9]([a-z0-9-]{0,8}[a-z0-9])?\Z")
hostnames = st.builds(
    lambda parts, port: ".".join(parts) + (f":{port}" if port else ""),
    st.lists(labels, min_size=1, max_size=3),
    st.one_of(st.none(), st.integers(1, 65535)),
)
# Display names as users write them: any printable text, with the spaces around it that a
# template or a copy leaves (check trims them as Nodion does).
display_names = st.builds(
    lambda before, core, after: before + core + after,
    st.sampled_from(["", " ", "\u3000", "\xa0"]),
    st.text(
        st.characters(exclude_categories=["Cc", "Cf", "Cs", "Zl", "Zp"]), min_size=1, max_size=40
    ).filter(lambda name: name.strip()),
    st.sampled_from(["", " ", "\u3000", "\xa0"]),
)
secrets = st.text(string.ascii_letters + string.digits + "!#$%&*+-.:;=?@^_~", min_size=1)


@st.composite
def registry_inputs(draw: st.DrawFn) -> dict[str, Any]:
    registry_type = draw(st.sampled_from(EXTERNAL_REGISTRY_TYPES))
    inputs: dict[str, Any] = {"name": draw(display_names), "registry_type": registry_type}
    if registry_type == "custom" or draw(st.booleans()):
        inputs["hostname"] = draw(hostnames)
    if draw(st.booleans()):
        inputs["username"] = draw(secrets.filter(lambda s: len(s) <= 40))
        inputs["password"] = draw(secrets.filter(lambda s: len(s) <= 40))
    return inputs


json_values = fuzzing.json_values


@settings(max_examples=EXAMPLES)
@given(declared=registry_inputs())
def test_a_created_registry_reads_back_as_nodion_holds_it_and_diffs_clean(
    registries: ContainerRegistryProvider, emulator: Emulator, declared: dict[str, Any]
) -> None:
    checked = registries.check({}, declared)
    assert checked.failures == []
    created = registries.create(checked.inputs)
    outs = dict(created.outs or {})

    truth = registries_by_id(emulator)[str(created.id)]
    for key in ("name", "registry_type", "hostname"):
        assert truth[key] == outs[key], key
    read = registries.read(str(created.id), outs)
    assert read.id == created.id
    assert read.outs == outs
    assert read.inputs == {key: v for key, v in checked.inputs.items() if key in REGISTRY_INPUTS}
    # The next `up` of the same program: check with the state's inputs, then diff.
    rechecked = registries.check(read.inputs, declared)
    assert rechecked.failures == []
    assert not registries.diff(str(created.id), outs, rechecked.inputs).changes
    registries.delete(str(created.id), outs)


@settings(max_examples=EXAMPLES)
@given(
    region=st.sampled_from(["fra", "nbg", "ams", "hel"]),
    rotation=st.one_of(st.none(), st.dictionaries(st.text(max_size=12), json_values, max_size=4)),
)
def test_created_credentials_read_back_as_captured_and_diff_clean(
    emulator: Emulator, region: str, rotation: dict[str, Any] | None
) -> None:
    # Whether Nodion holds the captured password is judged from its store here; asking the
    # registry (verifyCredentials) is the stateful machine's part.
    config = fuzzing.provider_config(emulator, verify_credentials=False)
    credentials = fuzzing.configured(RegistryCredentialsProvider(), config)
    registry_id = emulator.nodion_registry_id(region)
    declared: dict[str, Any] = {"registry_id": registry_id, "triggers": rotation}
    with fuzzing.isolated_process_state():  # each example is a fresh run
        checked = credentials.check({}, declared)
        assert checked.failures == []
        created = credentials.create(checked.inputs)
        outs = dict(created.outs or {})
        has_password = holds_password(emulator, registry_id, outs["password"])
        assert has_password, "Nodion holds other credentials than those captured"

        read = credentials.read(registry_id, outs)
        assert read.id == registry_id
        assert read.outs == outs
        assert read.inputs == checked.inputs
        rechecked = credentials.check(read.inputs, declared)
        assert rechecked.failures == []
        assert not credentials.diff(registry_id, outs, rechecked.inputs).changes
        credentials.delete(registry_id, outs)
