"""The OAA payload as a dict, as JSON bytes, and as a mode-0600 file written atomically."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
from oaaclient.templates import CustomApplication

from oaa_concur.gc_control import gc_paused
from oaa_concur.state.files import write_private

Payload = dict[str, Any]


def payload(app_or_payload: CustomApplication | Payload) -> Payload:
    """``app.get_payload()``, with cyclic GC paused (it only costs time on this many objects)."""
    if isinstance(app_or_payload, dict):
        return app_or_payload
    with gc_paused():
        result: Payload = app_or_payload.get_payload()
    return result


def payload_json(app_or_payload: CustomApplication | Payload, *, indent: bool = True) -> bytes:
    """The payload as UTF-8 JSON with sorted keys, so that golden files diff cleanly."""
    option = orjson.OPT_SORT_KEYS | (orjson.OPT_INDENT_2 if indent else 0)
    return orjson.dumps(payload(app_or_payload), option=option)


def save_payload(app_or_payload: CustomApplication | Payload | bytes, path: str | Path) -> Path:
    """Write the payload to ``path`` (mode 0600: it lists every user) via temp file + rename."""
    data = app_or_payload if isinstance(app_or_payload, bytes) else payload_json(app_or_payload)
    return write_private(Path(path), data)
