"""Rows of the snapshot tables from a ``DiscoveryResult`` and back, with no loss.

Datetimes are stored as ISO 8601 text with their offset; tuples of strings as JSON arrays;
booleans as 0/1 (None stays NULL). Row order is insertion order, so ``load`` gives the lists
back in the order they were recorded. Columns added by a migration come last in their table
(``ALTER TABLE ... ADD COLUMN``), so each row tuple is in the table's column order; a row of a
snapshot older than the column reads it as NULL.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

import orjson

from oaa_concur.models import (
    ApprovalLimit,
    ApproverEdge,
    Company,
    DataIssue,
    DelegateEdge,
    Deprecation,
    DiscoveryResult,
    Email,
    IssueKind,
    RoleGrant,
    RunStats,
    SpendProfile,
    UnknownReference,
    User,
)

Row = tuple[Any, ...]


def _json(value: Any) -> str:
    """Compact JSON text (orjson: ~10x faster than ``json.dumps`` on 100,000 users' lists);
    read back with any JSON parser, so older snapshots written by ``json.dumps`` still load."""
    return orjson.dumps(value).decode()


SPEND_TABLES = ("profiles", "grants", "approvers", "delegates", "approval_limits")
"""The tables one Spend record is written to, in the order they are written."""


def result_rows(result: DiscoveryResult) -> dict[str, list[Row]]:
    """Rows per child table (without the snapshot id column)."""
    rows: dict[str, list[Row]] = {"users": [user_row(u) for u in result.users]}
    rows |= spend_rows(result.spend.values())
    rows["issues"] = [issue_row(i) for i in result.issues]
    rows["unknown_references"] = [reference_row(r) for r in result.unknown_references]
    return rows


def spend_rows(profiles: Iterable[SpendProfile]) -> dict[str, list[Row]]:
    """The rows of Spend records, by table (``SPEND_TABLES``)."""
    rows: dict[str, list[Row]] = {table: [] for table in SPEND_TABLES}
    for p in profiles:
        rows["profiles"].append(_profile_row(p))
        rows["grants"] += [(p.user_id, g.role_code, _json(g.role_groups)) for g in p.roles]
        rows["approvers"] += [
            (a.user_id, a.approver_id, a.kind, int(a.primary), a.approver_employee_number)
            for a in p.approvers
        ]
        rows["delegates"] += [_delegate_row(d) for d in p.delegates]
        rows["approval_limits"] += [_limit_row(x) for x in p.approval_limits]
    return rows


def issue_row(i: DataIssue) -> Row:
    return (str(i.kind), i.subject, i.detail)


def reference_row(r: UnknownReference) -> Row:
    return (r.user_id, r.relation, r.kind, r.value, r.employee_number, r.reason)


def issue_from(r: Row) -> DataIssue:
    """An ``issues`` row (snapshot id first) as a ``DataIssue``."""
    return DataIssue(IssueKind(r[1]), r[2], r[3])


def reference_from(r: Row) -> UnknownReference:
    """An ``unknown_references`` row (snapshot id first) as an ``UnknownReference``."""
    return UnknownReference(r[1], r[2], r[3], r[4], r[5], r[6])


def _profile_row(p: SpendProfile) -> Row:
    return (
        p.user_id,
        _bool(p.non_employee),
        _bool(p.test_employee),
        p.bi_manager_id,
        p.bi_manager_employee_number,
        p.processor_report_access,
    )


def _delegate_row(d: DelegateEdge) -> Row:
    return (
        d.user_id,
        d.delegate_id,
        d.kind,
        _json(d.permissions),
        _iso(d.temporary_from),
        _iso(d.temporary_to),
        d.delegate_employee_number,
    )


def _limit_row(x: ApprovalLimit) -> Row:
    return (
        x.user_id,
        x.holder,
        x.approval_type,
        x.limit,
        x.currency,
        x.group,
        x.level,
        int(x.exception_authority),
    )


def user_row(u: User) -> Row:
    emails = _json([[e.value, e.type] for e in u.emails])
    return (
        u.id,
        u.user_name,
        u.display_name,
        int(u.active),
        emails,
        u.external_id,
        u.employee_number,
        u.cost_center,
        u.department,
        u.division,
        u.company_id,
        u.manager_id,
        _iso(u.start_date),
        _iso(u.termination_date),
        _iso(u.created_at),
        _iso(u.last_modified_at),
        _json(u.entitlements),
        u.manager_employee_number,
    )


def rows_to_result(head: Row, tables: dict[str, list[Row]]) -> DiscoveryResult:
    """Rebuild the result from the ``snapshots`` row and the child rows (snapshot id first)."""
    company_id, geolocation, company_name, stats = head
    profiles = _profiles(tables)
    return DiscoveryResult(
        company=Company(id=company_id, geolocation=geolocation, name=company_name),
        users=[user_from(r[1:]) for r in tables["users"]],
        spend=profiles,
        issues=[issue_from(r) for r in tables["issues"]],
        stats=_stats(stats),
        unknown_references=[reference_from(r) for r in tables["unknown_references"]],
    )


def user_from(r: Sequence[Any]) -> User:
    """A ``users`` row without its snapshot id, as a ``User``."""
    return User(
        id=r[0],
        user_name=r[1],
        display_name=r[2],
        active=bool(r[3]),
        emails=tuple(Email(v, t) for v, t in orjson.loads(r[4])),
        external_id=r[5],
        employee_number=r[6],
        cost_center=r[7],
        department=r[8],
        division=r[9],
        company_id=r[10],
        manager_id=r[11],
        start_date=_dt(r[12]),
        termination_date=_dt(r[13]),
        created_at=_dt(r[14]),
        last_modified_at=_dt(r[15]),
        entitlements=tuple(orjson.loads(r[16])),
        manager_employee_number=r[17],
    )


def _profiles(tables: dict[str, list[Row]]) -> dict[str, SpendProfile]:
    children: dict[str, dict[str, list[Row]]] = {
        r[1]: {t: [] for t in SPEND_TABLES[1:]} for r in tables["profiles"]
    }
    for table in SPEND_TABLES[1:]:
        for r in tables[table]:
            children[r[1]][table].append(r)
    return {r[1]: profile_from(r, children[r[1]]) for r in tables["profiles"]}


def profile_from(r: Row, children: Mapping[str, Sequence[Row]]) -> SpendProfile:
    """A ``profiles`` row and its child rows by table (each row with its snapshot id first),
    as a ``SpendProfile``."""
    return SpendProfile(
        r[1],
        tuple(RoleGrant(g[2], tuple(orjson.loads(g[3]))) for g in children.get("grants", ())),
        tuple(
            ApproverEdge(a[1], a[2], a[3], bool(a[4]), a[5]) for a in children.get("approvers", ())
        ),
        tuple(
            DelegateEdge(d[1], d[2], d[3], tuple(orjson.loads(d[4])), _dt(d[5]), _dt(d[6]), d[7])
            for d in children.get("delegates", ())
        ),
        _opt_bool(r[2]),
        _opt_bool(r[3]),
        bi_manager_id=r[4],
        bi_manager_employee_number=r[5],
        processor_report_access=r[6],
        approval_limits=tuple(
            ApprovalLimit(x[1], x[2], x[3], x[4], x[5], x[6], x[7], bool(x[8]))
            for x in children.get("approval_limits", ())
        ),
    )


def _stats(text: str | None) -> RunStats | None:
    if text is None:
        return None
    data = orjson.loads(text)
    data.pop("figures", None)  # the snapshot's figures (``stored_figures``), not a RunStats field
    data["started_at"] = datetime.fromisoformat(data["started_at"])
    data["granted_scopes"] = tuple(data["granted_scopes"])
    data["deprecations"] = tuple(Deprecation(**d) for d in data.get("deprecations", ()))
    return RunStats(**data)


def stored_figures(text: str | None) -> dict[str, int] | None:
    """The figures ``stats_json`` stored beside the run's stats (``review.store.Figures`` as a
    dict); None for a snapshot recorded without them (before issue 15, or by ``record``)."""
    if text is None:
        return None
    found = orjson.loads(text).get("figures")
    return found if isinstance(found, dict) else None


def stats_json(stats: RunStats | None, figures: dict[str, int] | None = None) -> str | None:
    """The ``stats`` column: every field of ``RunStats``, read back by ``_stats``, and the
    snapshot's ``figures`` (read back by ``stored_figures``: the listing never counts rows)."""
    if stats is None:
        return None
    return _json(
        {
            **({"figures": figures} if figures is not None else {}),
            "started_at": stats.started_at.isoformat(),
            "duration_s": stats.duration_s,
            "requests": stats.requests,
            "token_requests": stats.token_requests,
            "identity_pages": stats.identity_pages,
            "spend_pages": stats.spend_pages,
            "retries": stats.retries,
            "granted_scopes": list(stats.granted_scopes),
            "deprecations": [dataclasses.asdict(d) for d in stats.deprecations],
            "limits_global_only": stats.limits_global_only,
        }
    )


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _dt(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value is not None else None


def _bool(value: bool | None) -> int | None:
    return None if value is None else int(value)


def _opt_bool(value: int | None) -> bool | None:
    return None if value is None else bool(value)
