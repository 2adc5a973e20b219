"""The snapshot store: every complete discovery kept in ``snapshots.sqlite`` (design.md §1, §2.2).

One snapshot = one transaction holding the users, Spend profiles (roles with their role-group
scope, approver and delegate edges), data issues and run metadata of one ``DiscoveryResult``;
``load`` gives the same ``DiscoveryResult`` back, field for field. The file holds personal data,
so it is created mode 0600. The schema carries a version and a list of migrations; a file that
is not a database, or was written by a newer version, is a ``ConfigError`` with one sentence.
"""

from __future__ import annotations

import fcntl
import logging
import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from oaa_concur.errors import ConfigError, LockedError
from oaa_concur.gc_control import gc_paused
from oaa_concur.models import DiscoveryResult, ProgressCallback
from oaa_concur.review.rows import result_rows, rows_to_result, stats_json, stored_figures
from oaa_concur.review.spool import Spool
from oaa_concur.review.store import (
    COMPLETE,
    SCHEMA_5,
    SPOOL_PRAGMAS,
    Figures,
    SnapshotReader,
    delete_snapshots,
    figures,
    insert,
    open_pending,
    pending_ids,
    transaction,
)
from oaa_concur.state.files import (
    SQLITE_COMPANIONS,
    create_private_file,
    ensure_private_dir,
    guard_database,
    open_private,
)

FILE_NAME = "snapshots.sqlite"
SPOOL_LOCK = "snapshots.lock"

# Each entry moves the schema from version i to i + 1. Never edit a released entry: add one.
MIGRATIONS: list[str] = [
    # 1: the first schema.
    """
    CREATE TABLE snapshots (
        id INTEGER PRIMARY KEY AUTOINCREMENT, taken_at TEXT NOT NULL, company_id TEXT NOT NULL,
        company_name TEXT, geolocation TEXT NOT NULL, user_count INTEGER NOT NULL,
        duration_s REAL, stats TEXT);
    CREATE TABLE users (
        snapshot_id INTEGER NOT NULL, id TEXT NOT NULL, user_name TEXT, display_name TEXT,
        active INTEGER NOT NULL, emails TEXT NOT NULL, external_id TEXT, employee_number TEXT,
        cost_center TEXT, department TEXT, division TEXT, company_id TEXT, manager_id TEXT,
        start_date TEXT, termination_date TEXT, created_at TEXT, last_modified_at TEXT,
        entitlements TEXT NOT NULL);
    CREATE TABLE profiles (
        snapshot_id INTEGER NOT NULL, user_id TEXT NOT NULL, non_employee INTEGER,
        test_employee INTEGER);
    CREATE TABLE grants (
        snapshot_id INTEGER NOT NULL, user_id TEXT NOT NULL, role_code TEXT NOT NULL,
        role_groups TEXT NOT NULL);
    CREATE TABLE approvers (
        snapshot_id INTEGER NOT NULL, user_id TEXT NOT NULL, approver_id TEXT NOT NULL,
        kind TEXT NOT NULL, is_primary INTEGER NOT NULL);
    CREATE TABLE delegates (
        snapshot_id INTEGER NOT NULL, user_id TEXT NOT NULL, delegate_id TEXT NOT NULL,
        kind TEXT NOT NULL, permissions TEXT NOT NULL, temporary_from TEXT, temporary_to TEXT);
    CREATE TABLE issues (
        snapshot_id INTEGER NOT NULL, kind TEXT NOT NULL, subject TEXT NOT NULL,
        detail TEXT NOT NULL);
    CREATE INDEX users_snap ON users (snapshot_id);
    CREATE INDEX profiles_snap ON profiles (snapshot_id);
    CREATE INDEX grants_snap ON grants (snapshot_id);
    CREATE INDEX approvers_snap ON approvers (snapshot_id);
    CREATE INDEX delegates_snap ON delegates (snapshot_id);
    CREATE INDEX issues_snap ON issues (snapshot_id);
    """,
    # 2: grant and issue counts on the snapshot row, so that listing never scans the grants.
    """
    ALTER TABLE snapshots ADD COLUMN grant_count INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE snapshots ADD COLUMN issue_count INTEGER NOT NULL DEFAULT 0;
    UPDATE snapshots SET
        grant_count = (SELECT count(*) FROM grants g WHERE g.snapshot_id = snapshots.id),
        issue_count = (SELECT count(*) FROM issues i WHERE i.snapshot_id = snapshots.id);
    """,
    # 3: when a snapshot was pushed to Veza; the shrink guard compares with the last pushed one.
    """
    ALTER TABLE snapshots ADD COLUMN pushed_at TEXT;
    """,
    # 4: issue 10: references by employee number, biManager, processorReportAccess, approval
    # limits (ApproverLimit) and the references Identity could not place.
    """
    ALTER TABLE users ADD COLUMN manager_employee_number TEXT;
    ALTER TABLE profiles ADD COLUMN bi_manager_id TEXT;
    ALTER TABLE profiles ADD COLUMN bi_manager_employee_number TEXT;
    ALTER TABLE profiles ADD COLUMN processor_report_access TEXT;
    ALTER TABLE approvers ADD COLUMN approver_employee_number TEXT;
    ALTER TABLE delegates ADD COLUMN delegate_employee_number TEXT;
    CREATE TABLE approval_limits (
        snapshot_id INTEGER NOT NULL, user_id TEXT NOT NULL, holder TEXT NOT NULL,
        approval_type TEXT, approval_limit REAL, currency TEXT, approval_group TEXT NOT NULL,
        level INTEGER, exception_authority INTEGER NOT NULL);
    CREATE TABLE unknown_references (
        snapshot_id INTEGER NOT NULL, user_id TEXT NOT NULL, relation TEXT NOT NULL,
        kind TEXT NOT NULL, value TEXT, employee_number TEXT, reason TEXT NOT NULL);
    CREATE INDEX approval_limits_snap ON approval_limits (snapshot_id);
    CREATE INDEX unknown_references_snap ON unknown_references (snapshot_id);
    """,
    # 5: issue 12: a snapshot is the discovery's spool, pending until every page was read.
    SCHEMA_5,
    # 6: issue 14: reviewers' decisions on grants (review.decisions). Not a child table: a
    # decision is evidence and outlives its snapshot's pruning.
    """
    CREATE TABLE decisions (
        snapshot_id INTEGER NOT NULL, user_id TEXT NOT NULL, role_code TEXT NOT NULL,
        decision TEXT NOT NULL, reviewer TEXT NOT NULL, comment TEXT, imported_at TEXT NOT NULL,
        source TEXT NOT NULL, line INTEGER NOT NULL, snapshot_taken_at TEXT NOT NULL,
        PRIMARY KEY (snapshot_id, user_id, role_code));
    """,
]
SCHEMA_VERSION = len(MIGRATIONS)
CHILD_TABLES = (
    "users",
    "profiles",
    "grants",
    "approvers",
    "delegates",
    "issues",
    "approval_limits",
    "unknown_references",
)
_INFO_COLUMNS = (
    "id, taken_at, company_id, company_name, user_count, grant_count, issue_count, duration_s,"
    " pushed_at, stats"
)

LOG = logging.getLogger(__name__)
_PRUNABLE = (
    "SELECT id FROM snapshots WHERE status = ? AND id NOT IN"
    " (SELECT max(id) FROM snapshots WHERE pushed_at IS NOT NULL AND status = ?"
    " GROUP BY company_id)"
    " ORDER BY id DESC LIMIT -1 OFFSET ?"
)
"""Complete snapshots past the newest ``keep`` (the OFFSET), the last pushed ones left out."""


def _info(r: tuple[Any, ...], db: sqlite3.Connection) -> SnapshotInfo:
    """A listing row; its figures as stored at completion, or counted for an older snapshot."""
    stored = stored_figures(r[9])
    return SnapshotInfo(
        id=r[0],
        taken_at=datetime.fromisoformat(r[1]),
        company_id=r[2],
        company_name=r[3],
        user_count=r[4],
        grant_count=r[5],
        issue_count=r[6],
        duration_s=r[7],
        pushed_at=datetime.fromisoformat(r[8]) if r[8] else None,
        figures=Figures(**stored) if stored is not None else figures(db, r[0]),
    )


@dataclass(frozen=True, slots=True)
class SnapshotInfo:
    """One line of ``oaa-concur snapshots``."""

    id: int
    taken_at: datetime
    company_id: str
    company_name: str | None
    user_count: int
    grant_count: int
    issue_count: int
    duration_s: float | None
    pushed_at: datetime | None = None
    figures: Figures | None = None
    """The snapshot's figures (``review.store.figures``): the same counts, under the same names
    (``summary.FIGURES``), as the discover summary and the report."""


class SnapshotStore:
    """``snapshots.sqlite`` in a state directory. Opens lazily; each call is its own connection."""

    def __init__(self, state_dir: Path, *, retention: int | None = None) -> None:
        self.state_dir = Path(state_dir)
        self.path = self.state_dir / FILE_NAME
        self.retention = retention

    # -- writing -------------------------------------------------------------------------

    def record(self, result: DiscoveryResult) -> int:
        """Store ``result`` in one transaction; apply the retention option; return the id."""
        with gc_paused():
            snap_id = self._record(result)
        if self.retention:
            self.prune(self.retention)
        return snap_id

    def _record(self, result: DiscoveryResult) -> int:
        rows = result_rows(result)
        with self._connect(create=True) as db, transaction(db):
            cur = db.execute(
                "INSERT INTO snapshots (taken_at, company_id, company_name, geolocation,"
                " user_count, duration_s, stats, grant_count, issue_count)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                _snapshot_row(result, len(rows["grants"])),
            )
            snap_id = int(cur.lastrowid or 0)
            for table, table_rows in rows.items():
                insert(db, table, snap_id, table_rows)
        return snap_id

    def mark_pushed(self, snap_id: int, when: datetime | None = None) -> None:
        """Note that snapshot ``snap_id`` is what Veza now holds."""
        stamp = (when or datetime.now(UTC)).isoformat()
        with self._connect() as db, transaction(db):
            cur = db.execute("UPDATE snapshots SET pushed_at = ? WHERE id = ?", (stamp, snap_id))
            if cur.rowcount != 1:
                raise self._missing(snap_id)

    def prune(self, keep: int) -> int:
        """Delete all but the newest ``keep`` snapshots and the last pushed one of each company
        (the shrink guard's baseline: deleting it would let a shrunken tenant through); return
        how many were deleted."""
        if keep < 1:
            raise ConfigError("retention must keep at least 1 snapshot", "set it to 1 or more")
        if not self.path.exists():
            return 0
        with self._connect() as db, transaction(db):
            old = [r[0] for r in db.execute(_PRUNABLE, (COMPLETE, COMPLETE, keep))]
            delete_snapshots(db, old, CHILD_TABLES)
        return len(old)

    @contextmanager
    def spool(self, progress: ProgressCallback | None = None) -> Iterator[Spool]:
        """A pending snapshot for one discovery to write (``review.spool``). Nothing of it stays
        unless ``Spool.complete`` ran: any error (or a normal exit before it) deletes its rows,
        and the store's files too when this spool created them (a failed first run leaves the
        state directory as it found it). The spool holds ``snapshots.lock`` while it lives, so
        pending rows it finds at the start belong to a run that died, and are deleted."""
        new = not self.path.exists()
        lock = self.state_dir / SPOOL_LOCK
        new_lock = not lock.exists()
        _create_private(self.state_dir, self.path)
        completed = False
        try:
            with _spool_lock(lock), self._connect() as db:
                spool = self._open_spool(db, progress)
                try:
                    yield spool
                finally:
                    completed = spool.completed
                    if not completed:
                        with transaction(db):
                            delete_snapshots(db, [spool.snap], CHILD_TABLES)
        finally:
            if not completed and new:
                _remove_store(self.path, lock if new_lock else None)
        if self.retention:
            self._apply_retention(self.retention)

    def _apply_retention(self, keep: int) -> None:
        deleted = self.prune(keep)
        if deleted:
            LOG.info(
                "retention: deleted %d snapshot(s) beyond the newest %d (the last pushed one is"
                " kept)",
                deleted,
                keep,
                extra={"fields": {"event": "retention", "deleted": deleted, "keep": keep}},
            )

    def _open_spool(self, db: sqlite3.Connection, progress: ProgressCallback | None) -> Spool:
        for pragma in SPOOL_PRAGMAS:
            db.execute(pragma)
        with transaction(db):
            delete_snapshots(db, pending_ids(db), CHILD_TABLES)
            snap = open_pending(db)
        return Spool(db, snap, progress)

    @contextmanager
    def read(self, snap_id: int) -> Iterator[SnapshotReader]:
        """Snapshot ``snap_id`` (complete) as streams of typed records (``review.store``)."""
        self.info(snap_id)  # a ConfigError with one sentence when there is no such snapshot
        with self._connect() as db:
            yield SnapshotReader(db, snap_id)

    @contextmanager
    def connection(self) -> Iterator[sqlite3.Connection]:
        """The store's database, migrated (autocommit: use ``store.transaction``), for the
        review modules' own tables (``review.decisions``). A ``ConfigError`` when no store."""
        if not self.path.exists():
            raise ConfigError(
                f"No snapshot in {self.state_dir} yet",
                "run `oaa-concur discover` or `oaa-concur demo` first",
            )
        with self._connect() as db:
            yield db

    # -- reading -------------------------------------------------------------------------

    def list(self) -> list[SnapshotInfo]:
        """Every snapshot, oldest first (empty when the file does not exist yet)."""
        if not self.path.exists():
            return []
        with self._connect() as db:
            rows = db.execute(
                f"SELECT {_INFO_COLUMNS} FROM snapshots WHERE status = ? ORDER BY id",  # noqa: S608
                (COMPLETE,),
            ).fetchall()
            return [_info(r, db) for r in rows]

    def info(self, snap_id: int) -> SnapshotInfo:
        """The listing line of snapshot ``snap_id``; a ``ConfigError`` when there is none."""
        if not self.path.exists():
            raise self._missing(snap_id)
        with self._connect() as db:
            row = db.execute(
                f"SELECT {_INFO_COLUMNS} FROM snapshots WHERE id = ? AND status = ?",  # noqa: S608
                (snap_id, COMPLETE),
            ).fetchone()
            if row is None:
                raise self._missing(snap_id)
            return _info(row, db)

    def resolve(self, snap_id: int | None) -> SnapshotInfo:
        """Snapshot ``snap_id``, or the newest when None: what ``report`` and ``diff`` mean by
        "the latest (or given) snapshot" (design.md §2.1). A ``ConfigError`` says what to run
        when the store is empty, or how to list the ids when ``snap_id`` is not one of them."""
        if snap_id is None:
            snap_id = self.latest_id()
        if snap_id is None:
            raise ConfigError(
                f"No snapshot in {self.state_dir} yet",
                "run `oaa-concur discover` or `oaa-concur demo` first",
            )
        return self.info(snap_id)

    def latest_id(self) -> int | None:
        """The newest snapshot's id, or None when there is none."""
        return self._scalar("SELECT max(id) FROM snapshots WHERE status = ?", (COMPLETE,))

    def previous(self, snap_id: int) -> int | None:
        """The id of the snapshot recorded just before ``snap_id``, or None."""
        return self._scalar(
            "SELECT max(id) FROM snapshots WHERE id < ? AND status = ?", (snap_id, COMPLETE)
        )

    def last_pushed_user_count(self, company_id: str) -> int | None:
        """Users in the newest pushed snapshot of ``company_id``, or None when none was.

        Per company: a state directory reused for another Concur company must not compare
        the new company's user count with the old one's.
        """
        return self._scalar(
            "SELECT user_count FROM snapshots WHERE pushed_at IS NOT NULL AND status = 'complete'"
            " AND company_id = ? ORDER BY id DESC LIMIT 1",
            (company_id,),
        )

    def load(self, snap_id: int) -> DiscoveryResult:
        """The ``DiscoveryResult`` recorded as ``snap_id``, equal to the one recorded."""
        if not self.path.exists():
            raise self._missing(snap_id)
        with self._connect() as db:
            head = db.execute(
                "SELECT company_id, geolocation, company_name, stats FROM snapshots"
                " WHERE id = ? AND status = ?",
                (snap_id, COMPLETE),
            ).fetchone()
            if head is None:
                raise self._missing(snap_id)
            with gc_paused():  # millions of small objects, no cycles among them
                tables = {
                    t: db.execute(
                        f"SELECT * FROM {t} WHERE snapshot_id = ? ORDER BY rowid",  # noqa: S608
                        (snap_id,),
                    ).fetchall()
                    for t in CHILD_TABLES
                }
                return rows_to_result(head, tables)

    # -- plumbing ------------------------------------------------------------------------

    def _scalar(self, sql: str, params: tuple[Any, ...]) -> int | None:
        if not self.path.exists():
            return None
        with self._connect() as db:
            row = db.execute(sql, params).fetchone()
        return None if row is None or row[0] is None else int(row[0])

    def _missing(self, snap_id: int) -> ConfigError:
        return ConfigError(
            f"There is no snapshot {snap_id} in {self.path}",
            "list them with `oaa-concur snapshots`",
        )

    @contextmanager
    def _connect(self, *, create: bool = False) -> Iterator[sqlite3.Connection]:
        if create:
            _create_private(self.state_dir, self.path)
        guard_database(self.state_dir, self.path)
        try:
            # Autocommit mode: transactions are explicit (``transaction``), DDL included.
            db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        except sqlite3.Error as exc:
            raise self._unreadable(exc) from None
        try:
            _migrate(db, self.path)
            yield db
        except sqlite3.DatabaseError as exc:
            raise self._unreadable(exc) from None
        finally:
            db.close()

    def _unreadable(self, exc: Exception) -> ConfigError:
        return ConfigError(
            f"The snapshot store {self.path} cannot be read ({exc})",
            "restore it from a backup or move it aside; the next discovery starts a new one",
        )


def _remove_store(path: Path, lock: Path | None) -> None:
    """The store files a failed first spool created (database, journals, lock)."""
    for candidate in (path, *(path.with_name(path.name + end) for end in SQLITE_COMPANIONS)):
        candidate.unlink(missing_ok=True)
    if lock is not None:
        lock.unlink(missing_ok=True)


@contextmanager
def _spool_lock(path: Path) -> Iterator[None]:
    """``snapshots.lock`` held (flock) while a spool lives; a second one is refused."""
    fd = open_private(path, os.O_RDWR | os.O_CREAT)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise LockedError(
            f"another oaa-concur run is still writing its snapshot ({path})",
            "wait for it to finish",
        ) from None
    try:
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def _create_private(state_dir: Path, path: Path) -> None:
    """Create the state directory (0700) and an empty database file (0600) if missing."""
    ensure_private_dir(state_dir)
    create_private_file(path)


def _migrate(db: sqlite3.Connection, path: Path, target: int = SCHEMA_VERSION) -> None:
    """Bring the schema to ``target`` in one transaction (a crash leaves the old schema)."""
    if _version(db) == target:
        return  # the usual case: no write lock taken just to read
    with transaction(db):
        db.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
        version = _version(db)
        if version > SCHEMA_VERSION:
            raise ConfigError(
                f"The snapshot store {path} has schema version {version}, newer than this "
                f"oaa-concur understands ({SCHEMA_VERSION})",
                "upgrade oaa-concur",
            )
        for step in range(version + 1, target + 1):
            for statement in MIGRATIONS[step - 1].split(";"):
                if statement.strip():
                    db.execute(statement)
            db.execute("INSERT INTO schema_version (version) VALUES (?)", (step,))


def _version(db: sqlite3.Connection) -> int:
    if db.execute("SELECT 1 FROM sqlite_master WHERE name = 'schema_version'").fetchone() is None:
        return 0
    return int(db.execute("SELECT max(version) FROM schema_version").fetchone()[0] or 0)


def migrate_to(path: Path, target: int) -> None:
    """Create or upgrade the database at ``path`` to schema ``target`` (tests, tooling)."""
    db = sqlite3.connect(path, isolation_level=None)
    try:
        _migrate(db, path, target)
    finally:
        db.close()


def _snapshot_row(result: DiscoveryResult, grant_count: int) -> tuple[Any, ...]:
    stats = result.stats
    taken = stats.started_at if stats else datetime.now(UTC)
    return (
        taken.isoformat(),
        result.company.id,
        result.company.name,
        result.company.geolocation,
        len(result.users),
        stats.duration_s if stats else None,
        stats_json(stats),
        grant_count,
        len(result.issues),
    )
