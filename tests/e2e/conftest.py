"""End-to-end fixtures: the fake Veza over TLS and its CA, and instant retry sleeps.

The simulator fixtures and ``state`` are in tests/conftest.py; the CLI helpers in
tests/support/cli.py. ``run_cli`` and ``sim_env`` are still importable from here for the
tests that have not moved to ``tests.support.cli`` yet (tests/reliability).
"""

from __future__ import annotations

from tests.fakes.sleeps import instant_sleeps
from tests.fakes.veza import fake_veza, veza_ca
from tests.support.cli import run_cli, sim_env

__all__ = ["fake_veza", "instant_sleeps", "run_cli", "sim_env", "veza_ca"]
