from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.engine import Engine, ensure_pulumi


@pytest.fixture(scope="session")
def pulumi_bin_dir() -> Path:
    return ensure_pulumi()


@pytest.fixture
def engine(pulumi_bin_dir: Path, tmp_path: Path) -> Engine:
    return Engine(bin_dir=pulumi_bin_dir, root=tmp_path)
