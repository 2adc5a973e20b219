"""Logging set-up for the CLI: text or JSON lines on stderr, always through the redacting filter.

Messages carry server data (user ids, Concur's error ``detail``): each is put on one line with
no control character (``safetext.one_line``) so a newline in a user id cannot forge a log line
and an escape sequence cannot reach the terminal. A traceback (``-v``) keeps its lines.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Mapping
from datetime import UTC, datetime

from oaa_concur.config import LogFormat
from oaa_concur.redact import RedactingFilter, redact
from oaa_concur.safetext import one_line

LOG = logging.getLogger("oaa_concur")


def json_line(
    level: str,
    message: str,
    fields: Mapping[str, object] | None = None,
    *,
    logger: str = "oaa_concur",
    created: float | None = None,
) -> str:
    """One JSON object on one line: ``time``, ``level``, ``logger``, ``message``, then
    ``fields``. Every line oaa-concur prints in JSON mode has this shape: log records, the
    run's summary (``event: summary``) and its fatal error (``event: error``)."""
    when = datetime.now(UTC) if created is None else datetime.fromtimestamp(created, UTC)
    entry: dict[str, object] = {
        "time": when.isoformat(timespec="milliseconds"),
        "level": level,
        "logger": logger,
        "message": safe_message(message),
    }
    entry.update(fields or {})
    return json.dumps(entry, default=str, ensure_ascii=False)


class JsonFormatter(logging.Formatter):
    """One JSON object per line, for schedulers and log shippers (``json_line``)."""

    def format(self, record: logging.LogRecord) -> str:
        fields: dict[str, object] = {}
        extra = getattr(record, "fields", None)
        if isinstance(extra, dict):
            fields.update(extra)
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            fields["exception"] = redact(record.exc_text)
        return json_line(
            record.levelname.lower(),
            record.getMessage(),
            fields,
            logger=record.name,
            created=record.created,
        )


def safe_message(text: str) -> str:
    """One line, no control character, redacted again: removing a control character must
    not reassemble a secret the redaction missed."""
    return redact(one_line(text))


class TextFormatter(logging.Formatter):
    """``time LEVEL message``, the message on one line without control characters."""

    def formatMessage(self, record: logging.LogRecord) -> str:
        record.message = safe_message(record.message)
        return super().formatMessage(record)


_REDACT = RedactingFilter()


def redact_every_record() -> None:
    """Redact each log record as it is created, before ANY handler sees it (idempotent).

    A filter on our own handler is not enough: pytest's caplog, a log file handler or an
    embedding application's handler on the root logger would get httpx/oaaclient debug lines
    unredacted. Records are only created for enabled levels, so quiet runs pay nothing.
    """
    previous = logging.getLogRecordFactory()
    if getattr(previous, "_oaa_concur", False):
        return

    def factory(*args: object, **kwargs: object) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        _REDACT.filter(record)
        return record

    factory._oaa_concur = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(factory)


def setup_logging(
    *, verbosity: int = 0, quiet: bool = False, log_format: LogFormat = "text"
) -> None:
    """Configure the root logger once per process (idempotent: tests call the CLI many times).

    verbosity 0: our INFO; 1: our DEBUG; 2+: DEBUG for httpx/oaaclient too (still redacted).
    """
    redact_every_record()
    level = logging.WARNING if quiet else (logging.DEBUG if verbosity >= 1 else logging.INFO)
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(RedactingFilter())
    if log_format == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(TextFormatter("%(asctime)s %(levelname)-7s %(message)s"))
    root = logging.getLogger()
    for old in list(root.handlers):
        if getattr(old, "_oaa_concur", False):
            root.removeHandler(old)
    handler._oaa_concur = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(logging.DEBUG if verbosity >= 2 else logging.WARNING)
    LOG.setLevel(level)
    for name in ("httpx", "httpcore", "urllib3", "oaaclient", "uvicorn"):
        logging.getLogger(name).setLevel(logging.DEBUG if verbosity >= 2 else logging.WARNING)
