"""What a command prints as its outcome: the fatal error line and the result record.

Text mode: ``error: <one sentence>`` as the last line on stderr; results as the command's own
text on stdout. JSON mode (``--log-format json``): every line is one JSON object of the same
shape as the log records (``cli.logs.json_line``), so a log shipper reading ``>> log 2>&1``
parses every line:

* the fatal error, last on stderr: ``{"time", "level": "error", "logger": "oaa_concur",
  "message": "<the sentence>", "event": "error", "error": "LockedError", "exit_code": 3,
  "outcome": "locked", "hint": "..."}``;
* the result on stdout, e.g. the summary of ``discover``: ``{"time", "level": "info",
  "logger": "oaa_concur", "message": "run complete", "event": "summary", "exit_code": 0,
  "outcome": "ok", ...every figure..., "snapshot_id": 12, "pushed": true}``.
"""

from __future__ import annotations

from collections.abc import Mapping

import click

from oaa_concur.cli.logs import json_line, safe_message
from oaa_concur.errors import ExitCode, outcome_of


def error_line(
    sentence: str,
    exit_code: int,
    *,
    json_mode: bool,
    error: str = "Error",
    hint: str | None = None,
) -> None:
    """Print the run's fatal error on stderr: one redacted line, text or JSON."""
    if not json_mode:
        click.echo(safe_message(f"error: {sentence}"), err=True)
        return
    fields: dict[str, object] = {
        "event": "error",
        "error": error,
        "exit_code": int(exit_code),
        "outcome": outcome_of(exit_code),
    }
    if hint:
        fields["hint"] = safe_message(hint)
    click.echo(json_line("error", sentence, fields), err=True)


def result_record(message: str, fields: Mapping[str, object], *, event: str = "result") -> str:
    """A successful command's result as one JSON line (``exit_code`` 0, ``outcome`` ok)."""
    record: dict[str, object] = {"event": event, "exit_code": 0, "outcome": ExitCode.OK.outcome}
    record.update(fields)
    return json_line("info", message, record)
