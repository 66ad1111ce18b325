"""A stack of a test program wired to an emulator, recording everything the CLI printed.

Every operation's output (including failures) lands in ``transcript`` so that a test, and
the fixture's teardown, can prove no secret ever reached the CLI output or the state files.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from pulumi import automation as auto

from nodion_devkit.engine import Engine, assert_no_plaintext
from nodion_pulumi.emulator import Emulator

TOKEN = "e2e-token-5d1c7a9b3f"
T = TypeVar("T")


def _quiet(_line: str) -> None:
    return None


@dataclass
class NodionStack:
    engine: Engine
    emulator: Emulator
    program: str
    project: str
    stack_name: str = "test"
    secrets: list[str] = field(default_factory=lambda: [TOKEN])
    transcript: list[str] = field(default_factory=list)
    _stack: auto.Stack | None = None

    @property
    def stack(self) -> auto.Stack:
        if self._stack is None:
            self._stack = self.engine.stack(
                self.program,
                self.stack_name,
                config={"nodion:apiUrl": self.emulator.url},
                secrets={"nodion:apiToken": TOKEN},
            )
        return self._stack

    @property
    def work_dir(self) -> Path:
        return Path(self.stack.workspace.work_dir)

    def set_spec(self, spec: dict[str, Any], passwords: dict[str, str] | None = None) -> None:
        self.stack.set_config(f"{self.project}:spec", auto.ConfigValue(json.dumps(spec)))
        if passwords is not None:
            self.secrets.extend(passwords.values())
            self.stack.set_config(
                f"{self.project}:passwords",
                auto.ConfigValue(json.dumps(passwords), secret=True),
            )

    def _run(self, operation: Callable[..., T], **kwargs: Any) -> T:
        lines: list[str] = []
        try:
            result = operation(on_output=lines.append, color="never", **kwargs)
        except auto.CommandError as error:
            self.transcript.extend(lines)
            self.transcript.append(str(error))
            raise
        self.transcript.extend(lines)
        for attr in ("stdout", "stderr"):
            self.transcript.append(str(getattr(result, attr, "") or ""))
        return result

    def preview(self, **kwargs: Any) -> auto.PreviewResult:
        return self._run(self.stack.preview, **kwargs)

    def up(self, **kwargs: Any) -> auto.UpResult:
        result = self._run(self.stack.up, **kwargs)
        for output in result.outputs.values():
            if output.secret and isinstance(output.value, str):
                self.remember_secret(output.value)
        return result

    def refresh(self, **kwargs: Any) -> auto.RefreshResult:
        return self._run(self.stack.refresh, **kwargs)

    def destroy(self, **kwargs: Any) -> auto.DestroyResult:
        return self._run(self.stack.destroy, **kwargs)

    def outputs(self) -> dict[str, Any]:
        return {key: value.value for key, value in self.stack.outputs().items()}

    def resources(self, type_suffix: str = "") -> list[dict[str, Any]]:
        return [
            r
            for r in self.engine.resources(self.project, self.stack_name)
            if r["type"].endswith(type_suffix)
        ]

    def remember_secret(self, value: str) -> None:
        """Add a value learnt during the test (e.g. a minted password) to the scan.

        A ``.dockerconfigjson`` document also contributes its passwords and ``auth`` values.
        """
        if not value:
            return
        self.secrets.append(value)
        try:
            document = json.loads(value)
        except ValueError:
            return
        if isinstance(document, dict):
            for entry in document.get("auths", {}).values():
                self.secrets.extend(str(entry[key]) for key in ("password", "auth") if key in entry)

    def masked(self, text: str) -> str:
        """Text fit for an assertion message: every secret the scan knows replaced."""
        for secret in sorted(filter(None, self.secrets), key=len, reverse=True):
            text = text.replace(secret, "[secret]")
        return text

    def assert_no_secret_leaked(self) -> None:
        """No secret in plaintext in any state file or in anything the CLI printed."""
        haystacks = {
            str(path.relative_to(self.engine.root)): path.read_text(errors="replace")
            for path in self.engine.state_files()
        }
        haystacks["CLI output"] = "\n".join(self.transcript)
        assert_no_plaintext(haystacks, self.secrets)
