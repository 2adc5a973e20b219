"""The run lock in the state directory: two overlapping runs never refresh one token at once.

It is an ``flock`` on ``oaa-concur.lock``: the kernel releases it when the holding process
exits, however it exits, so there is never a stale lock to clean up. The file itself is only
the thing locked; deleting it while a run holds the lock would let the next run lock a *new*
file and overlap the first (so the message never advises removing it). After taking the lock
a run writes who it is into the file (``{"pid": ..., "host": ..., "since": ...}``), so that the
run refused can name the holder.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from oaa_concur.errors import LockedError
from oaa_concur.state.files import ensure_private_dir, open_private, refuse_symlinks_in

LOCK_NAME = "oaa-concur.lock"
_MAX_HOLDER_BYTES = 512


@dataclass(frozen=True)
class Holder:
    """Who holds the lock, as its holder wrote it (fields None when unreadable)."""

    pid: int | None = None
    host: str | None = None
    since: str | None = None

    def describe(self) -> str:
        """``pid 4242 on host-a since 2025-06-30T02:15:00+00:00``, or ``""`` if unknown."""
        parts = [f"pid {self.pid}"] if self.pid is not None else []
        if self.host:
            parts.append(f"on {self.host}")
        if self.since:
            parts.append(f"since {self.since}")
        return " ".join(parts)


def _holder_of(fd: int) -> Holder:
    """What the holder wrote into the lock file (an empty ``Holder`` if nothing usable)."""
    try:
        raw = os.pread(fd, _MAX_HOLDER_BYTES, 0)
        data = json.loads(raw.decode("utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return Holder()
    if not isinstance(data, dict):
        return Holder()
    pid, host, since = data.get("pid"), data.get("host"), data.get("since")
    return Holder(
        pid=pid if isinstance(pid, int) and not isinstance(pid, bool) else None,
        host=host if isinstance(host, str) else None,
        since=since if isinstance(since, str) else None,
    )


def _write_holder(fd: int) -> None:
    me = {
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "since": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    os.ftruncate(fd, 0)
    os.pwrite(fd, json.dumps(me).encode("utf-8") + b"\n", 0)


def locked_error(path: Path, holder: Holder) -> LockedError:
    who = holder.describe()
    return LockedError(
        f"another oaa-concur run holds the lock {path} ({who or 'pid unknown'})",
        "wait for it to finish: the lock is released when that process exits (do not delete "
        "the lock file: a run started after that would overlap the one still running)",
    )


@contextlib.contextmanager
def state_lock(state_dir: Path) -> Iterator[Path]:
    """Hold ``<state_dir>/oaa-concur.lock`` (flock, non-blocking) for the block.

    Two overlapping runs must never refresh the same token at once (Concur may rotate it and
    the loser's token would be dead, design.md §3.2), so a second run fails at once instead of
    waiting (``LockedError``, exit 3, naming the holder's pid). The lock is not re-entrant: a
    second hold, even in the same process, is refused. The state directory is checked first
    (ours, not group/other-writable, no symlinks in it).
    """
    ensure_private_dir(state_dir)
    refuse_symlinks_in(state_dir)  # before the run sends anything, not after its discovery
    path = state_dir / LOCK_NAME
    fd = open_private(path, os.O_RDWR | os.O_CREAT)  # a planted symlink is refused
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = _holder_of(fd)
        os.close(fd)
        raise locked_error(path, holder) from None
    try:
        _write_holder(fd)
        yield path
    finally:
        with contextlib.suppress(OSError):
            os.ftruncate(fd, 0)  # nobody holds it any more
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def current_holder(state_dir: Path) -> Holder | None:
    """Who holds the lock right now, or None when nobody does (or there is no lock file).

    Read-only: the file is not created, and the lock is taken (and at once released) only
    to learn whether someone else holds it."""
    path = state_dir / LOCK_NAME
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return _holder_of(fd)
    finally:
        os.close(fd)  # closing releases a lock taken just now
    return None
