"""Discovery's spool: every page parsed and written to a ``pending`` snapshot as it arrives.

``Spool`` is the sink discovery's paginators feed (``add_users(records, total)`` /
``add_spend(records, total)``, the interface of the old in-memory collector): each page becomes
one transaction of rows (``review.rows``), so memory holds one page, never the tenant. After
the last page ``join`` runs the checks in SQL (``review.store.join``); the payload is then
streamed from the pending rows; ``complete`` writes the issues and the figures and flips the
snapshot to ``complete`` in one transaction. ``SnapshotStore.spool`` deletes the pending rows if
anything fails before that, and a crashed run's pending rows the next time a spool opens.

A Spend record whose id an earlier page already had is dropped at once (``duplicate_id``):
its rows would otherwise mix with the first record's. Identity duplicates are found by the
join (a user row has no child rows).
"""

from __future__ import annotations

import dataclasses
import sqlite3
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from oaa_concur.concur.issues import IssueSink
from oaa_concur.concur.parse import ENTERPRISE, parse_spend, parse_user
from oaa_concur.errors import IncompleteDiscovery
from oaa_concur.models import (
    Company,
    DataIssue,
    IssueKind,
    ProgressCallback,
    RunStats,
    SpendProfile,
    User,
)
from oaa_concur.review import store
from oaa_concur.review.rows import Row, issue_row, spend_rows, stats_json, user_row
from oaa_concur.review.store import Figures, SnapshotReader


class Spool(SnapshotReader):
    """One pending snapshot being written by one discovery (``SnapshotStore.spool``); read
    like any snapshot (``SnapshotReader``) once joined, for the payload."""

    def __init__(
        self, db: sqlite3.Connection, snap: int, progress: ProgressCallback | None = None
    ) -> None:
        super().__init__(db, snap)
        self.progress = progress
        self.sink = IssueSink()
        self.organization: str | None = None
        self.completed = False
        self._identity_seen = self._spend_seen = self._users = 0
        self._unreadable: list[str] = []

    # -- pages --------------------------------------------------------------------------------

    def add_users(self, records: list[Any], total: int | None) -> None:
        rows: list[Row] = []
        for raw in records:
            self._identity_seen += 1
            user = self._user(raw, f"identity#{self._identity_seen}")
            if user is not None:
                rows.append(user_row(user))
        self._insert({"users": rows})
        self._users += len(rows)
        if self.progress is not None:
            self.progress("identity", self._users, total)

    def _user(self, raw: Any, where: str) -> User | None:
        user = parse_user(raw, where, self.sink)
        if user is None:
            self._unreadable.append(where)
        elif self.organization is None:
            self.organization = _organization(raw)
        return user

    def add_spend(self, records: list[Any], total: int | None) -> None:
        profiles: dict[str, SpendProfile] = {}
        for raw in records:
            self._spend_seen += 1
            where = f"spend#{self._spend_seen}"
            profile = parse_spend(raw, where, self.sink)
            if profile is None:
                self._unreadable.append(where)
            elif profile.user_id in profiles:
                self._duplicate(profile.user_id)
            else:
                profiles[profile.user_id] = profile
        for uid in self._stored(profiles):
            del profiles[uid]
            self._duplicate(uid)
        self._insert(spend_rows(profiles.values()))
        if self.progress is not None:
            self.progress("spend", self._spend_seen, total)

    def _duplicate(self, uid: str) -> None:
        self.sink.add(IssueKind.DUPLICATE_ID, uid, "Spend returned this id twice")

    def _stored(self, profiles: dict[str, SpendProfile]) -> list[str]:
        """The ids of ``profiles`` an earlier page already wrote (in this page's order)."""
        if not profiles:
            return []
        marks = ", ".join("?" * len(profiles))
        found = {
            r[0]
            for r in self.db.execute(
                f"SELECT user_id FROM profiles WHERE snapshot_id = ? AND user_id IN ({marks})",  # noqa: S608
                (self.snap, *profiles),
            )
        }
        return [uid for uid in profiles if uid in found]

    def _insert(self, tables: dict[str, list[Row]]) -> None:
        with store.transaction(self.db):
            for table, rows in tables.items():
                store.insert(self.db, table, self.snap, rows)

    def check_complete(self) -> None:
        """A record with no usable id (not an object, or no ``id``) is a user, or a user's
        roles, that cannot be placed: pushing without it would delete that user or those
        roles in Veza, so the run fails closed instead (design.md §3.3)."""
        if self._unreadable:
            raise IncompleteDiscovery(
                f"Discovery could not read {len(self._unreadable)} Concur record(s) that have "
                f"no usable id (first at {self._unreadable[0]})",
                "nothing was pushed; run again, and if it persists report it to SAP Concur "
                "support with the run's log (-v)",
            )

    # -- after the last page ------------------------------------------------------------------

    def join(self) -> None:
        """The checks of discovery's join, in SQL (``review.store.join``)."""
        with store.transaction(self.db):
            store.join(self.db, self.snap, self.sink)

    def company(self, company_id: str | None, geolocation: str) -> Company:
        """The company: the token's, else the ``companyId`` most users carry."""
        found = company_id or store.common_company_id(self.db, self.snap) or "unknown"
        return Company(id=found, geolocation=geolocation, name=self.organization)

    def issues(self) -> list[DataIssue]:
        """Discovery's issues so far (bounded: the first 1,000 per kind and a count)."""
        return self.sink.issues()

    def complete(
        self, company: Company, stats: RunStats | None, found: Iterable[DataIssue]
    ) -> Figures:
        """Record the issues (discovery's, then ``found``), the figures, and flip to complete."""
        with store.transaction(self.db):
            rows = [issue_row(i) for i in [*self.sink.issues(), *found]]
            store.insert(self.db, "issues", self.snap, rows)
            figures = store.figures(self.db, self.snap)
            self.db.execute(store.FLIP, _flip_values(self.snap, company, stats, figures))
        self.completed = True
        return figures


def _organization(raw: Any) -> str | None:
    ext = raw.get(ENTERPRISE) if isinstance(raw, dict) else None
    name = ext.get("organization") if isinstance(ext, dict) else None
    return name if isinstance(name, str) and name else None


def _flip_values(
    snap: int, company: Company, stats: RunStats | None, figures: Figures
) -> dict[str, Any]:
    taken = stats.started_at if stats else datetime.now().astimezone()
    return {
        "id": snap,
        "taken_at": taken.isoformat(),
        "company_id": company.id,
        "company_name": company.name,
        "geolocation": company.geolocation,
        "user_count": figures.users,
        "duration_s": stats.duration_s if stats else None,
        "stats": stats_json(stats, dataclasses.asdict(figures)),
        "grant_count": figures.spend_grants,
        "issue_count": figures.issues,
    }
