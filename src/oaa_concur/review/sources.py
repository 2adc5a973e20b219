"""Where a report reads its snapshot from: the store (streamed) or a ``DiscoveryResult``.

A ``Source`` hands out the people (user + Spend record, one at a time, as often as a report
needs to walk them), a ``Directory`` for everyone else a row names (a manager, an approver, a
delegate), the data issues and the unknown references. ``StoreSource`` reads the snapshot
store through ``SnapshotReader`` (issue 12): memory stays bounded whatever the tenant, the
directory being an SQL lookup over the ``(snapshot_id, id)`` index with a bounded cache.
``ResultSource`` is the same over a result already in memory (tests, tools).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Protocol

from oaa_concur.models import Company, DataIssue, DiscoveryResult, SpendProfile, UnknownReference
from oaa_concur.models import User as User
from oaa_concur.review.findings import Directory, ResultDirectory, result_people
from oaa_concur.review.rows import user_from
from oaa_concur.review.snapshot import SnapshotInfo
from oaa_concur.review.store import SnapshotReader

CACHE_USERS = 8_192
"""Users the store directory keeps (about 1.5 KB each: some 12 MB): managers and approvers
are few and named by many, so most look-ups after the first are hits; a miss is one indexed
query."""


class Source(Protocol):
    """One snapshot as a report reads it."""

    company: Company
    snapshot: SnapshotInfo | None
    notes: tuple[str, ...]
    directory: Directory

    def people(self) -> Iterator[tuple[User, SpendProfile | None]]:
        """Every user with their Spend record (None: none); a fresh walk at each call."""

    def issues(self) -> list[DataIssue]:
        """The data issues (bounded when recorded: 1,000 per kind)."""

    def unknown_references(self) -> Iterator[UnknownReference]:
        """The references Identity could not place."""


class StoreDirectory:
    """``findings.Directory`` over one snapshot in the store: indexed SQL, bounded cache."""

    def __init__(self, reader: SnapshotReader) -> None:
        self.db, self.snap = reader.db, reader.snap
        self._user = lru_cache(maxsize=CACHE_USERS)(self._read_user)

    def user(self, user_id: str) -> User | None:
        return self._user(user_id)

    def _read_user(self, user_id: str) -> User | None:
        row = self.db.execute(
            "SELECT * FROM users WHERE snapshot_id = ? AND id = ?", (self.snap, user_id)
        ).fetchone()
        return user_from(row[1:]) if row is not None else None

    def approver_kinds(self, user_id: str, approver_id: str) -> list[str]:
        rows = self.db.execute(
            "SELECT kind FROM approvers WHERE snapshot_id = ? AND user_id = ? AND approver_id = ?"
            " ORDER BY rowid",
            (self.snap, user_id, approver_id),
        )
        return [r[0] for r in rows]


@dataclass
class StoreSource:
    """A complete snapshot of the store, read through an open ``SnapshotReader``."""

    reader: SnapshotReader
    company: Company
    snapshot: SnapshotInfo | None
    notes: tuple[str, ...]
    directory: Directory

    @classmethod
    def of(cls, reader: SnapshotReader, info: SnapshotInfo, notes: tuple[str, ...]) -> StoreSource:
        head = reader.db.execute(
            "SELECT company_id, geolocation, company_name FROM snapshots WHERE id = ?",
            (reader.snap,),
        ).fetchone()
        company = Company(id=head[0], geolocation=head[1], name=head[2])
        return cls(reader, company, info, notes, StoreDirectory(reader))

    def people(self) -> Iterator[tuple[User, SpendProfile | None]]:
        return self.reader.people()

    def issues(self) -> list[DataIssue]:
        return self.reader.issues()

    def unknown_references(self) -> Iterator[UnknownReference]:
        return self.reader.unknown_references()


@dataclass
class ResultSource:
    """A ``DiscoveryResult`` in memory as a source (people in the result's order)."""

    result: DiscoveryResult
    snapshot: SnapshotInfo | None
    notes: tuple[str, ...]
    directory: Directory
    company: Company

    @classmethod
    def of(
        cls, result: DiscoveryResult, snapshot: SnapshotInfo | None, notes: tuple[str, ...]
    ) -> ResultSource:
        return cls(result, snapshot, notes, ResultDirectory(result), result.company)

    def people(self) -> Iterator[tuple[User, SpendProfile | None]]:
        """In id order, as the store walks them (a report merges its walks by id)."""
        ordered = DiscoveryResult(
            self.result.company, sorted(self.result.users, key=lambda u: u.id), self.result.spend
        )
        return result_people(ordered)

    def issues(self) -> list[DataIssue]:
        return list(self.result.issues)

    def unknown_references(self) -> Iterator[UnknownReference]:
        return iter(self.result.unknown_references)
