"""Fixtures for the fault-survival tests: simulator clients, instant sleeps, the fake Veza.

Library-level tests inject ``sleep``/``clock`` into ``run_discovery`` (``NoWait``); tests of
the real CLI use ``instant_sleeps`` (tests/fakes/sleeps.py).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from oaa_concur.review.snapshot import SnapshotStore
from tests.concur.conftest import NoWait, client_for
from tests.fakes.sleeps import Slept, instant_sleeps
from tests.fakes.veza import FakeVeza, fake_veza, veza_ca

__all__ = [
    "NoWait",
    "Slept",
    "client_for",
    "fake_veza",
    "instant_sleeps",
    "last_line",
    "no_run_left",
    "veza_ca",
]


@pytest.fixture
def state(tmp_path: Path) -> Path:
    return tmp_path / "state"


def no_run_left(veza: FakeVeza | None, state: Path, payload: Path) -> None:
    """A failed run left nothing behind: no push, no payload file, no snapshot."""
    if veza is not None:
        assert veza.pushes == []
    assert not payload.exists()
    if payload.parent.exists():  # no temp file that a reader could take for the payload
        assert [p.name for p in payload.parent.iterdir() if payload.name in p.name] == []
    assert SnapshotStore(state).list() == []


def last_line(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert lines, "nothing on stderr"
    assert "Traceback" not in stderr
    return lines[-1]
