"""Fixtures for the fault-survival tests: the fake Veza (``state`` is in tests/conftest.py).

Time is injected as a ``Runtime`` (``tests.fakes.clock.FakeTime``): ``run_discovery(...,
runtime=)`` for library tests, ``run_cli(..., runtime=)`` for tests of the real CLI.
"""

from __future__ import annotations

from tests.fakes.veza import fake_veza, veza_ca

__all__ = ["fake_veza", "veza_ca"]
