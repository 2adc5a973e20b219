"""Fixtures for the OAA tests: the fake Veza HTTPS server."""

from tests.fakes.veza import fake_veza, veza_ca

__all__ = ["fake_veza", "veza_ca"]
