from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from nodion_devkit.crane import ensure_crane
from nodion_devkit.engine import Engine, ensure_pulumi
from nodion_devkit.nodion_stack import TOKEN, NodionStack
from nodion_pulumi.emulator import Emulator


@pytest.fixture(scope="session")
def pulumi_bin_dir() -> Path:
    return ensure_pulumi()


@pytest.fixture(scope="session")
def crane_bin_dir() -> Path:
    """go-containerregistry's crane, the independent registry client some tests log in with."""
    return ensure_crane()


@pytest.fixture
def engine(pulumi_bin_dir: Path, tmp_path: Path) -> Engine:
    return Engine(bin_dir=pulumi_bin_dir, root=tmp_path)


@pytest.fixture
def nodion_emulator(tmp_path: Path) -> Iterator[Emulator]:
    """Serves the registries too: refresh verifies credentials against them (DESIGN 3a)."""
    with Emulator(
        token=TOKEN, data_path=tmp_path / "emulator.db", serve_registries=True
    ) as emulator:
        yield emulator


@pytest.fixture
def nodion_stack(engine: Engine, nodion_emulator: Emulator) -> Iterator[Callable[..., NodionStack]]:
    """Factory of stacks wired to the emulator; at teardown, scans them all for leaks.

    The provider processes reach the emulated registries the way they reach Nodion's: through
    the standard HTTPS_PROXY and SSL_CERT_FILE, nothing test-specific.
    """
    engine.extra_env.update(nodion_emulator.registry_environment())
    made: list[NodionStack] = []

    def make(
        program: str = "registries", project: str | None = None, stack_name: str = "test"
    ) -> NodionStack:
        stack = NodionStack(
            engine, nodion_emulator, program, project or Path(program).name, stack_name
        )
        made.append(stack)
        return stack

    yield make
    for stack in made:
        stack.assert_no_secret_leaked()
