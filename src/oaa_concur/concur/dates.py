"""Lenient date parsing: every format Concur sends becomes an aware UTC datetime.

Concur's examples mix ``2021-11-17T00:00:00.000`` (no zone), ``2016-07-17T21:10:00Z``,
``2021-11-17T22:44:09.000164Z`` and ``2012-08-01`` (concur-api.md §3.6, §3.8). The fast path is
``datetime.fromisoformat`` (Python 3.11 reads all of those); the slow fallbacks cover epoch
numbers, .NET ``/Date(ms)/``, RFC 2822 and a few day-first / month-first forms. A value without
a zone is taken as UTC.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

_DOTNET = re.compile(r"^/Date\((-?\d+)([+-]\d{4})?\)/$")
_FORMATS = (
    "%Y-%m-%d %H:%M:%S.%f",
    "%Y/%m/%d %H:%M:%S",
    "%Y/%m/%d",
    "%m/%d/%Y %H:%M:%S",
    "%m/%d/%Y",
    "%d.%m.%Y",
    "%d-%b-%Y",
    "%d %b %Y",
    "%b %d, %Y",
    "%Y%m%d",
)
_MS_THRESHOLD = 100_000_000_000  # epoch numbers above this are milliseconds


def parse_datetime(value: Any) -> datetime | None:
    """None/"" -> None; a parseable value -> aware UTC datetime; anything else -> ValueError."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            parsed = _lenient(value.strip())
    elif isinstance(value, int | float) and not isinstance(value, bool):
        parsed = _epoch(float(value))
    else:
        raise ValueError(f"not a date: {type(value).__name__}")  # noqa: TRY004 - one error type
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def _epoch(number: float) -> datetime:
    if abs(number) >= _MS_THRESHOLD:
        number /= 1000
    try:
        return datetime.fromtimestamp(number, UTC)
    except (OverflowError, OSError, ValueError):
        raise ValueError("epoch out of range") from None


def _lenient(text: str) -> datetime:
    if not text:
        raise ValueError("empty date")
    if text.lstrip("-").replace(".", "", 1).isdigit() and len(text) != 8:
        return _epoch(float(text))
    match = _DOTNET.match(text)
    if match:
        return _epoch(int(match.group(1)) / 1000)
    iso = text[:-4] if text.upper().endswith((" UTC", " GMT")) else text
    try:
        return datetime.fromisoformat(iso.replace(" ", "T", 1))
    except ValueError:
        pass
    for fmt in _FORMATS:
        try:
            return datetime.strptime(text, fmt)
        except ValueError:
            continue
    try:
        return parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        raise ValueError(f"unparseable date {text[:40]!r}") from None
