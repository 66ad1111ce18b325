"""A stateful machine over the emulator: both providers driven as the engine drives them,
through creates, updates, deletes, rotations and refreshes, each of which may meet faults,
interleaved with changes made outside the stack.

Each rule is one CLI command in a provider process of its own (a fresh process state), and
keeps the stack's state as the engine would: what a successful operation returned, nothing
of a failed one. After each command, once every answer the emulator held back has landed,
the machine judges it against Nodion's truth (the emulator's store):

- only ``NodionError`` subclasses escape a provider method (anything else fails the run);
- no message, check failure or warning holds a secret (a password, the API token);
- no registry exists twice, and none is left behind unless the error said so;
- the stack's credentials are the set Nodion holds, at most one set is delivered per
  create, and credentials nobody holds are left only by an error that names the way out;
- after a refresh that met no fault, the state is Nodion's truth.

The user the machine plays follows the advice of what failed: it removes in the dashboard
(the emulator's admin side) a registry an error said may have been made, and revokes
credentials an error or a check failure said it must. ``run`` runs the machine; pytest and
``make reliability`` call it with their own settings.
"""

from __future__ import annotations

import contextlib
import functools
import io
import logging
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from nodion_devkit import fuzzing
from nodion_devkit.environment import patched_environment
from nodion_devkit.nodion_truth import (
    holds_password,
    registries_by_id,
    wait_for_faulted_answers,
)
from nodion_pulumi._errors import NodionError
from nodion_pulumi._ownership import REVOKE_COMMAND
from nodion_pulumi.container_registry import ContainerRegistryProvider
from nodion_pulumi.emulator import Emulator
from nodion_pulumi.registry_credentials import RegistryCredentialsProvider

__all__ = [
    "CLIENT_TIMEOUT",
    "FaultSpec",
    "ProviderMachine",
    "Tally",
    "run",
    "served_environment",
]

CLIENT_TIMEOUT = 0.5
"""The client's timeout in the machine: small, so that a run is quick."""
LATE_BY = CLIENT_TIMEOUT * 2.5
"""A latency fault answers this late: beyond the timeout, and beyond the first retry."""

REGISTRY_SLOTS: dict[str, dict[str, Any]] = {
    "hub": {"registry_type": "docker_hub"},
    "own": {"registry_type": "custom"},
}
REGIONS = ("fra", "nbg")
PREFIX = "machine"

_T = TypeVar("_T")


@dataclass(frozen=True)
class FaultSpec:
    """One fault for the next command: on one HTTP method, a few times."""

    method: str
    # "429", "500", "503"; "latency" (handled late) or "slow_answer" (answered late), both
    # beyond the client's timeout; "drop_after" (the answer is lost), "reset_before".
    kind: str
    times: int

    def admin_arguments(self) -> dict[str, Any]:
        arguments: dict[str, Any] = {"method": self.method, "path": "^/v1/", "times": self.times}
        if self.kind in ("latency", "slow_answer"):
            return {"kind": self.kind, "seconds": LATE_BY, **arguments}
        if self.kind in ("drop_after", "reset_before"):
            return {"kind": self.kind, **arguments}
        retry_after = 0.2 if self.kind == "429" else None
        return {"kind": "status", "status": int(self.kind), "retry_after": retry_after, **arguments}


fault_specs = st.builds(
    FaultSpec,
    method=st.sampled_from(["GET", "POST", "PATCH", "DELETE"]),
    kind=st.sampled_from(
        ["429", "500", "503", "latency", "slow_answer", "drop_after", "reset_before"]
    ),
    times=st.integers(1, 4),
)
# Most commands meet no fault; some meet one, a few two (on different methods, so that no
# request meets both and the wait for held-back answers stays exact).
faults = st.one_of(
    st.just(()),
    st.just(()),
    st.tuples(fault_specs),
    st.lists(fault_specs, min_size=2, max_size=2, unique_by=lambda f: f.method).map(tuple),
)


@dataclass
class Tally:
    """What runs of the machine did, for a report."""

    runs: int = 0
    commands: int = 0
    faults_fired: int = 0
    errors: int = 0
    changes_outside: int = 0
    error_kinds: dict[str, int] = field(default_factory=dict)


@dataclass
class Held:
    """A resource in the stack's state: its id, outputs and inputs."""

    id: str
    outs: dict[str, Any]
    inputs: dict[str, Any]


@dataclass
class Outcome:
    """What one provider call did, as the user sees it."""

    value: Any = None
    error: NodionError | None = None
    warnings: str = ""
    messages: list[str] = field(default_factory=list)


class ProviderMachine(RuleBasedStateMachine):
    """The machine; built by :func:`run` with the emulator it drives."""

    def __init__(self, emulator: Emulator, initial: Mapping[str, Any], tally: Tally) -> None:
        super().__init__()
        self.tally = tally
        tally.runs += 1
        self.emulator = emulator
        self.admin = emulator.admin
        emulator.restore_state(initial)
        self.admin.clear_faults()
        self.admin.clear_requests()
        config = fuzzing.provider_config(emulator, timeout=CLIENT_TIMEOUT, verify_credentials=True)
        self.registries = fuzzing.configured(ContainerRegistryProvider(), config)
        self.credentials = fuzzing.configured(RegistryCredentialsProvider(), config)
        self.held_registries: dict[str, Held] = {}
        self.held_credentials: dict[str, Held] = {}
        self.rotation: dict[str, int] = dict.fromkeys(REGIONS, 0)
        # Regions whose credentials were changed outside the stack since the last refresh
        # that saw them, and registries whose credentials someone else holds.
        self.changed_outside: set[str] = set()
        self.held_elsewhere: set[str] = set()
        self.secrets: set[str] = {fuzzing.TOKEN}
        self.faulted = False
        self.only_throttled = False
        # Judgements of the running command, made once its held-back answers have landed:
        # a request that lands late can still change the truth.
        self._judgements: list[Callable[[], None]] = []

    # -- helpers ---------------------------------------------------------------------------

    def _registry_id(self, region: str) -> str:
        return self.emulator.nodion_registry_id(region)

    @contextlib.contextmanager
    def _command(self, fault_list: tuple[FaultSpec, ...]) -> Iterator[None]:
        """One CLI command: a fresh provider process, the faults armed for it alone, and
        every held-back answer landed before it is judged."""
        self.admin.clear_requests()
        for fault in fault_list:
            self.admin.add_fault(**fault.admin_arguments())
        self.faulted = bool(fault_list)
        # "Come back later" alone must never fail a command: it is waited out.
        self.only_throttled = self.faulted and all(f.kind in ("429", "503") for f in fault_list)
        self.tally.commands += 1
        try:
            with fuzzing.isolated_process_state():
                yield
        finally:
            wait_for_faulted_answers(self.admin, timeout=LATE_BY * 8)
            self.tally.faults_fired += sum(int(f["fired"]) for f in self.admin.faults())
            self.admin.clear_faults()
        judgements, self._judgements = self._judgements, []
        for judge in judgements:
            judge()
        # Someone else's set that is gone is nobody's any more.
        truth = registries_by_id(self.emulator)
        self.held_elsewhere = {
            registry_id
            for registry_id in self.held_elsewhere
            if truth[registry_id]["secret_digest"] is not None
        }

    def _later(self, judge: Callable[[], None]) -> None:
        """Judge once the running command's held-back answers have landed."""
        self._judgements.append(judge)

    def _call(self, operation: Callable[[], _T]) -> Outcome:
        """Run one provider method as the engine would; a foreign exception propagates.
        Everything the user could see is kept for the secret check: the error with its
        chained causes, the check failures, the warnings, and the package's log lines."""
        stderr = io.StringIO()
        outcome = Outcome()
        with contextlib.redirect_stderr(stderr), _log_lines() as log_lines:
            try:
                outcome.value = operation()
            except NodionError as error:
                outcome.error = error
                self.tally.errors += 1
                kind = type(error).__name__
                self.tally.error_kinds[kind] = self.tally.error_kinds.get(kind, 0) + 1
        throttled_out = self.only_throttled and _is_throttling(outcome.error)
        assert not throttled_out, f"a command failed on throttling alone: {outcome.error}"
        outcome.warnings = stderr.getvalue()
        outcome.messages = [outcome.warnings, *log_lines]
        cause: BaseException | None = outcome.error
        while cause is not None:
            outcome.messages += [str(cause), repr(cause)]
            cause = cause.__cause__ or cause.__context__
        failures = getattr(outcome.value, "failures", None) or []
        outcome.messages += [f"{f.property}: {f.reason}" for f in failures]
        self._assert_no_secret(outcome.messages)
        return outcome

    def _assert_no_secret(self, messages: list[str]) -> None:
        for message in messages:
            for secret in self.secrets:
                assert secret not in message, "a secret appears in a message or warning"

    def _remember(self, outs: Mapping[str, Any]) -> None:
        for key in ("password", "docker_config_json"):
            value = outs.get(key)
            if isinstance(value, str) and value:
                self.secrets.add(value)

    def _check_failures_are_reported(self, outcome: Outcome) -> list[Any]:
        """Failures of a check: each names a field, or (a field of "") says why Nodion
        could not be asked, which only a fault may cause. A check reports; it never raises."""
        assert outcome.error is None, f"check raised instead of reporting: {outcome.error}"
        failures = list(outcome.value.failures or [])
        for failure in failures:
            # Throttling alone is waited out, at preview as at any other time.
            throttled_out = self.only_throttled and any(
                code in failure.reason for code in ("HTTP 429", "HTTP 503")
            )
            assert not throttled_out, f"a check failed on throttling alone: {failure.reason}"
            assert failure.property or self.faulted, f"check failed: {failure.reason}"
        return failures

    def _ours(self) -> dict[str, list[dict[str, Any]]]:
        """The machine's external registries in Nodion, by slot."""
        found: dict[str, list[dict[str, Any]]] = {slot: [] for slot in REGISTRY_SLOTS}
        for entry in registries_by_id(self.emulator).values():
            name = str(entry["name"])
            for slot in REGISTRY_SLOTS:
                if name.startswith(f"{PREFIX}-{slot}-"):
                    found[slot].append(entry)
        return found

    def _declared_registry(self, slot: str, variant: int) -> dict[str, Any]:
        """What the program declares for ``slot``: a name and hostname that vary, and for the
        custom registry a login whose password varies (a login is never dropped: that
        replaces the registry, which this machine does not model)."""
        declared = {"name": f"{PREFIX}-{slot}-{variant}", **REGISTRY_SLOTS[slot]}
        if declared["registry_type"] == "custom":
            password = f"login-secret-{slot}-{variant}"
            declared.update(
                hostname=f"{slot}{variant}.example.com", username=f"user-{slot}", password=password
            )
            self.secrets.add(password)
        return declared

    # -- registries ------------------------------------------------------------------------

    @rule(slot=st.sampled_from(sorted(REGISTRY_SLOTS)), variant=st.integers(0, 2), fault=faults)
    def up_registry(self, slot: str, variant: int, fault: tuple[FaultSpec, ...]) -> None:
        declared = self._declared_registry(slot, variant)
        held = self.held_registries.get(slot)
        with self._command(fault):
            if held is None:
                checked = self._call(lambda: self.registries.check({}, declared))
                if self._check_failures_are_reported(checked):
                    return
                created = self._call(lambda: self.registries.create(checked.value.inputs))
                if created.error is None:
                    result = created.value
                    self.held_registries[slot] = Held(
                        str(result.id), dict(result.outs), dict(checked.value.inputs)
                    )
                    self._remember(result.outs)
                else:
                    error = created.error
                    self._later(lambda: self._left_behind_registries(slot, error))
                return
            checked = self._call(lambda: self.registries.check(held.inputs, declared))
            if self._check_failures_are_reported(checked):
                return
            inputs = dict(checked.value.inputs)
            diffed = self._call(lambda: self.registries.diff(held.id, held.outs, inputs))
            assert diffed.error is None, f"diff raised: {diffed.error}"
            diff = diffed.value
            if not diff.changes:
                return
            assert not diff.replaces, f"a rename or a new login replaces: {diff.replaces}"
            updated = self._call(lambda: self.registries.update(held.id, held.outs, inputs))
            if updated.error is None:
                held.outs, held.inputs = dict(updated.value.outs), inputs

    def _left_behind_registries(self, slot: str, error: NodionError) -> None:
        """A failed create may leave a registry only if its error says how to take it over;
        the user then removes it (as the error's other way on), so the next create starts
        clean."""
        for entry in self._ours()[slot]:
            message = str(error)
            assert "adopt_id" in message or entry["id"] in message, (
                f"a failed create left registry {entry['id']} behind without saying so: {message}"
            )
            self.admin.delete_registry(entry["id"])

    @rule(slot=st.sampled_from(sorted(REGISTRY_SLOTS)), fault=faults)
    def destroy_registry(self, slot: str, fault: tuple[FaultSpec, ...]) -> None:
        held = self.held_registries.get(slot)
        if held is None:
            return
        with self._command(fault):
            deleted = self._call(lambda: self.registries.delete(held.id, held.outs))
            if deleted.error is None:
                del self.held_registries[slot]

                def gone() -> None:
                    assert held.id not in registries_by_id(self.emulator), "deleted, still there"

                self._later(gone)

    @rule(slot=st.sampled_from(sorted(REGISTRY_SLOTS)))
    def delete_registry_outside(self, slot: str) -> None:
        held = self.held_registries.get(slot)
        if held is not None and held.id in registries_by_id(self.emulator):
            self.admin.delete_registry(held.id)
            self.tally.changes_outside += 1

    # -- credentials -----------------------------------------------------------------------

    @rule(region=st.sampled_from(REGIONS), rotate=st.booleans(), fault=faults)
    def up_credentials(self, region: str, rotate: bool, fault: tuple[FaultSpec, ...]) -> None:
        registry_id = self._registry_id(region)
        held = self.held_credentials.get(region)
        if held is not None and rotate:
            self.rotation[region] += 1
        declared = {"registry_id": registry_id, "triggers": {"rotation": self.rotation[region]}}
        with self._command(fault):
            if held is not None:
                checked = self._call(lambda: self.credentials.check(held.inputs, declared))
                if self._check_failures_are_reported(checked):
                    return
                inputs = dict(checked.value.inputs)
                diff = self._call(lambda: self.credentials.diff(registry_id, held.outs, inputs))
                assert diff.error is None, f"diff raised: {diff.error}"
                if not diff.value.changes:
                    return
                assert diff.value.delete_before_replace
                # A replacement: the engine checks the new inputs as new, deletes, creates.
                rechecked = self._call(lambda: self.credentials.check({}, declared))
                if self._check_failures_are_reported(rechecked):
                    return
                deleted = self._call(lambda: self.credentials.delete(registry_id, held.outs))
                if deleted.error is not None:
                    return
                del self.held_credentials[region]
                self._create_credentials(region, dict(rechecked.value.inputs))
                return
            checked = self._call(lambda: self.credentials.check({}, declared))
            failures = self._check_failures_are_reported(checked)
            if failures:
                self._later(lambda: self._follow_check_advice(region, failures))
                return
            self._create_credentials(region, dict(checked.value.inputs))

    def _create_credentials(self, region: str, inputs: dict[str, Any]) -> None:
        registry_id = self._registry_id(region)
        created = self._call(lambda: self.credentials.create(inputs))
        delivered = [
            entry
            for entry in self.admin.requests()
            if entry["method"] == "POST"
            and entry["path"].endswith("/credentials")
            and entry["status"] == 201
            and entry["fault"] is None
        ]
        assert len(delivered) <= 1, f"{len(delivered)} sets of credentials minted for one intent"
        if created.error is None:
            outs = dict(created.value.outs)
            self._remember(outs)
            self.held_credentials[region] = Held(registry_id, outs, inputs)
            self.changed_outside.discard(region)
            self.held_elsewhere.discard(registry_id)  # the set on the registry is ours now

            def captured() -> None:
                holds = holds_password(self.emulator, registry_id, outs["password"])
                assert holds, "the stack holds a password Nodion does not have"

            self._later(captured)
            return
        error = created.error
        self._later(lambda: self._follow_error_advice(region, error))

    def _follow_error_advice(self, region: str, error: NodionError) -> None:
        """Credentials nobody holds may stay on the registry only if the error names the
        way out; the user then takes it."""
        registry_id = self._registry_id(region)
        if registries_by_id(self.emulator)[registry_id]["secret_digest"] is None:
            return
        if registry_id in self.held_elsewhere:
            return
        assert REVOKE_COMMAND in str(error), (
            f"credentials nobody holds were left on {region} without naming the way out: {error}"
        )
        self.admin.drop_credentials(registry_id)

    def _follow_check_advice(self, region: str, failures: list[Any]) -> None:
        """A check that refuses to capture credentials someone else holds names the revoke
        command; the user revokes their set, as advised, so that the next `up` can capture."""
        registry_id = self._registry_id(region)
        for failure in failures:
            if failure.property == "registry_id" and REVOKE_COMMAND in failure.reason:
                self.admin.drop_credentials(registry_id)
                self.held_elsewhere.discard(registry_id)

    @rule(region=st.sampled_from(REGIONS), fault=faults)
    def destroy_credentials(self, region: str, fault: tuple[FaultSpec, ...]) -> None:
        held = self.held_credentials.get(region)
        if held is None:
            return
        with self._command(fault):
            deleted = self._call(lambda: self.credentials.delete(held.id, held.outs))
            if deleted.error is None:
                del self.held_credentials[region]
                if held.id not in self.held_elsewhere and region not in self.changed_outside:

                    def revoked() -> None:
                        entry = registries_by_id(self.emulator)[held.id]
                        assert entry["secret_digest"] is None, "revoked, yet Nodion has them"

                    self._later(revoked)

    @rule(region=st.sampled_from(REGIONS))
    def revoke_credentials_outside(self, region: str) -> None:
        registry_id = self._registry_id(region)
        if registries_by_id(self.emulator)[registry_id]["secret_digest"] is not None:
            self.admin.drop_credentials(registry_id)
            self.changed_outside.add(region)
            self.held_elsewhere.discard(registry_id)
            self.tally.changes_outside += 1

    @rule(region=st.sampled_from(REGIONS))
    def regenerate_credentials_outside(self, region: str) -> None:
        registry_id = self._registry_id(region)
        self.admin.regenerate_credentials(registry_id)
        self.changed_outside.add(region)
        self.held_elsewhere.add(registry_id)
        self.tally.changes_outside += 1

    # -- refresh ---------------------------------------------------------------------------

    @rule(fault=faults)
    def refresh(self, fault: tuple[FaultSpec, ...]) -> None:
        self._refresh(fault)

    def _refresh(self, fault: tuple[FaultSpec, ...]) -> bool:
        """Read every resource of the state, as `pulumi refresh`; whether any read failed."""
        failed = False
        with self._command(fault):
            for slot, held in list(self.held_registries.items()):
                read = self._call(functools.partial(self.registries.read, held.id, held.outs))
                if read.error is not None:
                    failed = True
                elif not read.value.id:
                    del self.held_registries[slot]
                else:
                    held.outs, held.inputs = dict(read.value.outs), dict(read.value.inputs)
            for region, held in list(self.held_credentials.items()):
                read = self._call(functools.partial(self.credentials.read, held.id, held.outs))
                if read.error is not None:
                    failed = True
                elif not read.value.id:
                    del self.held_credentials[region]
                else:
                    held.outs, held.inputs = dict(read.value.outs), dict(read.value.inputs)
                    if region in self.changed_outside:
                        # Kept although changed outside: only if Nodion still has them.
                        self._later(functools.partial(self._still_held, held))
        if not failed:
            self.changed_outside.clear()
            if not fault:
                self._assert_state_is_the_truth()
        return failed

    def _still_held(self, held: Held) -> None:
        holds = holds_password(self.emulator, held.id, held.outs["password"])
        assert holds, "a refresh kept credentials Nodion no longer has"

    def _assert_state_is_the_truth(self) -> None:
        truth = registries_by_id(self.emulator)
        for slot, held in self.held_registries.items():
            entry = truth.get(held.id)
            assert entry is not None, f"the state holds registry {slot}, Nodion does not"
            for key in ("name", "registry_type", "hostname"):
                assert entry[key] == held.outs[key], f"{slot}.{key} differs from Nodion"
        for region, held in self.held_credentials.items():
            holds = holds_password(self.emulator, held.id, held.outs["password"])
            assert holds, f"the state holds credentials of {region} that Nodion does not"

    # -- invariants after every step -------------------------------------------------------

    @invariant()
    def no_registry_twice_and_none_unknown(self) -> None:
        for slot, entries in self._ours().items():
            assert len(entries) <= 1, f"registry {slot} exists {len(entries)} times"
            held = self.held_registries.get(slot)
            for entry in entries:
                unknown = held is None or entry["id"] != held.id
                assert not unknown, f"registry {entry['id']} exists, and the state does not know it"

    @invariant()
    def no_credentials_nobody_holds(self) -> None:
        truth = registries_by_id(self.emulator)
        for region in REGIONS:
            registry_id = self._registry_id(region)
            if truth[registry_id]["secret_digest"] is None:
                continue
            assert (
                region in self.held_credentials
                or registry_id in self.held_elsewhere
                or region in self.changed_outside
            ), f"Nodion has credentials of {region} that nobody holds"

    @precondition(lambda self: bool(self.held_registries or self.held_credentials))
    @rule()
    def destroy_everything(self) -> None:
        """`pulumi destroy` without faults: everything goes, and Nodion keeps nothing of ours."""
        with self._command(()):
            for slot, held in list(self.held_registries.items()):
                deleted = self._call(functools.partial(self.registries.delete, held.id, held.outs))
                assert deleted.error is None, f"destroy failed: {deleted.error}"
                del self.held_registries[slot]
            for region, held in list(self.held_credentials.items()):
                deleted = self._call(functools.partial(self.credentials.delete, held.id, held.outs))
                assert deleted.error is None, f"destroy failed: {deleted.error}"
                del self.held_credentials[region]
        assert all(not entries for entries in self._ours().values())

    def teardown(self) -> None:
        """The last command of every run: a refresh without faults converges to Nodion's
        truth, and a destroy removes everything."""
        assert not self._refresh(()), "a refresh without faults failed"
        if self.held_registries or self.held_credentials:
            self.destroy_everything()


def _is_throttling(error: NodionError | None) -> bool:
    """Whether ``error`` is Nodion saying "come back later" (429, 503)."""
    return getattr(error, "status_code", None) in (429, 503)


class _Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


@contextlib.contextmanager
def _log_lines() -> Iterator[list[str]]:
    """Every line the package logs during the block, debug lines included."""
    logger = logging.getLogger("nodion_pulumi")
    handler, level = _Lines(), logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        yield handler.lines
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


@contextlib.contextmanager
def served_environment(emulator: Emulator) -> Iterator[None]:
    """The variables that route the credentials' verification to the emulator's served
    registries, for the duration of the block."""
    with patched_environment(emulator.registry_environment()):
        yield


def run(emulator: Emulator, run_settings: settings, tally: Tally | None = None) -> Tally:
    """Run the machine against ``emulator`` (which must serve its registries, in the
    environment of :func:`served_environment`); each example starts from the emulator's
    state as it is now. Counts what the runs did in ``tally`` (also when a run fails) and
    returns it."""
    initial = emulator.export_state()
    tally = tally if tally is not None else Tally()

    def machine() -> ProviderMachine:
        return ProviderMachine(emulator, initial, tally)

    # The hypothesis stubs name a class; any callable that returns a machine is accepted.
    run_state_machine_as_test(machine, settings=run_settings)  # type: ignore[arg-type]
    return tally
