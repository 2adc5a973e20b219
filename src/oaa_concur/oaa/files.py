"""The OAA payload as a dict, as JSON bytes, and as a mode-0600 file written atomically."""

from __future__ import annotations

import gc
import os
import tempfile
from pathlib import Path
from typing import Any

import orjson
from oaaclient.templates import CustomApplication

Payload = dict[str, Any]


def payload(app_or_payload: CustomApplication | Payload) -> Payload:
    """``app.get_payload()``, with cyclic GC paused (it only costs time on this many objects)."""
    if isinstance(app_or_payload, dict):
        return app_or_payload
    enabled = gc.isenabled()
    gc.disable()
    try:
        result: Payload = app_or_payload.get_payload()
    finally:
        if enabled:
            gc.enable()
    return result


def payload_json(app_or_payload: CustomApplication | Payload, *, indent: bool = True) -> bytes:
    """The payload as UTF-8 JSON with sorted keys, so that golden files diff cleanly."""
    option = orjson.OPT_SORT_KEYS | (orjson.OPT_INDENT_2 if indent else 0)
    return orjson.dumps(payload(app_or_payload), option=option)


def save_payload(app_or_payload: CustomApplication | Payload | bytes, path: str | Path) -> Path:
    """Write the payload to ``path`` (mode 0600: it lists every user) via temp file + rename."""
    data = app_or_payload if isinstance(app_or_payload, bytes) else payload_json(app_or_payload)
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        Path(tmp).chmod(0o600)
        Path(tmp).replace(target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    _fsync_dir(target.parent)
    return target


def _fsync_dir(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:  # some filesystems do not let a directory be opened
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
