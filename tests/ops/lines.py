"""What a scheduled run printed, read as a log shipper reads it."""

from __future__ import annotations

import json
from typing import Any

from click.testing import Result


def json_lines(text: str) -> list[dict[str, Any]]:
    """Every non-empty line as a JSON object; fails on the first line that is not one."""
    records = []
    for line in text.splitlines():
        if not line.strip():
            continue
        record = json.loads(line)
        assert isinstance(record, dict), line
        records.append(record)
    return records


def every_line_json(result: Result) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(stdout records, stderr records): every line of both is a JSON object of the log
    record shape (time, level, logger, message)."""
    out, err = json_lines(result.stdout), json_lines(result.stderr)
    for record in (*out, *err):
        assert {"time", "level", "logger", "message"} <= record.keys(), record
    return out, err


def last_error(result: Result) -> dict[str, Any]:
    """The last stderr line of a JSON-mode run, which must be its error record."""
    records = json_lines(result.stderr)
    assert records, "nothing on stderr"
    record = records[-1]
    assert record["event"] == "error" and record["level"] == "error", record
    return record
