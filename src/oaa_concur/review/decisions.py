"""Reviewers' decisions on grants, recorded in the store, and whether Concur carried them out.

The contract with the review CSV/XLSX (``report --format csv|xlsx``): one row per grant with
the columns ``snapshot_id``, ``user_id``, ``role_code`` (the key) and the reviewer's columns
``review_decision`` (``keep`` or ``revoke``), ``review_reviewer`` and ``review_comment``.
Other columns are ignored; a row whose ``review_decision`` is empty is not decided and skipped.

``import_decisions`` validates every row before it records any (all or nothing, one
transaction): an unknown decision, a decided row with no reviewer, a snapshot id that is not
a number or not a snapshot, a grant that snapshot does not hold (a Spend role of the user, or
a product entitlement ``ENTITLEMENT_<PRODUCT>``) or one key decided twice differently is a
``RowError`` with its line; any error means nothing is recorded. Importing a key again
replaces its decision (the newest word of the reviewer counts). Decisions live in the
``decisions`` table (schema 6); they are evidence, so pruning old snapshots keeps them.

``outcomes(store)`` is the closed loop: for every ``revoke``, whether the newest snapshot
taken after the decision's snapshot confirms Concur no longer grants it (the grant is gone,
or the user is inactive, or no longer listed). ``evidence`` lists every decision with its
reviewer, dates and outcome for an auditor.
"""

from __future__ import annotations

import csv
import importlib
import sqlite3
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Literal, TextIO, get_args

import orjson

from oaa_concur.catalogue import entitlement_role
from oaa_concur.errors import ConfigError
from oaa_concur.review.snapshot import SnapshotStore
from oaa_concur.review.store import transaction

DECISIONS = ("keep", "revoke")
KEY_COLUMNS = ("snapshot_id", "user_id", "role_code")
REVIEW_COLUMNS = ("review_decision", "review_reviewer", "review_comment")
OutcomeStatus = Literal["carried_out", "not_carried_out", "not_checked"]
_KEPT_ERRORS = 200


@dataclass(frozen=True, slots=True)
class Decision:
    """One reviewer's decision on one grant of one snapshot."""

    snapshot_id: int
    user_id: str
    role_code: str
    decision: str
    """``keep`` or ``revoke``."""
    reviewer: str
    comment: str
    imported_at: datetime
    """When ``review import`` recorded it (the file carries no decision date)."""
    source: str
    """The file's name and the row's line: ``review-q3.csv:17``."""
    snapshot_taken_at: datetime
    """When the snapshot the reviewer saw was taken."""


@dataclass(frozen=True, slots=True)
class Outcome:
    """Whether a ``revoke`` is carried out in Concur, as the newest snapshot shows it."""

    decision: Decision
    status: OutcomeStatus
    """``carried_out``, ``not_carried_out``, or ``not_checked`` (no snapshot newer than the
    decision's yet)."""
    checked_snapshot_id: int | None
    checked_taken_at: datetime | None
    detail: str
    """``grant removed``, ``user inactive``, ``user no longer in Concur``, ``still granted``
    or ``no later snapshot``."""


@dataclass(frozen=True, slots=True)
class RowError:
    line: int
    message: str


@dataclass(frozen=True, slots=True)
class ImportResult:
    recorded: int
    skipped: int
    """Rows with no decision (not reviewed)."""
    errors: tuple[RowError, ...]
    error_count: int
    """Every invalid row; ``errors`` keeps the first 200."""


# -- reading the file --------------------------------------------------------------------------


def read_rows(path: Path) -> Iterator[tuple[int, dict[str, str]]]:
    """(line, row) of a review CSV (UTF-8, BOM or not) or XLSX (the sheet with the key and
    review columns; openpyxl, imported only then)."""
    if not path.is_file():
        raise ConfigError(f"There is no file {path}", "give the review CSV or XLSX to import")
    if path.suffix.lower() == ".xlsx":
        return _xlsx_rows(path)
    return _csv_rows(path)


def _csv_rows(path: Path) -> Iterator[tuple[int, dict[str, str]]]:
    with path.open(encoding="utf-8-sig", newline="") as f:
        reader = csv.DictReader(f)
        _check_header(path, reader.fieldnames or [])
        for row in reader:
            yield reader.line_num, {k: (v or "") for k, v in row.items() if k is not None}


def _xlsx_rows(path: Path) -> Iterator[tuple[int, dict[str, str]]]:
    try:  # optional, and untyped: only for .xlsx
        openpyxl: Any = importlib.import_module("openpyxl")
    except ImportError:
        raise ConfigError(
            "Reading an XLSX review needs openpyxl, which is not installed",
            "pip install openpyxl, or import the CSV form of the review",
        ) from None
    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as error:  # a corrupt or foreign file: zipfile, XML and openpyxl errors
        raise ConfigError(
            f"{path} is not a readable XLSX workbook ({type(error).__name__})",
            "import the review CSV or XLSX that `oaa-concur report` writes",
        ) from None
    try:
        found = False
        # every sheet with the key and review columns: the report continues a table of more
        # than 1,048,576 rows on "grants (2)", "grants (3)", ... (review/xlsx.py)
        for sheet in book.worksheets:
            rows = sheet.iter_rows(values_only=True)
            header = [str(c) if c is not None else "" for c in next(rows, ())]
            if set(KEY_COLUMNS) | {"review_decision"} <= set(header):
                found = True
                for line, values in enumerate(rows, 2):
                    cells = ["" if v is None else str(v) for v in values]
                    yield line, dict(zip(header, cells, strict=False))
        if not found:
            _check_header(path, [])
    finally:
        book.close()


def _check_header(path: Path, names: Iterable[str]) -> None:
    missing = [c for c in (*KEY_COLUMNS, "review_decision", "review_reviewer") if c not in names]
    if missing:
        raise ConfigError(
            f"{path} has no column {', '.join(missing)}",
            "import the review CSV or XLSX that `oaa-concur report` writes",
        )


# -- importing ---------------------------------------------------------------------------------


def import_decisions(store: SnapshotStore, path: Path, now: datetime) -> ImportResult:
    """Validate every row of ``path`` and record the decisions in one transaction, or none
    when any row is invalid (module docstring)."""
    rows = read_rows(path)
    recorded = skipped = 0
    try:
        with store.connection() as db, transaction(db):
            check = _Checker(db)
            seen: dict[tuple[int, str, str], str] = {}
            for line, row in rows:
                decision = row.get("review_decision", "").strip().lower()
                if not decision:
                    skipped += 1
                    continue
                record = check.row(line, row, decision, seen)
                if record is not None:
                    db.execute(_UPSERT, (*record, now.isoformat(), f"{path.name}:{line}", line))
                    recorded += 1
            _roll_back_if(check)
    except _Invalid:
        return ImportResult(0, skipped, tuple(check.errors), check.count)
    return ImportResult(recorded, skipped, (), 0)


class _Invalid(Exception):
    """Some row was invalid: roll the import back."""


def _roll_back_if(check: _Checker) -> None:
    if check.count:
        raise _Invalid  # transaction() rolls back: nothing half-imported


_UPSERT = (
    "INSERT OR REPLACE INTO decisions (snapshot_id, user_id, role_code, decision, reviewer,"
    " comment, snapshot_taken_at, imported_at, source, line) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


class _Checker:
    """Validates rows against the store; counts and keeps the errors."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db
        self.errors: list[RowError] = []
        self.count = 0
        self.taken: dict[int, str | None] = {}

    def fail(self, line: int, message: str) -> None:
        self.count += 1
        if len(self.errors) < _KEPT_ERRORS:
            self.errors.append(RowError(line, message))

    def row(
        self,
        line: int,
        row: dict[str, str],
        decision: str,
        seen: dict[tuple[int, str, str], str],
    ) -> tuple[Any, ...] | None:
        """The values to record, or None after noting what is wrong with the row."""
        user, code, reviewer = (
            row.get(c, "").strip() for c in ("user_id", "role_code", "review_reviewer")
        )
        snap = self.snapshot(row.get("snapshot_id", "").strip())
        problem = _problem(decision, reviewer, snap)
        if problem is None and snap is not None and not self.granted(snap[0], user, code):
            problem = f"snapshot {snap[0]} has no grant {code!r} for user {user!r}"
        if problem is None and snap is not None:
            key = (snap[0], user, code)
            if seen.setdefault(key, decision) != decision:
                problem = f"{code} of {user} is decided twice, differently"
        if problem is not None or snap is None:
            self.fail(line, problem or "no snapshot")
            return None
        return (snap[0], user, code, decision, reviewer, row.get("review_comment", "").strip(),
                snap[1])  # fmt: skip

    def snapshot(self, text: str) -> tuple[int, str] | None:
        if not text.isdigit():
            return None
        snap = int(text)
        if snap not in self.taken:
            row = self.db.execute(
                "SELECT taken_at FROM snapshots WHERE id = ? AND status = 'complete'", (snap,)
            ).fetchone()
            self.taken[snap] = row[0] if row else None
        taken = self.taken[snap]
        return None if taken is None else (snap, taken)

    def granted(self, snap: int, user: str, code: str) -> bool:
        return has_grant(self.db, snap, user, code)


def _problem(decision: str, reviewer: str, snap: tuple[int, str] | None) -> str | None:
    if decision not in DECISIONS:
        return f"review_decision {decision!r} is not keep or revoke"
    if not reviewer:
        return "review_reviewer is empty: say who decided"
    if snap is None:
        return "snapshot_id is not a snapshot of this store"
    return None


def has_grant(db: sqlite3.Connection, snap: int, user: str, code: str) -> bool:
    """``user`` holds ``code`` in ``snap``: a Spend role, or a product's entitlement role."""
    row = db.execute(
        "SELECT 1 FROM grants WHERE snapshot_id = ? AND user_id = ? AND role_code = ?",
        (snap, user, code),
    ).fetchone()
    if row is not None:
        return True
    found = db.execute(
        "SELECT entitlements FROM users WHERE snapshot_id = ? AND id = ?", (snap, user)
    ).fetchone()
    if found is None or not code.startswith("ENTITLEMENT_"):
        return False
    return any(entitlement_role(p).code == code for p in orjson.loads(found[0]))


# -- reading decisions and outcomes ------------------------------------------------------------


def decisions(store: SnapshotStore) -> Iterator[Decision]:
    """Every recorded decision, by snapshot, user and role."""
    if not store.path.exists():
        return
    with store.connection() as db:
        rows = db.execute(
            "SELECT snapshot_id, user_id, role_code, decision, reviewer, comment, imported_at,"
            " source, snapshot_taken_at FROM decisions ORDER BY snapshot_id, user_id, role_code"
        )
        while batch := rows.fetchmany(2_000):
            for r in batch:
                yield Decision(r[0], r[1], r[2], r[3], r[4], r[5] or "",
                               datetime.fromisoformat(r[6]), r[7],
                               datetime.fromisoformat(r[8]))  # fmt: skip


REVOCATIONS_SHOWN = 1_000
"""Revokes a report lists one by one (those not carried out first); all are counted, and all
are in ``review evidence``."""


@dataclass(frozen=True, slots=True)
class Revocations:
    """What a report says about the revokes: how many per outcome, and the first of them."""

    counts: dict[OutcomeStatus, int]
    shown: tuple[Outcome, ...]

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def to_json(self) -> dict[str, Any]:
        return {
            "revokes": self.total,
            **{status: self.counts.get(status, 0) for status in get_args(OutcomeStatus)},
            "shown": [_outcome_json(o) for o in self.shown],
        }


def revocations(
    store: SnapshotStore, snapshot_id: int, limit: int = REVOCATIONS_SHOWN
) -> Revocations:
    """The revokes as snapshot ``snapshot_id`` shows them (``outcomes``), counted in full
    and listed up to ``limit``: those not carried out first, then the others."""
    counts: dict[OutcomeStatus, int] = {}
    pending: list[Outcome] = []
    others: list[Outcome] = []
    for o in outcomes(store, snapshot_id):
        counts[o.status] = counts.get(o.status, 0) + 1
        bucket = pending if o.status == "not_carried_out" else others
        if len(bucket) < limit:
            bucket.append(o)
    return Revocations(counts, tuple((pending + others)[:limit]))


def _outcome_json(o: Outcome) -> dict[str, Any]:
    d = o.decision
    return {
        "snapshot_id": d.snapshot_id,
        "user_id": d.user_id,
        "role_code": d.role_code,
        "reviewer": d.reviewer,
        "comment": d.comment,
        "imported_at": d.imported_at.isoformat(),
        "outcome": o.status,
        "detail": o.detail,
        "checked_snapshot_id": o.checked_snapshot_id,
    }


def outcomes(store: SnapshotStore, snapshot_id: int | None = None) -> Iterator[Outcome]:
    """For every ``revoke`` decision, whether snapshot ``snapshot_id`` (default: the newest)
    shows it carried out in Concur: ``carried_out`` when the grant is gone, the user is
    inactive or no longer listed; ``not_carried_out`` when the user is active and still holds
    it; ``not_checked`` when that snapshot is not newer than the decision's. Streamed, in
    ``decisions`` order; one indexed look-up per revoke."""
    latest = store.latest_id() if snapshot_id is None else store.info(snapshot_id).id
    if latest is None:
        return
    taken = store.info(latest).taken_at
    with store.connection() as db:
        for d in decisions(store):
            if d.decision == "revoke":
                yield _outcome(db, d, latest, taken)


def _outcome(db: sqlite3.Connection, d: Decision, latest: int, taken: datetime) -> Outcome:
    if latest <= d.snapshot_id:
        return Outcome(d, "not_checked", None, None, "no later snapshot")
    user = db.execute(
        "SELECT active FROM users WHERE snapshot_id = ? AND id = ?", (latest, d.user_id)
    ).fetchone()
    if user is None:
        detail, status = "user no longer in Concur", "carried_out"
    elif not user[0]:
        detail, status = "user inactive", "carried_out"
    elif has_grant(db, latest, d.user_id, d.role_code):
        detail, status = "still granted", "not_carried_out"
    else:
        detail, status = "grant removed", "carried_out"
    return Outcome(d, status, latest, taken, detail)  # type: ignore[arg-type]


# -- the evidence export -----------------------------------------------------------------------

EVIDENCE_COLUMNS = (
    "snapshot_id",
    "snapshot_taken_at",
    "user_id",
    "role_code",
    "decision",
    "reviewer",
    "comment",
    "imported_at",
    "source",
    "outcome",
    "outcome_detail",
    "checked_snapshot_id",
    "checked_taken_at",
)


def evidence(store: SnapshotStore) -> Iterator[dict[str, Any]]:
    """Every decision with its reviewer, dates and, for a revoke, its outcome."""
    revokes = outcomes(store)
    pending = next(revokes, None)
    for d in decisions(store):
        row = {k: v for k, v in asdict(d).items() if k != "source"} | {"source": d.source}
        row |= {"outcome": "", "outcome_detail": "", "checked_snapshot_id": None,
                "checked_taken_at": None}  # fmt: skip
        if pending is not None and pending.decision == d:
            row |= {
                "outcome": pending.status,
                "outcome_detail": pending.detail,
                "checked_snapshot_id": pending.checked_snapshot_id,
                "checked_taken_at": pending.checked_taken_at,
            }
            pending = next(revokes, None)
        yield {k: row[k] for k in EVIDENCE_COLUMNS}


def write_evidence_csv(rows: Iterable[dict[str, Any]], out: TextIO) -> int:
    """The evidence as CSV (ISO 8601 dates); returns the number of rows."""
    writer = csv.DictWriter(out, EVIDENCE_COLUMNS, lineterminator="\n")
    writer.writeheader()
    n = 0
    for n, row in enumerate(rows, 1):  # noqa: B007
        writer.writerow(
            {k: v.isoformat() if isinstance(v, datetime) else v for k, v in row.items()}
        )
    return n
