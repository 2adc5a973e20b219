"""The snapshot store's SQL for the largest tenants (issue 12): the join after the last page,
the figures, and typed readers that stream one snapshot in bounded memory.

The store is also discovery's spool (``review.spool``): pages go into a ``pending`` snapshot as
they arrive, ``join`` runs every check of the old in-memory join here once all pages are read,
and ``complete`` flips the snapshot (figures in the same transaction). Readers see complete
snapshots only; ``people`` walks one snapshot user by user (id order, the payload's) by merging
ordered cursors over the ``(snapshot_id, user_id)`` indexes, so nothing grows with the tenant.

Semantics kept from the in-memory join (``concur.discovery`` before issue 12):

* Identity listing an id twice: the first (by arrival) is kept, one ``duplicate_id`` each;
* a Spend record of no Identity user: ``orphan_spend_record``, its rows dropped;
* a user without a Spend record: ``no_spend_profile``;
* every manager, ``biManager``, approver and delegate reference resolved by
  ``concur.references.resolve`` (the same function), through lookups over the ``users`` table
  (``SqlLookups``); one that names nobody is left out and kept in ``unknown_references``.

Issues go through the run's ``IssueSink`` (every one counted, the first 1,000 per kind kept).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from oaa_concur.catalogue import entitlement_role
from oaa_concur.concur.issues import IssueSink
from oaa_concur.concur.references import describe, resolve
from oaa_concur.models import DataIssue, IssueKind, SpendProfile, UnknownReference, User
from oaa_concur.oaa.build import Vocabulary
from oaa_concur.review.rows import (
    SPEND_TABLES,
    Row,
    issue_from,
    profile_from,
    reference_from,
    reference_row,
    user_from,
)

SCHEMA_5 = """
    ALTER TABLE snapshots ADD COLUMN status TEXT NOT NULL DEFAULT 'complete';
    DROP INDEX users_snap;
    DROP INDEX profiles_snap;
    DROP INDEX grants_snap;
    DROP INDEX approvers_snap;
    DROP INDEX delegates_snap;
    DROP INDEX approval_limits_snap;
    CREATE INDEX users_snap_id ON users (snapshot_id, id);
    CREATE INDEX users_snap_number ON users (snapshot_id, employee_number);
    CREATE INDEX profiles_snap_user ON profiles (snapshot_id, user_id);
    CREATE INDEX grants_snap_user ON grants (snapshot_id, user_id);
    CREATE INDEX approvers_snap_user ON approvers (snapshot_id, user_id);
    CREATE INDEX delegates_snap_user ON delegates (snapshot_id, user_id);
    CREATE INDEX approval_limits_snap_user ON approval_limits (snapshot_id, user_id);
"""
"""Migration 5: snapshots are ``pending`` while discovery writes them, ``complete`` after; the
per-snapshot indexes become (snapshot, user) ones, which the join and the readers walk."""

COMPLETE = "complete"
PENDING = "pending"
_BATCH = 2_000
_SPEND_CHILDREN = SPEND_TABLES[1:]
_NO_PROFILE = "no Spend profile (e.g. a Travel-only user): no Spend roles"
_ORPHAN = "Spend has a record for an id that Identity does not list"


# -- writing ---------------------------------------------------------------------------------

WAL_CHECKPOINT_PAGES = 16_384
"""Pages (4 KiB each: 64 MiB) the write-ahead log may hold before SQLite checkpoints it."""

SPOOL_PRAGMAS = (
    "PRAGMA journal_mode = WAL",
    "PRAGMA synchronous = NORMAL",
    f"PRAGMA wal_autocheckpoint = {WAL_CHECKPOINT_PAGES}",
    f"PRAGMA journal_size_limit = {WAL_CHECKPOINT_PAGES * 4096}",
    "PRAGMA cache_size = -32768",  # KiB: 32 MiB of page cache, whatever the tenant
    "PRAGMA temp_store = FILE",
)
"""A spool commits once per page: WAL with ``synchronous=NORMAL`` makes a commit cheap (no
fsync). The log is checkpointed every ``WAL_CHECKPOINT_PAGES`` pages, 16 times SQLite's default
(each checkpoint syncs twice: 150 of them at the default cost 30 s at 100,000 users on this
machine), and truncated back to that size after each one. Never checkpointing is not an
option: at 1,000,000 users the log grew to 21 GB and every read of it slowed the run to 22
minutes. A crash loses a pending snapshot, never a complete one."""


@contextmanager
def transaction(db: sqlite3.Connection) -> Iterator[None]:
    """BEGIN IMMEDIATE ... COMMIT, or ROLLBACK on any error: all or nothing."""
    db.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")


def insert(db: sqlite3.Connection, table: str, snap: int, rows: Sequence[Row]) -> None:
    """``rows`` (without the snapshot id) appended to ``table`` of snapshot ``snap``."""
    if not rows:
        return
    marks = ", ".join("?" * (len(rows[0]) + 1))
    db.executemany(
        f"INSERT INTO {table} VALUES ({marks})",  # noqa: S608 - fixed table names
        ((snap, *row) for row in rows),
    )


def open_pending(db: sqlite3.Connection) -> int:
    """A new pending snapshot (its row is completed by ``FLIP``); its id."""
    cur = db.execute(
        "INSERT INTO snapshots (taken_at, company_id, geolocation, user_count, status)"
        " VALUES ('', '', '', 0, ?)",
        (PENDING,),
    )
    return int(cur.lastrowid or 0)


def delete_snapshots(db: sqlite3.Connection, ids: Sequence[int], tables: Sequence[str]) -> None:
    """Every row of the snapshots ``ids``, child tables first."""
    for table in tables:
        db.executemany(
            f"DELETE FROM {table} WHERE snapshot_id = ?",  # noqa: S608
            [(i,) for i in ids],
        )
    db.executemany("DELETE FROM snapshots WHERE id = ?", [(i,) for i in ids])


def pending_ids(db: sqlite3.Connection) -> list[int]:
    return [r[0] for r in db.execute("SELECT id FROM snapshots WHERE status = ?", (PENDING,))]


FLIP = (
    "UPDATE snapshots SET taken_at = :taken_at, company_id = :company_id,"
    " company_name = :company_name, geolocation = :geolocation, user_count = :user_count,"
    " duration_s = :duration_s, stats = :stats, grant_count = :grant_count,"
    " issue_count = :issue_count, status = 'complete' WHERE id = :id AND status = 'pending'"
)
"""Recording a snapshot is this one update: no copy of its rows."""


# -- the join ---------------------------------------------------------------------------------


def join(db: sqlite3.Connection, snap: int, sink: IssueSink) -> None:
    """Every check of discovery's join, in SQL, once every page is in (module docstring)."""
    _duplicate_users(db, snap, sink)
    _orphans(db, snap, sink)
    _without_profile(db, snap, sink)
    _resolve_references(db, snap, sink)


def _duplicate_users(db: sqlite3.Connection, snap: int, sink: IssueSink) -> None:
    rows = db.execute(
        "SELECT rowid, id FROM users u WHERE snapshot_id = ? AND rowid > (SELECT min(rowid)"
        " FROM users f WHERE f.snapshot_id = u.snapshot_id AND f.id = u.id) ORDER BY rowid",
        (snap,),
    ).fetchall()  # a handful: Identity returns each id once
    for _, uid in rows:
        sink.add(IssueKind.DUPLICATE_ID, uid, "Identity returned this id twice")
    db.executemany("DELETE FROM users WHERE rowid = ?", [(r[0],) for r in rows])


def _orphans(db: sqlite3.Connection, snap: int, sink: IssueSink) -> None:
    missing = (
        "snapshot_id = ? AND NOT EXISTS (SELECT 1 FROM users u WHERE u.snapshot_id = {t}."
        "snapshot_id AND u.id = {t}.user_id)"
    )
    query = f"SELECT user_id FROM profiles WHERE {missing.format(t='profiles')} ORDER BY rowid"  # noqa: S608
    for (uid,) in db.execute(query, (snap,)):
        sink.add(IssueKind.ORPHAN_SPEND_RECORD, uid, _ORPHAN)
    for table in SPEND_TABLES:
        db.execute(f"DELETE FROM {table} WHERE {missing.format(t=table)}", (snap,))  # noqa: S608


def _without_profile(db: sqlite3.Connection, snap: int, sink: IssueSink) -> None:
    rows = db.execute(
        "SELECT id FROM users u WHERE snapshot_id = ? AND NOT EXISTS (SELECT 1 FROM profiles p"
        " WHERE p.snapshot_id = u.snapshot_id AND p.user_id = u.id) ORDER BY rowid",
        (snap,),
    )
    for (uid,) in rows:
        sink.add(IssueKind.NO_SPEND_PROFILE, uid, _NO_PROFILE)


class SqlLookups:
    """``concur.references.Lookups`` over the ``users`` table of one snapshot."""

    def __init__(self, db: sqlite3.Connection, snap: int) -> None:
        self.db, self.snap = db, snap

    def known(self, user_id: str) -> bool:
        row = self.db.execute(
            "SELECT 1 FROM users WHERE snapshot_id = ? AND id = ?", (self.snap, user_id)
        ).fetchone()
        return row is not None

    def by_employee_number(self, number: str) -> Sequence[str]:
        rows = self.db.execute(
            "SELECT id FROM users WHERE snapshot_id = ? AND employee_number = ? ORDER BY rowid",
            (self.snap, number),
        )
        return [r[0] for r in rows]


# Candidates: references whose value is not an Identity id (most references need no more).
_CANDIDATES = """
    SELECT 0, rowid, 0, rowid, id, manager_id, manager_employee_number, '' FROM users m
    WHERE snapshot_id = :s AND (manager_id IS NOT NULL OR manager_employee_number IS NOT NULL)
      AND NOT EXISTS (SELECT 1 FROM users u WHERE u.snapshot_id = :s AND u.id = m.manager_id)
    UNION ALL
    SELECT 1, p.rowid, 0, e.rowid, e.user_id, e.approver_id, e.approver_employee_number, e.kind
    FROM approvers e JOIN profiles p ON p.snapshot_id = :s AND p.user_id = e.user_id
    WHERE e.snapshot_id = :s
      AND NOT EXISTS (SELECT 1 FROM users u WHERE u.snapshot_id = :s AND u.id = e.approver_id)
    UNION ALL
    SELECT 1, p.rowid, 1, e.rowid, e.user_id, e.delegate_id, e.delegate_employee_number, e.kind
    FROM delegates e JOIN profiles p ON p.snapshot_id = :s AND p.user_id = e.user_id
    WHERE e.snapshot_id = :s
      AND NOT EXISTS (SELECT 1 FROM users u WHERE u.snapshot_id = :s AND u.id = e.delegate_id)
    UNION ALL
    SELECT 1, rowid, 2, rowid, user_id, bi_manager_id, bi_manager_employee_number, ''
    FROM profiles b WHERE snapshot_id = :s
      AND (bi_manager_id IS NOT NULL OR bi_manager_employee_number IS NOT NULL)
      AND NOT EXISTS (SELECT 1 FROM users u WHERE u.snapshot_id = :s AND u.id = b.bi_manager_id)
    ORDER BY 1, 2, 3, 4
"""
"""Users' managers in user order, then per Spend record its approvers, delegates and
``biManager``: the order the in-memory join reported them in."""
_RELATIONS = {(0, 0): "manager", (1, 0): "approver", (1, 1): "delegate", (1, 2): "bi_manager"}
_TABLES = {"manager": "users", "approver": "approvers", "delegate": "delegates"}
_COLUMNS = {
    "manager": "manager_id",
    "approver": "approver_id",
    "delegate": "delegate_id",
    "bi_manager": "bi_manager_id",
}


def _resolve_references(db: sqlite3.Connection, snap: int, sink: IssueSink) -> None:
    """Each candidate through ``resolve``; the changes applied after the walk."""
    lookups = SqlLookups(db, snap)
    retarget: dict[str, list[tuple[str | None, int]]] = {k: [] for k in _COLUMNS}
    dropped: dict[str, list[tuple[int]]] = {k: [] for k in _TABLES}
    refs: list[Row] = []
    rows = db.execute(_CANDIDATES, {"s": snap}).fetchall()
    for phase, _, cat, rowid, owner, value, number, kind in rows:
        relation = _RELATIONS[(phase, cat)]
        uid, why = resolve(value or None, number, lookups)
        if uid is not None:
            retarget[relation].append((uid, rowid))
            continue
        named = value if relation in ("manager", "bi_manager") else value or None
        ref = UnknownReference(owner, relation, kind, named, number, why)
        sink.add(IssueKind.UNKNOWN_REFERENCE, owner, describe(ref))
        refs.append((snap, *reference_row(ref)))
        if relation in ("approver", "delegate"):
            dropped[relation].append((rowid,))
        else:
            retarget[relation].append((None, rowid))
    _apply(db, retarget, dropped, refs)


def _apply(
    db: sqlite3.Connection,
    retarget: dict[str, list[tuple[str | None, int]]],
    dropped: dict[str, list[tuple[int]]],
    refs: list[Row],
) -> None:
    for relation, changes in retarget.items():
        table = _TABLES.get(relation, "profiles")
        db.executemany(
            f"UPDATE {table} SET {_COLUMNS[relation]} = ? WHERE rowid = ?",  # noqa: S608
            changes,
        )
    for relation, rowids in dropped.items():
        db.executemany(f"DELETE FROM {_TABLES[relation]} WHERE rowid = ?", rowids)  # noqa: S608
    db.executemany("INSERT INTO unknown_references VALUES (?, ?, ?, ?, ?, ?, ?)", refs)


# -- the snapshot's company and figures -------------------------------------------------------


def common_company_id(db: sqlite3.Connection, snap: int) -> str | None:
    """The ``companyId`` most users carry (the first seen among equals), for a token that
    named no company."""
    row = db.execute(
        "SELECT company_id FROM users WHERE snapshot_id = ? AND company_id IS NOT NULL"
        " AND company_id != '' GROUP BY company_id ORDER BY count(*) DESC, min(rowid) LIMIT 1",
        (snap,),
    ).fetchone()
    return None if row is None else str(row[0])


@dataclass(frozen=True, slots=True)
class Figures:
    """The counts of one snapshot that the summary line and the listing show."""

    users: int
    active: int
    roles: int
    """Distinct role codes granted: Spend roles and ``ENTITLEMENT_*`` product access."""
    grants: int
    """Spend grants plus product entitlements (the payload's role assignments)."""
    spend_grants: int
    issues: int


def figures(db: sqlite3.Connection, snap: int) -> Figures:
    users, active = db.execute(
        "SELECT count(*), coalesce(sum(active), 0) FROM users WHERE snapshot_id = ?", (snap,)
    ).fetchone()
    spend_grants = _count(db, "grants", snap)
    codes = {r[0] for r in db.execute(_DISTINCT_CODES, (snap,))}
    products = db.execute(_PRODUCTS, (snap,)).fetchall()
    codes |= {entitlement_role(p).code for p, _ in products}
    entitlements = sum(n for _, n in products)
    return Figures(
        users,
        active,
        len(codes),
        spend_grants + entitlements,
        spend_grants,
        _count(db, "issues", snap),
    )


_DISTINCT_CODES = "SELECT DISTINCT role_code FROM grants WHERE snapshot_id = ?"
_PRODUCTS = (
    "SELECT e.value, count(*) FROM users, json_each(users.entitlements) e"
    " WHERE users.snapshot_id = ? GROUP BY e.value"
)


def _count(db: sqlite3.Connection, table: str, snap: int) -> int:
    query = f"SELECT count(*) FROM {table} WHERE snapshot_id = ?"  # noqa: S608
    return int(db.execute(query, (snap,)).fetchone()[0])


# -- readers ----------------------------------------------------------------------------------


class SnapshotReader:
    """One snapshot of the store, read as streams of typed records (bounded memory). The API
    issue 14's queries build on: every method is one SQL query (or a merge of ordered ones)."""

    def __init__(self, db: sqlite3.Connection, snap: int) -> None:
        self.db, self.snap = db, snap

    def people(self) -> Iterator[tuple[User, SpendProfile | None]]:
        """Every user with their Spend record (None: none), in id order."""
        return people(self.db, self.snap)

    def users(self) -> Iterator[User]:
        """Every user, in the order discovery read them."""
        return (user_from(r[1:]) for r in rows_of(self.db, "users", self.snap))

    def vocabulary(self) -> Vocabulary:
        return vocabulary(self.db, self.snap)

    def case_duplicates(self) -> set[str]:
        return case_duplicates(self.db, self.snap)

    def issues(self) -> list[DataIssue]:
        """The data issues recorded (bounded when written: 1,000 per kind and a count)."""
        return [issue_from(r) for r in rows_of(self.db, "issues", self.snap)]

    def unknown_references(self) -> Iterator[UnknownReference]:
        """Every reference the join could not place, in the order it found them."""
        return (reference_from(r) for r in rows_of(self.db, "unknown_references", self.snap))

    def figures(self) -> Figures:
        return figures(self.db, self.snap)


def vocabulary(db: sqlite3.Connection, snap: int) -> Vocabulary:
    """The header's names (``oaa.build.Vocabulary``) in first-seen order, by SQL."""

    def seen(select: str) -> tuple[str, ...]:
        rows = db.execute(f"{select} GROUP BY 1 ORDER BY min(t.rowid)", (snap,))
        return tuple(r[0] for r in rows)

    each = "SELECT j.value FROM {table} t, json_each(t.{col}) j WHERE t.snapshot_id = ?"
    return Vocabulary(
        approver_kinds=seen("SELECT kind FROM approvers t WHERE snapshot_id = ?"),
        delegate_kinds=seen("SELECT kind FROM delegates t WHERE snapshot_id = ?"),
        delegate_flags=seen(each.format(table="delegates", col="permissions")),
        products=seen(each.format(table="users", col="entitlements")),
        role_codes=seen("SELECT role_code FROM grants t WHERE snapshot_id = ?"),
        role_groups=seen(each.format(table="grants", col="role_groups")),
    )


def case_duplicates(db: sqlite3.Connection, snap: int) -> set[str]:
    """Ids the payload leaves out: an id equal to another but for case (oaaclient keys users
    case-insensitively; ``oaa.build`` keeps the first in id order). Two such ids cannot both
    be their own lower case, so the few ids that are not lead to every collision; Python's
    ``str.lower`` decides (SQLite's ``lower`` knows ASCII only)."""
    db.create_function("py_lower", 1, str.lower, deterministic=True)
    suspects = [
        r[0]
        for r in db.execute(
            "SELECT id FROM users WHERE snapshot_id = ? AND id != py_lower(id)", (snap,)
        )
    ]
    groups: dict[str, set[str]] = {}
    for uid in suspects:
        groups.setdefault(uid.lower(), set()).add(uid)
    for key, members in groups.items():
        if SqlLookups(db, snap).known(key):
            members.add(key)
    return {uid for members in groups.values() for uid in sorted(members)[1:]}


def people(db: sqlite3.Connection, snap: int) -> Iterator[tuple[User, SpendProfile | None]]:
    """Every user with its Spend record, in id order, from ordered cursors merged here."""
    users = db.execute("SELECT * FROM users WHERE snapshot_id = ? ORDER BY id", (snap,))
    profiles = _groups(db, "profiles", snap)
    children = {table: _groups(db, table, snap) for table in _SPEND_CHILDREN}
    for batch in _batches(users):
        for row in batch:
            user = user_from(row[1:])
            found = profiles.take(user.id)
            kids = {table: group.take(user.id) for table, group in children.items()}
            yield user, profile_from(found[0], kids) if found else None


class _Group:
    """Rows of one table ordered by user id, handed out one user's at a time."""

    def __init__(self, cursor: sqlite3.Cursor) -> None:
        self._rows = (row for batch in _batches(cursor) for row in batch)
        self._next: Row | None = next(self._rows, None)

    def take(self, user_id: str) -> list[Row]:
        out: list[Row] = []
        while self._next is not None and self._next[1] <= user_id:
            if self._next[1] == user_id:
                out.append(self._next)
            self._next = next(self._rows, None)
        return out


def _groups(db: sqlite3.Connection, table: str, snap: int) -> _Group:
    query = f"SELECT * FROM {table} WHERE snapshot_id = ? ORDER BY user_id, rowid"  # noqa: S608
    return _Group(db.execute(query, (snap,)))


def _batches(cursor: sqlite3.Cursor) -> Iterator[list[Any]]:
    while batch := cursor.fetchmany(_BATCH):
        yield batch


def rows_of(db: sqlite3.Connection, table: str, snap: int) -> Iterator[Row]:
    """Every row of one table of a snapshot, in the order it was written."""
    query = f"SELECT * FROM {table} WHERE snapshot_id = ? ORDER BY rowid"  # noqa: S608
    for batch in _batches(db.execute(query, (snap,))):
        yield from batch
