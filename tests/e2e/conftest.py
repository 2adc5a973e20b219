"""End-to-end fixtures: the fake Veza over TLS and its CA.

The simulator fixtures and ``state`` are in tests/conftest.py; the CLI helpers (``run_cli``,
``sim_env``) in tests/support/cli.py.
"""

from __future__ import annotations

from tests.fakes.veza import fake_veza, veza_ca

__all__ = ["fake_veza", "veza_ca"]
