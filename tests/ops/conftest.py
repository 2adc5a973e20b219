"""Fixtures for the tests of unattended runs: the fake Veza over TLS and its CA."""

from tests.fakes.veza import fake_veza, veza_ca

__all__ = ["fake_veza", "veza_ca"]
