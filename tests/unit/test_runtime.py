"""The process-state owner: settings once per configuration, clients and sessions shared and
replaced when closed, a bounded number of verifications at once, and isolation for tests."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from nodion_pulumi import _runtime
from nodion_pulumi._config import MISSING_TOKEN_MESSAGE
from nodion_pulumi._errors import ConfigurationError
from nodion_pulumi._verify import MAX_CONCURRENT_VERIFICATIONS

CONFIG = {"nodion:apiToken": "tok", "nodion:apiUrl": "http://127.0.0.1:9/v1"}


@pytest.fixture
def runtime() -> Iterator[_runtime.Runtime]:
    with _runtime.isolated(environ={}) as fresh:
        yield fresh


def test_isolated_replaces_the_current_runtime_for_the_block_only() -> None:
    before = _runtime.current()
    with _runtime.isolated() as inside:
        assert _runtime.current() is inside
        assert inside is not before
    assert _runtime.current() is before


def test_reset_starts_over_with_a_fresh_runtime() -> None:
    with _runtime.isolated(environ={}):
        first = _runtime.current()
        client = first.client(CONFIG)
        _runtime.reset()
        assert _runtime.current() is not first
        assert client.closed


def test_settings_are_resolved_once_per_configuration(runtime, monkeypatch) -> None:
    calls: list[Any] = []
    resolve = _runtime.resolve_settings

    def counting(*args: Any, **kwargs: Any) -> Any:
        calls.append(args)
        return resolve(*args, **kwargs)

    monkeypatch.setattr(_runtime, "resolve_settings", counting)
    first = runtime.settings(dict(CONFIG))
    assert runtime.settings(dict(CONFIG)) is first
    other = runtime.settings({**CONFIG, "nodion:timeout": "5"})
    assert other.timeout == 5.0
    assert len(calls) == 2


def test_the_environment_is_part_of_the_configuration() -> None:
    environ = {"NODION_API_TOKEN": "from-env", "NODION_API_URL": "http://127.0.0.1:9/v1"}
    with _runtime.isolated(environ=environ) as runtime:
        first = runtime.settings({})
        environ["NODION_API_TOKEN"] = "changed"
        second = runtime.settings({})
    assert first.api_token.get_secret_value() == "from-env"
    assert second.api_token.get_secret_value() == "changed"


def test_a_configuration_error_is_raised_the_same_way_every_time(runtime) -> None:
    messages = []
    for _ in range(3):
        with pytest.raises(ConfigurationError) as raised:
            runtime.settings({"nodion:apiUrl": CONFIG["nodion:apiUrl"]})
        messages.append(str(raised.value))
    assert messages == [MISSING_TOKEN_MESSAGE] * 3


def test_one_client_and_one_session_per_settings(runtime) -> None:
    assert runtime.client(CONFIG) is runtime.client(dict(CONFIG))
    assert runtime.session(CONFIG) is runtime.session(dict(CONFIG))
    assert runtime.client({**CONFIG, "nodion:apiToken": "other"}) is not runtime.client(CONFIG)


def test_a_closed_client_is_replaced(runtime) -> None:
    first = runtime.client(CONFIG)
    first.close()
    second = runtime.client(CONFIG)
    assert second is not first
    assert not second.closed


def test_a_verifier_client_is_shared_per_timeout_and_replaced_when_closed(runtime) -> None:
    first = runtime.verifier_client(10.0)
    assert runtime.verifier_client(10.0) is first
    assert runtime.verifier_client(5.0) is not first
    first.close()
    assert runtime.verifier_client(10.0) is not first


def test_verifications_run_at_most_the_limit_at_once(runtime) -> None:
    """Each verification holds its slot until released: the limit is reached, and no more
    get in, whatever the scheduling (no sleeps)."""
    waiting = 3 * MAX_CONCURRENT_VERIFICATIONS
    inside = threading.Semaphore(0)
    release = threading.Event()
    lock = threading.Lock()
    running = peak = 0

    def verify() -> None:
        nonlocal running, peak
        with runtime.verification_slot():
            with lock:
                running += 1
                peak = max(peak, running)
            inside.release()
            release.wait()
            with lock:
                running -= 1

    with ThreadPoolExecutor(max_workers=waiting) as pool:
        futures = [pool.submit(verify) for _ in range(waiting)]
        for _ in range(MAX_CONCURRENT_VERIFICATIONS):
            assert inside.acquire(timeout=30)
        # The limit is in; the others are blocked on a slot, not on the release.
        assert not inside.acquire(blocking=False)
        with lock:
            assert running == MAX_CONCURRENT_VERIFICATIONS
        release.set()
        for future in futures:
            future.result(timeout=30)
    assert peak == MAX_CONCURRENT_VERIFICATIONS


def test_warnings_go_to_the_sink_the_runtime_holds_else_to_stderr(
    runtime: _runtime.Runtime, capsys: pytest.CaptureFixture[str]
) -> None:
    from nodion_pulumi._warnings import warn

    warn("first\nline")
    assert capsys.readouterr().err == "warning: first\\nline\n"
    sent: list[str] = []
    runtime.send_warnings_to(sent.append)
    warn("second\x1b[31m")
    assert sent == ["second\\x1b[31m"]  # printable, as on stderr
    assert capsys.readouterr().err == ""
