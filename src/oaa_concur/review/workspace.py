"""The two walks of a report over one snapshot, and the scratch database between them.

Walk 1 (``collect``) streams the people once: the findings (``findings.scan``), the figures,
the approver and delegate edges and the access details go into a ``Workspace``, a private
temporary SQLite database (``sqlite3.connect("")``: SQLite opens an unnamed file that it
deletes itself on close, spilling to disk beyond its page cache). Walk 2 (``grant_walk``)
streams the people again and merges each user's findings back (both in id order) into the
grant rows. So a report holds one user, a bounded cache and the per-role tallies in memory,
whatever the tenant (issue 12, "Reports at this size").
"""

from __future__ import annotations

import sqlite3
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson

from oaa_concur.catalogue import RoleInfo
from oaa_concur.models import SpendProfile, User
from oaa_concur.review.details import person_details, reference_rows
from oaa_concur.review.findings import Finding, scan
from oaa_concur.review.rules import SEVERITIES, RuleSet, Severity
from oaa_concur.review.sources import Source
from oaa_concur.review.tables import (
    GrantRow,
    Stamp,
    Status,
    approver_cells,
    day,
    delegate_cells,
    finding_cells,
    grants_of,
    scope,
    status,
)

_NOT_PER_GRANT = {"PRIVILEGED_ROLE", "UNKNOWN_ROLE"}
"""Findings about a whole role, not about one user's grant: left out of the per-grant column."""
_BATCH = 2_000
SIDE = ("approvers", "delegates", "delegations", "limits", "processors", "references")
"""The side tables: edges (lists of cells) and access details (objects), in walk order."""
_SCHEMA = """
    CREATE TABLE findings (rank INTEGER, id TEXT, rule TEXT, severity TEXT, exempted INTEGER,
        cells TEXT, doc TEXT);
    CREATE TABLE finding_users (user_id TEXT, rank INTEGER, id TEXT, role_codes TEXT,
        exempted INTEGER);
    CREATE TABLE side (tab TEXT, user_id TEXT, other_id TEXT, doc TEXT);
    CREATE TABLE notable (user_id TEXT);
"""
_INDEXES = """
    CREATE INDEX findings_rank ON findings (rank, id);
    CREATE INDEX findings_rule ON findings (rule, rank, id);
    CREATE INDEX finding_users_user ON finding_users (user_id, rank, id);
    CREATE INDEX side_tab ON side (tab);
"""


@dataclass
class Figures:
    """What the summary, the charts and the role view count, over every user."""

    statuses: Counter[Status] = field(default_factory=Counter)
    grants: int = 0
    privileged_grants: int = 0
    privileged_users: int = 0
    products: Counter[str] = field(default_factory=Counter)
    privileged_holders: Counter[str] = field(default_factory=Counter)
    holders: Counter[str] = field(default_factory=Counter)
    """Grants per role code (entitlements included)."""
    roles: dict[str, RoleInfo] = field(default_factory=dict)
    side: Counter[str] = field(default_factory=Counter)
    """Rows per side table."""

    @property
    def users(self) -> int:
        return sum(self.statuses.values())


@dataclass(frozen=True, slots=True)
class FindingCounts:
    """The findings of a snapshot in figures, for the summary line and ``--fail-on``."""

    open: dict[Severity, int]
    """Not exempted, per severity (every severity present)."""
    exempted: int
    first: dict[Severity, str]
    """The first open finding's id per severity (report order)."""
    by_rule: tuple[tuple[str, Severity, int, int], ...]
    """(rule, severity, findings, of which exempted), most severe first."""

    @property
    def total(self) -> int:
        return sum(self.open.values()) + self.exempted


class Workspace:
    """The scratch database of one report (module docstring). Use as a context manager."""

    def __init__(self) -> None:
        self.db = sqlite3.connect("")
        self.db.executescript(_SCHEMA)
        self.figures = Figures()
        self._pending: dict[str, list[tuple[Any, ...]]] = {}

    def __enter__(self) -> Workspace:
        return self

    def __exit__(self, *_: object) -> None:
        self.db.close()

    def add(self, table: str, row: tuple[Any, ...]) -> None:
        batch = self._pending.setdefault(table, [])
        batch.append(row)
        if len(batch) >= _BATCH:
            self._flush(table)

    def _flush(self, table: str) -> None:
        rows = self._pending.pop(table, [])
        if rows:
            marks = ", ".join("?" * len(rows[0]))
            self.db.executemany(f"INSERT INTO {table} VALUES ({marks})", rows)  # noqa: S608

    def finish(self) -> None:
        for table in list(self._pending):
            self._flush(table)
        self.db.executescript(_INDEXES)
        self.db.commit()

    # -- reading back ------------------------------------------------------------------

    def counts(self) -> FindingCounts:
        open_ = dict.fromkeys(SEVERITIES, 0)
        first: dict[Severity, str] = {}
        for severity, n, first_id in self.db.execute(
            "SELECT severity, count(*), min(id) FROM findings WHERE exempted = 0 GROUP BY severity"
        ):
            open_[severity] = n
            first[severity] = first_id
        exempted = self.db.execute("SELECT count(*) FROM findings WHERE exempted = 1").fetchone()
        by_rule = self.db.execute(
            "SELECT rule, severity, count(*), sum(exempted) FROM findings GROUP BY rule, severity"
            " ORDER BY min(rank), rule"
        ).fetchall()
        return FindingCounts(open_, exempted[0], first, tuple(by_rule))

    def findings(
        self, column: str = "cells", where: str = "", args: tuple[Any, ...] = ()
    ) -> Iterator[Any]:
        """Every finding (``cells`` or ``doc``, decoded), in report order."""
        query = f"SELECT {column} FROM findings {where} ORDER BY rank, id"  # noqa: S608
        for (doc,) in self.db.execute(query, args):
            yield orjson.loads(doc)

    def side(self, table: str) -> Iterator[tuple[str, str, Any]]:
        """(user id, other user id, row) of one side table, in walk order."""
        rows = self.db.execute(
            "SELECT user_id, other_id, doc FROM side WHERE tab = ? ORDER BY rowid", (table,)
        )
        for user_id, other_id, doc in rows:
            yield user_id, other_id, orjson.loads(doc)

    def notable(self, limit: int) -> tuple[set[str], int]:
        """Up to ``limit`` ids (in id order) of the people with an open finding or a privileged
        grant, and how many such people there are."""
        union = (
            "SELECT user_id FROM notable UNION SELECT user_id FROM finding_users WHERE exempted = 0"
        )
        total = self.db.execute(f"SELECT count(*) FROM ({union})").fetchone()[0]  # noqa: S608
        ids = self.db.execute(f"SELECT user_id FROM ({union}) ORDER BY 1 LIMIT ?", (limit,))  # noqa: S608
        return {r[0] for r in ids}, int(total)


# -- walk 1 ------------------------------------------------------------------------------


def collect(source: Source, rules: RuleSet, now: datetime, ws: Workspace) -> FindingCounts:
    """Walk 1: findings, figures, edges and details of every user into ``ws``."""
    people = _tally(source, now, ws)
    found = scan(
        people, source.directory, source.issues(), source.unknown_references(), rules, now=now
    )
    for f in found:
        _add_finding(ws, f)
    for ref in reference_rows(source.unknown_references(), source.directory):
        _side(ws, "references", ref.user_id, "", orjson.dumps(ref).decode())
    ws.finish()
    return ws.counts()


def _tally(
    source: Source, now: datetime, ws: Workspace
) -> Iterator[tuple[User, SpendProfile | None]]:
    for user, profile in source.people():
        _count(ws.figures, user, profile, now, ws)
        if profile is not None:
            _edges(ws, user, profile, source, now)
        yield user, profile


def _count(
    fig: Figures, user: User, profile: SpendProfile | None, now: datetime, ws: Workspace
) -> None:
    fig.statuses[status(user, now)] += 1
    privileged = False
    for info, _ in grants_of(user, profile):
        fig.grants += 1
        fig.products[info.product] += 1
        fig.holders[info.code] += 1
        fig.roles.setdefault(info.code, info)
        if info.privileged:
            privileged = True
            fig.privileged_grants += 1
            fig.privileged_holders[info.code] += 1
    if privileged:
        fig.privileged_users += 1
        ws.add("notable", (user.id,))


def _edges(ws: Workspace, user: User, profile: SpendProfile, source: Source, now: datetime) -> None:
    d = source.directory
    for cells in approver_cells(user, profile, d, now):
        _side(ws, "approvers", user.id, cells[4], orjson.dumps(cells).decode())
    for cells in delegate_cells(user, profile, d, now):
        _side(ws, "delegates", user.id, cells[3], orjson.dumps(cells).decode())
    delegations, limits, processors = person_details(user, profile, d, now)
    for row in delegations:
        _side(ws, "delegations", user.id, row.delegate_id, orjson.dumps(row).decode())
    for table, rows in (("limits", limits), ("processors", processors)):
        for item in rows:
            _side(ws, table, user.id, "", orjson.dumps(item).decode())


def _side(ws: Workspace, table: str, user_id: str, other_id: str, doc: str) -> None:
    ws.figures.side[table] += 1
    ws.add("side", (table, user_id, other_id, doc))


def finding_doc(f: Finding) -> dict[str, Any]:
    """A finding as the JSON report holds it."""
    ex = f.exemption
    return {
        "id": f.id,
        "rule": f.rule,
        "severity": f.severity,
        "title": f.title,
        "explanation": f.explanation,
        "user_ids": list(f.user_ids),
        "role_codes": list(f.role_codes),
        "exemption": {"user": ex.user, "reason": ex.reason, "expires": ex.expires.isoformat()}
        if ex
        else None,
    }


def _add_finding(ws: Workspace, f: Finding) -> None:
    rank, exempted = SEVERITIES.index(f.severity), int(f.exemption is not None)
    cells = orjson.dumps(finding_cells(f)).decode()
    doc = orjson.dumps(finding_doc(f)).decode()
    ws.add("findings", (rank, f.id, f.rule, f.severity, exempted, cells, doc))
    if f.rule in _NOT_PER_GRANT:
        return
    codes = orjson.dumps(list(f.role_codes)).decode()
    for user_id in dict.fromkeys(f.user_ids):
        ws.add("finding_users", (user_id, rank, f.id, codes, exempted))


# -- walk 2 ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Person:
    """One user's grant rows, with the ids of every finding that names them."""

    user: User
    profile: SpendProfile | None
    grants: list[GrantRow]
    finding_ids: list[str]


class _Merge:
    """``finding_users`` rows in user id order, handed out one user's at a time."""

    def __init__(self, ws: Workspace) -> None:
        cursor = ws.db.execute(
            "SELECT user_id, rank, id, role_codes, exempted FROM finding_users"
            " ORDER BY user_id, rank, id"
        )
        self._rows = (row for batch in iter(lambda: cursor.fetchmany(_BATCH), []) for row in batch)
        self._next: tuple[Any, ...] | None = next(self._rows, None)

    def take(self, user_id: str) -> list[tuple[Any, ...]]:
        out: list[tuple[Any, ...]] = []
        while self._next is not None and self._next[0] <= user_id:
            if self._next[0] == user_id:
                out.append(self._next)
            self._next = next(self._rows, None)
        return out


def grant_walk(source: Source, ws: Workspace, stamp: Stamp, now: datetime) -> Iterator[Person]:
    """Walk 2: every user's grant rows with their findings, in id order (people are sorted)."""
    merge = _Merge(ws)
    for user, profile in source.people():
        mine = merge.take(user.id)
        manager = source.directory.user(user.manager_id) if user.manager_id else None
        rows = [
            _grant_row(stamp, user, manager, info, groups, mine, now)
            for info, groups in grants_of(user, profile)
        ]
        yield Person(user, profile, rows, [m[2] for m in mine])


def _grant_row(
    stamp: Stamp,
    user: User,
    manager: User | None,
    info: RoleInfo,
    groups: tuple[str, ...],
    mine: list[tuple[Any, ...]],
    now: datetime,
) -> GrantRow:
    concern = [m for m in mine if m[3] == "[]" or info.code in orjson.loads(m[3])]
    open_ranks = [m[1] for m in concern if not m[4]]
    return GrantRow(
        snapshot_id=stamp.snapshot_id,
        snapshot_time=stamp.snapshot_time,
        user_id=user.id,
        user_name=user.user_name or "",
        display_name=user.name,
        email=user.email or "",
        status=status(user, now),
        employee_number=user.employee_number or "",
        department=user.department or "",
        cost_center=user.cost_center or "",
        termination_date=day(user.termination_date),
        manager_id=user.manager_id or "",
        manager_name=manager.name if manager else "",
        role_code=info.code,
        role_name=info.name,
        product=info.product,
        scope=scope(groups),
        privileged=info.privileged,
        severity=SEVERITIES[min(open_ranks)] if open_ranks else "",
        findings=" ".join(m[2] for m in concern),
    )
