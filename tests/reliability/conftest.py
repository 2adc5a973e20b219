"""Fixtures for the fault-survival tests: simulator clients, instant sleeps, the fake Veza.

Library-level tests inject ``sleep``/``clock`` into ``run_discovery`` (``NoWait``). The CLI has
no such parameter, so ``instant_sleeps`` swaps the two default sleeps for recorders: the
Concur retrier's ``_real_sleep`` and the Veza pusher's ``sleep`` default. Nothing else is
replaced: every request still crosses loopback HTTP to the real simulator or fake Veza.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from oaa_concur.concur import retry
from oaa_concur.oaa.push import push as veza_push
from oaa_concur.snapshot import SnapshotStore
from tests.concur.conftest import NoWait, client_for
from tests.fakes.veza import FakeVeza, fake_veza, veza_ca

__all__ = ["NoWait", "Slept", "client_for", "fake_veza", "last_line", "no_run_left", "veza_ca"]


@dataclass
class Slept:
    """What the CLI would have slept: Concur retries and Veza retries, in seconds."""

    concur: list[float] = field(default_factory=list)
    veza: list[float] = field(default_factory=list)

    async def concur_sleep(self, seconds: float) -> None:
        self.concur.append(seconds)

    def veza_sleep(self, seconds: float) -> None:
        self.veza.append(seconds)


@pytest.fixture
def instant_sleeps(monkeypatch: pytest.MonkeyPatch) -> Iterator[Slept]:
    slept = Slept()
    monkeypatch.setattr(retry, "_real_sleep", slept.concur_sleep)
    defaults = veza_push.__kwdefaults__
    assert defaults is not None and "sleep" in defaults
    monkeypatch.setitem(defaults, "sleep", slept.veza_sleep)
    yield slept


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
