"""Private files: every file that holds a secret or personal data is written through here.

``write_private`` is atomic (temp file in the same directory, fsync, rename, fsync of the
directory), so a crash leaves either the old file or the new one, never half of either, and
the file is mode 0600 from its first byte (``mkstemp`` creates it so).
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

from oaa_concur.errors import ConfigError


def ensure_private_dir(directory: Path) -> None:
    """Create ``directory`` with mode 0700 (an existing one is left as it is)."""
    if directory.exists() and not directory.is_dir():
        raise ConfigError(
            f"{directory} is not a directory",
            "point OAA_CONCUR_STATE_DIR or --state-dir at a directory",
        )
    if not directory.exists():
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        directory.chmod(0o700)


def write_private(path: Path, data: bytes | str) -> Path:
    """Atomically replace ``path`` with ``data`` (str is UTF-8 encoded), mode 0600."""
    blob = data.encode("utf-8") if isinstance(data, str) else data
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(blob)
            handle.flush()
            os.fsync(handle.fileno())
        Path(tmp).replace(path)
    except BaseException:
        with contextlib.suppress(OSError):
            Path(tmp).unlink()
        raise
    _fsync_dir(path.parent)
    return path


def _fsync_dir(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:  # some filesystems do not let a directory be opened
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
