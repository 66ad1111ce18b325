"""Process environment changed for a block, for the checks that verify credentials against
the emulator's served registries: the verifier reads ``HTTPS_PROXY`` and ``SSL_CERT_FILE``
from the environment, as ``docker`` does, so that is where a test or tool must put them."""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

__all__ = ["patched_environment"]


@contextmanager
def patched_environment(values: Mapping[str, str]) -> Iterator[None]:
    """``values`` set in ``os.environ`` for the block; what was there before (or its
    absence) comes back afterwards."""
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
