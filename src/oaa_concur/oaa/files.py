"""The OAA payload as a dict, as JSON bytes, and as a mode-0600 file written atomically.

Each function takes the built application (``BuiltApplication`` or its ``CustomApplication``)
or a payload dict already made from one.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeAlias

import orjson
from oaaclient.templates import CustomApplication

from oaa_concur.gc_control import gc_paused
from oaa_concur.oaa.build import BuiltApplication
from oaa_concur.state.files import write_private

Payload = dict[str, Any]
Source: TypeAlias = BuiltApplication | CustomApplication | Payload


def payload(source: Source) -> Payload:
    """``app.get_payload()``, with cyclic GC paused (it only costs time on this many objects)."""
    if isinstance(source, dict):
        return source
    app = source.app if isinstance(source, BuiltApplication) else source
    with gc_paused():
        result: Payload = app.get_payload()
    return result


def payload_json(source: Source, *, indent: bool = True) -> bytes:
    """The payload as UTF-8 JSON with sorted keys, so that golden files diff cleanly."""
    option = orjson.OPT_SORT_KEYS | (orjson.OPT_INDENT_2 if indent else 0)
    return orjson.dumps(payload(source), option=option)


def save_payload(source: Source | bytes, path: str | Path) -> Path:
    """Write the payload to ``path`` (mode 0600: it lists every user) via temp file + rename."""
    data = source if isinstance(source, bytes) else payload_json(source)
    return write_private(Path(path), data)
