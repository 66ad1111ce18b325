"""Through the real CLI, an answer that is cut short or replaced by a page echoing the request
prints no piece of any password, and the state holds none in plaintext.

A loopback relay in front of the emulator changes the chosen answers; it records every
password it carries, and every 8-character piece of each is looked for in everything the CLI
printed and in every state file.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from pulumi import automation as auto

from nodion_devkit.answer_relay import AnswerRelay, Rewrite, cut_last_bytes, echo_request_as_text
from nodion_devkit.nodion_stack import NodionStack
from nodion_pulumi.emulator import Emulator

pytestmark = pytest.mark.engine

PIECE = 8
# With a quote and backslashes: JSON escapes them, so an echo shows them in another form.
FIRST_PASSWORD = 'first-"pass"-Kz8Qw3Lm7Vx2'
SECOND_PASSWORD = "second-\\pass\\-Jr4Tn9Bc6Hy1"
REGISTRY = {"resource": "hub", "name": "Hub", "type": "ghcr", "username": "u", "password": True}


@pytest.fixture
def relay(nodion_emulator: Emulator) -> Iterator[AnswerRelay]:
    with AnswerRelay(nodion_emulator.url) as running:
        yield running


def through(relay: AnswerRelay, stack: NodionStack) -> NodionStack:
    """The stack with its provider sent through the relay instead of to the emulator."""
    stack.stack.set_config("nodion:apiUrl", auto.ConfigValue(relay.url))
    return stack


def assert_no_piece_of(passwords: set[str], stack: NodionStack) -> None:
    """No 8-character piece of any password in the CLI output or in any state file."""
    haystacks = {"CLI output": "\n".join(stack.transcript)}
    for path in stack.engine.state_files():
        haystacks[str(path.relative_to(stack.engine.root))] = path.read_text(errors="replace")
    leaks: list[tuple[int, str]] = []
    for password in passwords:
        assert len(password) >= PIECE, "a password too short to scan by pieces"
        for start in range(len(password) - PIECE + 1):
            piece = password[start : start + PIECE]
            leaks.extend((start, name) for name, text in haystacks.items() if piece in text)
    # Only where: the report itself must not show the password.
    assert not leaks, f"pieces of a password (at these offsets) found in: {sorted(set(leaks))}"


def test_credentials_whose_answer_is_cut_short_print_no_piece_of_the_password(
    nodion_stack: Callable[..., NodionStack], relay: AnswerRelay
) -> None:
    stack = through(relay, nodion_stack())
    stack.set_spec({"credentials": [{"resource": "ams", "region": "ams"}]})
    relay.rewrites.append(Rewrite("POST", "/credentials", cut_last_bytes(2)))
    with pytest.raises(auto.CommandError) as failure:
        stack.up()
    assert relay.rewritten == 1
    assert relay.passwords, "the relay saw the minted password"
    # Scanned first, so that the assertions below cannot show a password when they fail.
    assert_no_piece_of(relay.passwords, stack)
    message = str(failure.value)
    assert "create registry credentials failed: unexpected response (HTTP 201)" in message
    assert "bytes of application/json that is not valid JSON" in message


def test_a_success_page_echoing_a_create_or_update_prints_no_piece_of_the_password(
    nodion_stack: Callable[..., NodionStack], relay: AnswerRelay
) -> None:
    stack = through(relay, nodion_stack())
    stack.set_spec({"registries": [REGISTRY]}, passwords={"hub": FIRST_PASSWORD})
    relay.rewrites.append(Rewrite("POST", "/container_registries", echo_request_as_text(201)))
    with pytest.raises(auto.CommandError) as failure:
        stack.up()
    assert FIRST_PASSWORD in relay.passwords
    assert_no_piece_of(relay.passwords, stack)
    message = str(failure.value)
    assert "create container registry failed: unexpected response (HTTP 201)" in message
    assert "bytes of text/plain that is not valid JSON" in message

    stack.up()  # the create goes through; then an update meets the echoing page
    stack.set_spec({"registries": [REGISTRY]}, passwords={"hub": SECOND_PASSWORD})
    relay.rewrites.append(Rewrite("PATCH", "", echo_request_as_text(200)))
    with pytest.raises(auto.CommandError) as failure:
        stack.up()
    assert relay.rewritten == 2
    assert SECOND_PASSWORD in relay.passwords
    assert_no_piece_of(relay.passwords, stack)
    message = str(failure.value)
    assert "update container registry failed: unexpected response (HTTP 200)" in message
