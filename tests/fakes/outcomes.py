"""Assertions on what a failed run leaves behind and on what it printed last."""

from __future__ import annotations

from pathlib import Path

from oaa_concur.review.snapshot import SnapshotStore
from tests.fakes.veza import FakeVeza


def no_run_left(veza: FakeVeza | None, state: Path, payload: Path) -> None:
    """A failed run left nothing behind: no push, no payload file, no snapshot."""
    if veza is not None:
        assert veza.pushes == []
    assert not payload.exists()
    if payload.parent.exists():  # no temp file that a reader could take for the payload
        assert [p.name for p in payload.parent.iterdir() if payload.name in p.name] == []
    assert SnapshotStore(state).list() == []


def last_line(stderr: str) -> str:
    """The last line on stderr (the one sentence), after checking there is no traceback."""
    lines = stderr.strip().splitlines()
    assert lines, "nothing on stderr"
    assert "Traceback" not in stderr
    return lines[-1]
