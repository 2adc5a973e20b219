"""Confirmed by Veza: after a push, wait (bounded) until Veza has parsed it, or say why not.

A push that "succeeded" only means Veza accepted the upload; Veza parses it asynchronously
(veza-oaa.md §2.4). What is documented, and what this module assumes:

Documented
    * ``GET /api/v1/providers/datasources/{id}/parse_status`` returns the data source's most
      recent parse job: ``{"job_status": {"job_id", "job_type": "PARSE", "state", "status",
      "started_at", "duration", "stats"}}``; ``state`` is ``PENDING``, ``IN_PROGRESS`` or
      ``COMPLETED``; ``status`` is ``OK``, ``CANCELED``, ``DEADLINE_EXCEEDED``, ``NOT_FOUND``,
      ``PERMISSION_DENIED``, ``UNAUTHENTICATED``, ``UNAVAILABLE``, ``INTERNAL`` or
      ``FAILED_PRECONDITION`` (docs.veza.com, Developers > API > Management, "Sync and Parse
      Status").
    * A data source record carries ``status`` (``SUCCESS`` after a good parse) and the times
      ``parse_start``, ``parse_end`` (same docs, "Data Sources"); oaaclient's own push tests
      poll ``get_data_source(...)["status"]`` until ``SUCCESS`` and take a status matching
      ``fail|error`` as a failed parse (oaaclient tests/test_payload_push.py).

Assumed
    * The job that parses *our* push is one whose ``job_id`` differs from the most recent job
      read just before the push (``Baseline``); an older job is not an answer.
    * ``COMPLETED`` with any status but ``OK`` is a failed parse.
    * Veza's messages: no field is documented, so every string under ``message``, ``messages``,
      ``error``, ``errors``, ``details`` or ``status_message`` of the job (or of the data source)
      is reported, at most three, redacted.
    * A 404 from ``parse_status`` (no job yet, or an older Veza without the route) sends us to
      the data source record: an answer there counts only once ``status``/``parse_start``/
      ``parse_end`` differ from the baseline's.

The wait is bounded (``WaitPolicy.timeout_s``), polls at a growing interval (first, x factor, up
to max), and sleeps and reads the clock through the injected ``Runtime``; each read is a retried
step (``oaa.steps``). Success is one INFO line; a failed parse or a timeout is a ``VezaError``
(exit 1) in one sentence.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Any, Literal

from oaaclient.client import OAAClient, OAAResponseError

from oaa_concur import redact
from oaa_concur.errors import VezaError
from oaa_concur.oaa.parts import Target
from oaa_concur.oaa.steps import Steps, details
from oaa_concur.runtime import Runtime

log = logging.getLogger(__name__)

_FAILED = re.compile(r"fail|error", re.IGNORECASE)
_MESSAGE_KEYS = ("message", "messages", "error", "errors", "details", "status_message")
Verdict = Literal["pending", "parsed", "failed"]


@dataclass(frozen=True)
class WaitPolicy:
    """How long and how often to ask Veza whether it parsed the push. Seconds."""

    timeout_s: float = 900.0
    first_s: float = 2.0
    factor: float = 1.5
    max_s: float = 30.0


@dataclass(frozen=True, slots=True)
class ParseStatus:
    """One answer about the parse of a data source, from either source of it."""

    source: Literal["parse_status", "data_source"]
    job_id: str | None = None
    state: str | None = None
    status: str | None = None
    parse_start: str | None = None
    parse_end: str | None = None
    messages: tuple[str, ...] = ()

    def describe(self) -> str:
        """``parse job 59428cf3: state COMPLETED, status INTERNAL`` (what a person checks)."""
        if self.source == "data_source":
            return f"data source status {self.status or 'unknown'}"
        job = f"parse job {self.job_id}" if self.job_id else "parse job"
        return f"{job}: state {self.state or 'unknown'}, status {self.status or 'unknown'}"


@dataclass(frozen=True, slots=True)
class Baseline:
    """What Veza said about the data source just before the push."""

    job_id: str | None
    data_source: ParseStatus | None


@dataclass(frozen=True, slots=True)
class Confirmation:
    """Veza parsed the push: the last answer and how long the wait took."""

    status: ParseStatus
    waited_s: float


class ParseReader:
    """Reads the parse status of one data source (``parse_status``, else the record)."""

    def __init__(self, client: OAAClient, steps: Steps, target: Target, name: str) -> None:
        self.client, self.steps, self.target, self.name = client, steps, target, name

    def job(self) -> ParseStatus | None:
        """The most recent parse job, or None when Veza has none (HTTP 404, or no job)."""
        path = f"/api/v1/providers/datasources/{self.target.data_source_id}/parse_status"

        def read() -> Any:
            try:
                return self.client.api_get(path)
            except OAAResponseError as err:
                if err.status_code == 404:
                    return None
                raise

        answer = self.steps.run("parse status", read)
        job = answer.get("job_status") if isinstance(answer, dict) else None
        if not isinstance(job, dict):
            return None
        return ParseStatus(
            "parse_status",
            job_id=_text(job.get("job_id")),
            state=_text(job.get("state")),
            status=_text(job.get("status")),
            messages=_messages(job),
        )

    def data_source(self) -> ParseStatus | None:
        """The data source record's status (oaaclient ``get_data_source``)."""
        record = self.steps.run(
            "data source status",
            lambda: self.client.get_data_source(self.name, self.target.provider_id),
        )
        if not isinstance(record, dict):
            return None
        return ParseStatus(
            "data_source",
            status=_text(record.get("status")),
            parse_start=_text(record.get("parse_start")),
            parse_end=_text(record.get("parse_end")),
            messages=_messages(record),
        )

    def baseline(self) -> Baseline:
        job = self.job()
        return Baseline(job.job_id if job else None, self.data_source())


def judge(status: ParseStatus | None, baseline: Baseline) -> Verdict:
    """What one answer says about *our* push (module docstring: documented and assumed)."""
    if status is None:
        return "pending"
    if status.source == "parse_status":
        if status.job_id == baseline.job_id or (status.state or "").upper() != "COMPLETED":
            return "pending"
        return "parsed" if (status.status or "").upper() == "OK" else "failed"
    before = baseline.data_source
    if before is not None and (status.status, status.parse_start, status.parse_end) == (
        before.status,
        before.parse_start,
        before.parse_end,
    ):
        return "pending"
    if _FAILED.search(status.status or ""):
        return "failed"
    return "parsed" if (status.status or "").upper() == "SUCCESS" else "pending"


def wait_for_parse(
    reader: ParseReader, baseline: Baseline, policy: WaitPolicy, runtime: Runtime
) -> Confirmation:
    """Poll until Veza parsed the push (returned), failed it or the wait ran out (raised)."""
    started = runtime.clock()
    delay = policy.first_s
    while True:
        status = _poll(reader, baseline)
        verdict = judge(status, baseline)
        waited = runtime.clock() - started
        if verdict == "parsed":
            assert status is not None
            log.info("Veza parsed the payload (%s) after %.0f s", status.describe(), waited)
            return Confirmation(status, waited)
        if verdict == "failed":
            assert status is not None
            raise _failed(status)
        if waited >= policy.timeout_s:
            raise _timed_out(status, policy.timeout_s)
        runtime.sync_sleep(min(delay, policy.timeout_s - waited))
        delay = min(policy.max_s, delay * policy.factor)


def _poll(reader: ParseReader, baseline: Baseline) -> ParseStatus | None:
    """Our parse job if Veza lists it; else the data source record (older Veza, or no job)."""
    job = reader.job()
    if job is not None and job.job_id != baseline.job_id:
        return job
    return reader.data_source() or job


def _failed(status: ParseStatus) -> VezaError:
    said = details(status.describe(), list(status.messages))
    return VezaError(
        redact.redact(f"Veza could not parse the pushed payload ({said})"),
        "fix what Veza names (the data source's page in Veza shows the details), or inspect "
        "the payload saved with --save-json; the snapshot was not marked as pushed",
    )


def _timed_out(status: ParseStatus | None, timeout_s: float) -> VezaError:
    seen = status.describe() if status else "no parse job yet"
    return VezaError(
        f"Veza accepted the push but had not parsed it after {timeout_s:.0f} s ({seen})",
        "check the data source in Veza; wait longer with --parse-timeout, or skip the check "
        "with --no-wait",
    )


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _messages(record: dict[str, Any]) -> tuple[str, ...]:
    """Every string under the (undocumented) message keys, in order, each cut to 300."""
    found: list[str] = []
    for key in _MESSAGE_KEYS:
        _collect(record.get(key), found)
    return tuple(redact.redact(m)[:300] for m in found)


def _collect(value: object, found: list[str]) -> None:
    if isinstance(value, str) and value.strip():
        found.append(value.strip())
    elif isinstance(value, dict):
        _collect(value.get("message"), found)
    elif isinstance(value, list):
        for item in value:
            _collect(item, found)
