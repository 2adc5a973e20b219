"""Private files: every file that holds a secret or personal data is written through here.

The state directory is trusted only if it is ours: owned by the user running the tool and not
writable by group or others (else another user could plant a ``credentials.json`` that sends
the client secret to a host of their choice, or swap ``snapshots.sqlite``). Missing
directories are created 0700, parents too, whatever the umask. Files are opened with
``O_NOFOLLOW`` and modes are set with ``fchmod`` on the open descriptor, so a planted symlink
is refused, never followed, and nothing is ever chmod-ed through one.

``write_private`` is atomic (temp file in the same directory, fsync, rename, fsync of the
directory), so a crash leaves either the old file or the new one, never half of either, and
the file is mode 0600 from its first byte (``mkstemp`` creates it so, with ``O_EXCL``). The
rename replaces a symlink at the target rather than writing through it.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import tempfile
from pathlib import Path

from oaa_concur.errors import ConfigError, OaaConcurError

_DIR_HINT = "point OAA_CONCUR_STATE_DIR or --state-dir at a directory"


def ensure_private_dir(directory: Path) -> None:
    """Create ``directory`` (0700, missing parents 0700 too) or check an existing one."""
    if not os.path.lexists(directory):
        make_dirs(directory)
    check_private_dir(directory)


def make_dirs(directory: Path) -> None:
    """Create every missing directory of ``directory`` with mode 0700, whatever the umask."""
    missing: list[Path] = []
    for path in (directory, *directory.parents):
        if os.path.lexists(path):
            break
        missing.append(path)
    for path in reversed(missing):
        try:
            path.mkdir(mode=0o700)
        except FileExistsError:
            continue  # created meanwhile (another run): checked by the caller
        except OSError as exc:
            raise ConfigError(
                f"The directory {path} cannot be created ({exc.strerror})",
                "check the path and its parent's permissions",
            ) from None
        _fchmod_dir(path, 0o700)  # mkdir's mode is masked by the umask


def _fchmod_dir(path: Path, mode: int) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
    try:
        os.fchmod(fd, mode)
    finally:
        os.close(fd)


def check_private_dir(directory: Path) -> None:
    """Refuse a state directory that is not a directory, not ours, or group/other-writable.

    The directory itself may be a symlink the user made (it is their configuration); what it
    points to is checked.
    """
    try:
        info = directory.stat()
    except OSError as exc:
        raise ConfigError(f"{directory} cannot be used ({exc.strerror})", _DIR_HINT) from None
    if not stat.S_ISDIR(info.st_mode):
        raise ConfigError(f"{directory} is not a directory", _DIR_HINT)
    _check_owner_and_mode(directory, info, "state directory", 0o700)


def _check_owner_and_mode(path: Path, info: os.stat_result, what: str, mode: int) -> None:
    if info.st_uid != os.geteuid():
        raise ConfigError(
            f"The {what} {path} belongs to another user (uid {info.st_uid}) and is refused",
            "use a state directory of your own (OAA_CONCUR_STATE_DIR or --state-dir)",
        )
    if stat.S_IMODE(info.st_mode) & 0o022:
        raise ConfigError(
            f"The {what} {path} is writable by other users and is refused",
            f"chmod {mode:o} {path}",
        )


def refuse_symlinks_in(directory: Path) -> None:
    """Refuse a state directory holding any symlink: it must hold its own files (a planted
    ``snapshots.sqlite`` link would put personal data wherever it points)."""
    with os.scandir(directory) as entries:
        for entry in entries:
            if entry.is_symlink():
                refuse_symlink(Path(entry.path))


def refuse_symlink(path: Path) -> None:
    """ConfigError if ``path`` is a symbolic link (checked before a library opens it)."""
    if path.is_symlink():
        raise ConfigError(
            f"{path} is a symbolic link and is refused",
            "remove the link; the state directory must hold its own files",
        )


def open_private(path: Path, flags: int) -> int:
    """``os.open`` with ``O_NOFOLLOW`` (mode 0600 if created); a symlink is a ConfigError."""
    try:
        fd = os.open(path, flags | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
    except OSError as exc:
        refuse_symlink(path)
        raise ConfigError(f"{path} cannot be opened ({exc.strerror})", _DIR_HINT) from None
    return fd


def create_private_file(path: Path) -> None:
    """Create ``path`` empty with mode 0600 if it is missing (never through a symlink)."""
    fd = open_private(path, os.O_CREAT | os.O_WRONLY)
    try:
        os.fchmod(fd, 0o600)
    finally:
        os.close(fd)


def read_private(path: Path, what: str) -> bytes | None:
    """The bytes of the private file ``path`` (None: it does not exist); ConfigError if it is a
    symlink, not a regular file, not ours, or readable or writable by anybody else."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK)
    except FileNotFoundError:
        return None
    except OSError as exc:
        refuse_symlink(path)
        raise ConfigError(
            f"The {what} {path} cannot be read ({exc.strerror})", "move it aside and run again"
        ) from None
    try:
        _check_private_file(path, os.fstat(fd), what)
    except ConfigError:
        os.close(fd)
        raise
    with os.fdopen(fd, "rb") as handle:
        return handle.read()


def _check_private_file(path: Path, info: os.stat_result, what: str) -> None:
    if not stat.S_ISREG(info.st_mode):  # checked first: a directory's mode says nothing
        raise ConfigError(f"The {what} {path} is not a regular file", "move it aside and run again")
    _check_owner_and_mode(path, info, what, 0o600)
    if stat.S_IMODE(info.st_mode) & 0o077:
        raise ConfigError(
            f"The {what} {path} is readable by other users and is refused", f"chmod 600 {path}"
        )


_USAGE_ERRNOS = frozenset(
    {errno.EISDIR, errno.ENOTDIR, errno.EACCES, errno.EPERM, errno.ENOENT, errno.EROFS}
    | {errno.ENAMETOOLONG, errno.ELOOP}
)


def unwritable(path: Path, exc: OSError) -> OaaConcurError:
    """One sentence for a file that cannot be written: the path's fault (a directory, no
    permission: exit 2) or the machine's (disk full, I/O error: exit 1)."""
    reason = exc.strerror or type(exc).__name__
    if exc.errno in _USAGE_ERRNOS:
        return ConfigError(
            f"{path} cannot be written ({reason})", "give a file path in a writable directory"
        )
    return OaaConcurError(f"{path} cannot be written ({reason})", "free space and run again")


def write_private(path: Path, data: bytes | str) -> Path:
    """Atomically replace ``path`` with ``data`` (str is UTF-8 encoded), mode 0600; a path
    that cannot be written is one sentence (``ConfigError`` or ``OaaConcurError``)."""
    blob = data.encode("utf-8") if isinstance(data, str) else data
    if not path.parent.exists():
        make_dirs(path.parent)
    try:
        return _write_atomically(path, blob)
    except OSError as exc:
        raise unwritable(path, exc) from None


def _write_atomically(path: Path, blob: bytes) -> Path:
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


SQLITE_COMPANIONS = ("-journal", "-wal", "-shm")


def guard_database(state_dir: Path, path: Path) -> None:
    """Check the state directory and refuse a symlinked database (or journal) before SQLite
    opens it: SQLite follows symlinks, so a ``snapshots.sqlite`` linked to a missing path would
    create a database of personal data wherever the link points."""
    check_private_dir(state_dir)
    for candidate in (path, *(path.with_name(path.name + end) for end in SQLITE_COMPANIONS)):
        refuse_symlink(candidate)
