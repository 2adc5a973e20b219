"""The run lock in the state directory: two overlapping runs never refresh one token at once."""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path

from oaa_concur.errors import LockedError
from oaa_concur.state.files import ensure_private_dir, open_private, refuse_symlinks_in

LOCK_NAME = "oaa-concur.lock"


@contextlib.contextmanager
def state_lock(state_dir: Path) -> Iterator[Path]:
    """Hold ``<state_dir>/oaa-concur.lock`` (flock, non-blocking) for the block.

    Two overlapping runs must never refresh the same token at once (Concur may rotate it and
    the loser's token would be dead, design.md §3.2), so a second run fails at once instead of
    waiting. The lock is not re-entrant: a second hold, even in the same process, is refused.
    The state directory is checked first (ours, not group/other-writable, no symlinks in it).
    """
    ensure_private_dir(state_dir)
    refuse_symlinks_in(state_dir)  # before the run sends anything, not after its discovery
    path = state_dir / LOCK_NAME
    fd = open_private(path, os.O_RDWR | os.O_CREAT)  # a planted symlink is refused
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise LockedError(
            f"another oaa-concur run holds the lock {path}",
            "wait for it to finish or remove a stale lock file if no run is active",
        ) from None
    try:
        yield path
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)
