"""The access-review report of one snapshot: HTML for people, CSV and XLSX for reviewers, JSON
for tools (design.md §1, "Access review without Veza"; issue 14).

Every format is written from two walks over the snapshot (``review.workspace``), row by row, so
a report of a million users holds one user at a time, never the tenant (issue 12):

* CSV: one table per file (``--table grants|approvers|delegates|findings``, default grants),
  UTF-8 with a BOM (so that Excel reads "Łukasz"), every field quoted, formulas defused;
* XLSX (``review.xlsx``): one sheet per table, streamed (openpyxl's write-only mode);
* JSON: one document, its long arrays streamed item by item;
* HTML (``review.html``): one self-contained file; everything counted in full, the rows up to
  the bounds in ``review.html`` (what it leaves out is said, with the exact counts, in the
  page and in print).

Files are written atomically, mode 0600 (personal data, design.md §3.6). ``report_snapshot`` is
what ``oaa-concur report`` runs; ``write_report`` is the same for a ``DiscoveryResult`` in
memory (tests).
"""

from __future__ import annotations

import contextlib
import csv
import io
import os
import re
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import IO, Any, Literal, TextIO, get_args

import orjson

from oaa_concur.errors import ConfigError
from oaa_concur.models import DataIssue, Deprecation, DiscoveryResult, RunStats
from oaa_concur.review.decisions import Revocations, revocations
from oaa_concur.review.findings import summary_text
from oaa_concur.review.rules import SEVERITIES, RuleSet, Severity, default_rules
from oaa_concur.review.snapshot import SnapshotInfo, SnapshotStore
from oaa_concur.review.sources import ResultSource, Source, StoreSource
from oaa_concur.review.tables import COLUMNS, Stamp, Table
from oaa_concur.review.workspace import Figures, FindingCounts, Workspace, collect, grant_walk
from oaa_concur.safetext import visible
from oaa_concur.state.files import make_dirs, unwritable
from oaa_concur.summary import figure_fields

Format = Literal["html", "csv", "json", "xlsx"]
FORMATS: tuple[Format, ...] = get_args(Format)


@dataclass(frozen=True, slots=True)
class ReportOutcome:
    """What writing a report produced: where (None: stdout or nowhere) and the findings' counts."""

    path: Path | None
    counts: FindingCounts
    snapshot_id: int | None = None

    @property
    def summary(self) -> str:
        return summary_text(self.counts.open, self.counts.exempted)

    def failing(self, severity: Severity | None) -> tuple[int, str | None]:
        """How many open findings are at or above ``severity`` (``--fail-on``; None: none
        fail), and the first of them (report order)."""
        if severity is None:
            return 0, None
        worse = SEVERITIES[: SEVERITIES.index(severity) + 1]
        first = next((self.counts.first[s] for s in worse if s in self.counts.first), None)
        return sum(self.counts.open[s] for s in worse), first


@dataclass
class Context:
    """One report being written: its source, rules, time, and the workspace after walk 1."""

    source: Source
    rules: RuleSet
    now: datetime
    ws: Workspace
    counts: FindingCounts
    revocations: Revocations | None = None
    """Reviewers' revokes and whether this snapshot shows them carried out (a report of the
    store; ``review.decisions``)."""

    @property
    def stamp(self) -> Stamp:
        return Stamp.of(self.source.snapshot)

    @property
    def figures(self) -> Figures:
        return self.ws.figures

    def rows(self, table: Table) -> Iterator[list[Any]]:
        """Every row of ``table`` with its snapshot columns, streamed."""
        stamp = [self.stamp.snapshot_id, self.stamp.snapshot_time]
        if table == "grants":
            for person in grant_walk(self.source, self.ws, self.stamp, self.now):
                for row in person.grants:
                    yield list(row.cells().values())
        elif table == "findings":
            for cells in self.ws.findings():
                yield stamp + cells
        else:
            for _, _, cells in self.ws.side(table):
                yield stamp + cells


def notes_of(stats: RunStats | None) -> tuple[str, ...]:
    """Sentences about the run: endpoints Concur marked deprecated, approval limits read for
    the Global group only."""
    if stats is None:
        return ()
    return _notes(stats.deprecations, stats.limits_global_only)


def _notes(deprecations: Iterable[Deprecation], global_only: bool) -> tuple[str, ...]:
    notes = [f"Concur marked {d.line()}." for d in deprecations]
    if global_only:
        notes.append(
            "Concur refused `attributes` on the Spend user list: approval limits are those of "
            "the Global group only."
        )
    return tuple(notes)


def _store_notes(reader_db: Any, snap: int) -> tuple[str, ...]:
    row = reader_db.execute("SELECT stats FROM snapshots WHERE id = ?", (snap,)).fetchone()
    if row is None or row[0] is None:
        return ()
    data = orjson.loads(row[0])
    deprecations = [Deprecation(**d) for d in data.get("deprecations", ())]
    return _notes(deprecations, bool(data.get("limits_global_only")))


# -- writing -------------------------------------------------------------------------------


def write(ctx: Context, out: IO[bytes], fmt: Format, table: Table) -> None:
    """The report in ``fmt`` to the binary stream ``out``."""
    if fmt == "csv":
        write_csv(ctx, out, table)
    elif fmt == "json":
        write_json(ctx, out)
    elif fmt == "xlsx":
        from oaa_concur.review.xlsx import write_xlsx

        write_xlsx(ctx, out)
    else:
        from oaa_concur.review.html import write_html

        write_html(ctx, out)


def write_csv(ctx: Context, out: IO[bytes], table: Table) -> None:
    """Every field quoted, so no character of a Concur string can end a field or a row."""
    text = io.TextIOWrapper(out, encoding="utf-8-sig", newline="", write_through=False)
    writer = csv.writer(text, lineterminator="\n", quoting=csv.QUOTE_ALL)
    writer.writerow(COLUMNS[table])
    for row in ctx.rows(table):
        writer.writerow([cell(str(v)) for v in row])
    text.flush()
    text.detach()


def write_json(ctx: Context, out: IO[bytes]) -> None:
    """One JSON document; its arrays written an item at a time."""
    head = document(ctx)
    out.write(b"{\n")
    for key, value in head.items():
        out.write(orjson.dumps(key) + b": " + orjson.dumps(value) + b",\n")
    arrays: list[tuple[str, Iterable[Any]]] = [
        ("findings", ctx.ws.findings("doc")),
        ("grants", (p for person in _people(ctx) for p in person)),
        ("approvers", _objects(ctx, "approvers")),
        ("delegates", _objects(ctx, "delegates")),
        ("delegations_out_of_window", (d for _, _, d in ctx.ws.side("delegations"))),
        ("unknown_references", (d for _, _, d in ctx.ws.side("references"))),
        ("approval_limits", (d for _, _, d in ctx.ws.side("limits"))),
        ("processor_report_access", (d for _, _, d in ctx.ws.side("processors"))),
        ("data_issues", (_issue(i) for i in ctx.source.issues())),
    ]
    for n, (key, items) in enumerate(arrays):
        out.write(orjson.dumps(key) + b": [")
        for i, item in enumerate(items):
            out.write((b",\n  " if i else b"\n  ") + orjson.dumps(item))
        out.write(b"\n]" + (b",\n" if n < len(arrays) - 1 else b"\n}\n"))


def _people(ctx: Context) -> Iterator[list[dict[str, str]]]:
    for person in grant_walk(ctx.source, ctx.ws, ctx.stamp, ctx.now):
        yield [row.cells() for row in person.grants]


def _objects(ctx: Context, table: Table) -> Iterator[dict[str, Any]]:
    names = COLUMNS[table]
    for row in ctx.rows(table):
        yield dict(zip(names, row, strict=True))


def _issue(i: DataIssue) -> dict[str, str]:
    return {"kind": str(i.kind), "subject": i.subject, "detail": i.detail}


def document(ctx: Context) -> dict[str, Any]:
    """The JSON document's head: everything but the long arrays."""
    company, as_of = ctx.source.company, ctx.now
    return {
        "report": "oaa-concur access review",
        "version": 2,
        "as_of": as_of.isoformat(),
        "company": {
            "id": company.id,
            "name": company.display_name,
            "geolocation": company.geolocation,
        },
        "snapshot": _snapshot_json(ctx.source.snapshot),
        "rules_source": ctx.rules.source,
        "notes": list(ctx.source.notes),
        "summary": summary_json(ctx),
        "charts": charts_json(ctx.figures),
        "findings_by_rule": [
            {"rule": r, "severity": s, "findings": n, "exempted": e}
            for r, s, n, e in ctx.counts.by_rule
        ],
        "exemptions": [
            {**asdict(e), "expires": e.expires.isoformat(), "active": e.active(as_of)}
            for e in ctx.rules.exemptions
        ],
        "decisions": ctx.revocations.to_json()
        if ctx.revocations and ctx.revocations.total
        else None,
    }


def summary_json(ctx: Context) -> dict[str, Any]:
    """The summary: first the snapshot's figures under ``summary.FIGURES``' names, the same
    counts the discover summary and the ``snapshots`` table show (``active`` is Concur's flag,
    terminated-but-active users included, broken out as ``terminated_active``)."""
    fig, counts = ctx.figures, ctx.counts
    figures = _figures(ctx)
    return {
        **figures,
        "inactive": figures["users"] - figures["active"],
        "terminated_active": fig.statuses.get("terminated-active", 0),
        "privileged_grants": fig.privileged_grants,
        "privileged_users": fig.privileged_users,
        "approver_edges": fig.side["approvers"],
        "delegate_edges": fig.side["delegates"],
        "findings": counts.open,
        "findings_line": summary_text(counts.open, counts.exempted),
        "exempted": counts.exempted,
        "delegations_out_of_window": fig.side["delegations"],
        "unknown_references": fig.side["references"],
        "approval_limits": fig.side["limits"],
    }


def _figures(ctx: Context) -> dict[str, int]:
    """The store's figures of the snapshot, or the same counts from the walk (a report of a
    result in memory, or a snapshot recorded before figures were stored)."""
    info = ctx.source.snapshot
    if info is not None and info.figures is not None:
        return figure_fields(info.figures)
    fig = ctx.figures
    spend = sum(n for code, n in fig.holders.items() if not code.startswith("ENTITLEMENT_"))
    return {
        "users": fig.users,
        "active": fig.users - fig.statuses.get("inactive", 0),
        "roles": len(fig.holders),
        "grants": fig.grants,
        "spend_grants": spend,
        "data_issues": len(ctx.source.issues()),
    }


def charts_json(fig: Figures) -> dict[str, dict[str, int]]:
    return {
        "users_by_status": dict(sorted(fig.statuses.items())),
        "grants_by_product": dict(fig.products.most_common()),
        "privileged_holders": dict(fig.privileged_holders.most_common()),
    }


def _snapshot_json(info: SnapshotInfo | None) -> dict[str, Any] | None:
    if info is None:
        return None
    return {
        "id": info.id,
        "taken_at": info.taken_at.isoformat(),
        "users": info.user_count,
        "duration_s": info.duration_s,
    }


_LINE_BREAKS = re.compile("\r\n|[\r\n\x0b\x0c\x85\u2028\u2029]")
_FORMULA_START = ("=", "+", "-", "@")
_LEADING = re.compile("[\\s\x00-\x1f\x7f-\x9f\u200b-\u200f\u2060-\u2064\ufeff]*")
"""What a spreadsheet may skip before it sees a formula: whitespace, controls, zero-widths."""
_PLAIN = re.compile(
    "(?:[^\\s=+\\-@\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]"
    "[^\x00-\x1f\x7f-\x9f\u200e\u200f\u2028-\u202e\u2066-\u2069]*)?\\Z"
)
"""A cell ``cell`` leaves as it is: empty, or a first character that is no space, control,
zero-width or formula start, and no control, line or paragraph separator or bidi control."""


def cell(value: str) -> str:
    """A spreadsheet cell from a Concur string (user-controlled; OWASP "CSV Injection").

    Bidi controls and NUL are made visible (``safetext.visible``), line breaks become spaces
    (a bare CR starts a new row in some spreadsheets even inside quotes), and a formula is
    defused with a leading ``'`` when it starts with a tab, or with ``= + - @`` after any
    leading whitespace and control characters (`` =cmd()`` is a formula too).
    """
    if _PLAIN.match(value):
        return value  # nearly every cell: nothing to escape, no formula, no leading space
    return defused(value)


def defused(value: str) -> str:
    """``cell`` without its fast path (the definition the fast path is tested against)."""
    text = _LINE_BREAKS.sub(" ", visible(value))
    lead = _LEADING.match(text)
    start = lead.end() if lead else 0
    if text[:1] == "\t" or text[start : start + 1] in _FORMULA_START:
        return "'" + text
    return text


# -- entry points ------------------------------------------------------------------------


def produce(
    source: Source,
    out: Path | TextIO | None,
    fmt: Format,
    *,
    rules: RuleSet,
    now: datetime,
    table: Table = "grants",
    revocations: Revocations | None = None,
) -> ReportOutcome:
    """Walk 1, then the report written to ``out`` (None: findings only)."""
    snapshot_id = source.snapshot.id if source.snapshot else None
    with Workspace() as ws:
        counts = collect(source, rules, now, ws)
        ctx = Context(source, rules, now, ws, counts, revocations)
        if out is None:
            return ReportOutcome(None, counts, snapshot_id)
        if isinstance(out, Path):
            with private_output(out) as handle:
                write(ctx, handle, fmt, table)
            return ReportOutcome(out, counts, snapshot_id)
        if fmt == "xlsx":
            raise ConfigError(
                "An XLSX workbook cannot be written to stdout", "give --out FILE.xlsx"
            )
        buffer = getattr(out, "buffer", None)
        if buffer is not None:
            out.flush()
            write(ctx, buffer, fmt, table)
            buffer.flush()
        else:  # a text stream with no bytes underneath (tests)
            raw = io.BytesIO()
            write(ctx, raw, fmt, table)
            out.write(raw.getvalue().decode("utf-8"))
        return ReportOutcome(None, counts, snapshot_id)


def write_report(
    result: DiscoveryResult,
    out: Path | TextIO | None,
    fmt: Format = "html",
    *,
    now: datetime,
    rules: RuleSet | None = None,
    snapshot: SnapshotInfo | None = None,
    table: Table = "grants",
) -> ReportOutcome:
    """The report of a ``DiscoveryResult`` in memory, written to the file or stream ``out``."""
    source = ResultSource.of(result, snapshot, notes_of(result.stats))
    return produce(source, out, fmt, rules=rules or default_rules(), now=now, table=table)


def report_snapshot(
    store: SnapshotStore,
    out: Path | TextIO | None,
    fmt: Format,
    *,
    snapshot_id: int | None = None,
    rules: RuleSet,
    now: datetime,
    table: Table = "grants",
) -> ReportOutcome:
    """The access review of snapshot ``snapshot_id`` (None: the newest), streamed from the
    store to ``out`` (None: ``./oaa-concur-report-<id>.<format>``; a stream: written to it)."""
    info = store.resolve(snapshot_id)
    target = out if out is not None else default_path(info.id, fmt, table)
    with store.read(info.id) as reader:
        source = StoreSource.of(reader, info, _store_notes(reader.db, info.id))
        revoked = revocations(store, info.id)
        return produce(source, target, fmt, rules=rules, now=now, table=table, revocations=revoked)


def default_path(snapshot_id: int, fmt: Format, table: Table = "grants") -> Path:
    """Where ``oaa-concur report`` writes when ``--out`` is not given."""
    part = f"-{table}" if fmt == "csv" and table != "grants" else ""
    return Path(f"oaa-concur-report-{snapshot_id}{part}.{fmt}")


@contextlib.contextmanager
def private_output(path: Path) -> Iterator[IO[bytes]]:
    """A new file at ``path``, mode 0600, that replaces it only once completely written."""
    if not path.parent.exists():
        make_dirs(path.parent)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:  # the parent is a file, or not writable
        raise unwritable(path, exc) from None
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "wb", buffering=1 << 20) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        try:
            Path(tmp).replace(path)
        except OSError as exc:  # e.g. ``path`` is a directory
            raise unwritable(path, exc) from None
    except BaseException:
        with contextlib.suppress(OSError):
            Path(tmp).unlink()
        raise
