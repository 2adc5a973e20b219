"""Fixtures for the fault-survival tests: a state directory and the fake Veza.

Time is injected as a ``Runtime`` (``tests.fakes.clock.FakeTime``): ``run_discovery(...,
runtime=)`` for library tests, ``run_cli(..., runtime=)`` for tests of the real CLI.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fakes.veza import fake_veza, veza_ca

__all__ = ["fake_veza", "veza_ca"]


@pytest.fixture
def state(tmp_path: Path) -> Path:
    return tmp_path / "state"
