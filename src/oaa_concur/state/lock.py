"""The run lock in the state directory: two overlapping runs never refresh one token at once."""

from __future__ import annotations

import contextlib
import fcntl
import os
import threading
from collections.abc import Iterator
from pathlib import Path

from oaa_concur.errors import LockedError
from oaa_concur.state.files import ensure_private_dir

LOCK_NAME = "oaa-concur.lock"

_held: dict[Path, int] = {}
_held_lock = threading.Lock()


@contextlib.contextmanager
def state_lock(state_dir: Path) -> Iterator[Path]:
    """Hold ``<state_dir>/oaa-concur.lock`` (flock, non-blocking); re-entrant in one process.

    Two overlapping runs must never refresh the same token at once (Concur may rotate it and
    the loser's token would be dead), so a second run fails at once instead of waiting.
    """
    ensure_private_dir(state_dir)
    path = (state_dir / LOCK_NAME).resolve()
    with _held_lock:
        if path in _held:
            _held[path] += 1
            reentered = True
        else:
            reentered = False
    if reentered:
        try:
            yield path
        finally:
            with _held_lock:
                _held[path] -= 1
        return
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise LockedError(
            f"another oaa-concur run holds the lock {path}",
            "wait for it to finish or remove a stale lock file if no run is active",
        ) from None
    with _held_lock:
        _held[path] = 1
    try:
        yield path
    finally:
        with _held_lock:
            del _held[path]
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)
