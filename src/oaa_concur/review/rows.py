"""Rows of the snapshot tables from a ``DiscoveryResult`` and back, with no loss.

Datetimes are stored as ISO 8601 text with their offset; tuples of strings as JSON arrays;
booleans as 0/1 (None stays NULL). Row order is insertion order, so ``load`` gives the lists
back in the order they were recorded.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import orjson

from oaa_concur.models import (
    ApproverEdge,
    Company,
    DataIssue,
    DelegateEdge,
    DiscoveryResult,
    Email,
    IssueKind,
    RoleGrant,
    RunStats,
    SpendProfile,
    User,
)

Row = tuple[Any, ...]


def _json(value: Any) -> str:
    """Compact JSON text (orjson: ~10x faster than ``json.dumps`` on 100,000 users' lists);
    read back with any JSON parser, so older snapshots written by ``json.dumps`` still load."""
    return orjson.dumps(value).decode()


def result_rows(result: DiscoveryResult) -> dict[str, list[Row]]:
    """Rows per child table (without the snapshot id column)."""
    profiles = result.spend.values()
    return {
        "users": [_user_row(u) for u in result.users],
        "profiles": [(p.user_id, _bool(p.non_employee), _bool(p.test_employee)) for p in profiles],
        "grants": [
            (p.user_id, g.role_code, _json(g.role_groups)) for p in profiles for g in p.roles
        ],
        "approvers": [
            (a.user_id, a.approver_id, a.kind, int(a.primary))
            for p in profiles
            for a in p.approvers
        ],
        "delegates": [
            (
                d.user_id,
                d.delegate_id,
                d.kind,
                _json(d.permissions),
                _iso(d.temporary_from),
                _iso(d.temporary_to),
            )
            for p in profiles
            for d in p.delegates
        ],
        "issues": [(str(i.kind), i.subject, i.detail) for i in result.issues],
    }


def _user_row(u: User) -> Row:
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
    )


def rows_to_result(head: Row, tables: dict[str, list[Row]]) -> DiscoveryResult:
    """Rebuild the result from the ``snapshots`` row and the child rows (snapshot id first)."""
    company_id, geolocation, company_name, stats = head
    profiles = _profiles(tables)
    return DiscoveryResult(
        company=Company(id=company_id, geolocation=geolocation, name=company_name),
        users=[_user(r[1:]) for r in tables["users"]],
        spend=profiles,
        issues=[DataIssue(IssueKind(r[1]), r[2], r[3]) for r in tables["issues"]],
        stats=_stats(stats),
    )


def _user(r: Sequence[Any]) -> User:
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
    )


def _profiles(tables: dict[str, list[Row]]) -> dict[str, SpendProfile]:
    parts: dict[str, dict[str, list[Any]]] = {
        r[1]: {"roles": [], "approvers": [], "delegates": []} for r in tables["profiles"]
    }
    for r in tables["grants"]:
        parts[r[1]]["roles"].append(RoleGrant(r[2], tuple(orjson.loads(r[3]))))
    for r in tables["approvers"]:
        parts[r[1]]["approvers"].append(ApproverEdge(r[1], r[2], r[3], bool(r[4])))
    for r in tables["delegates"]:
        parts[r[1]]["delegates"].append(
            DelegateEdge(r[1], r[2], r[3], tuple(orjson.loads(r[4])), _dt(r[5]), _dt(r[6]))
        )
    flags = {r[1]: (r[2], r[3]) for r in tables["profiles"]}
    return {
        uid: SpendProfile(
            uid,
            tuple(p["roles"]),
            tuple(p["approvers"]),
            tuple(p["delegates"]),
            _opt_bool(flags[uid][0]),
            _opt_bool(flags[uid][1]),
        )
        for uid, p in parts.items()
    }


def _stats(text: str | None) -> RunStats | None:
    if text is None:
        return None
    data = orjson.loads(text)
    data["started_at"] = datetime.fromisoformat(data["started_at"])
    data["granted_scopes"] = tuple(data["granted_scopes"])
    return RunStats(**data)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _dt(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value is not None else None


def _bool(value: bool | None) -> int | None:
    return None if value is None else int(value)


def _opt_bool(value: int | None) -> bool | None:
    return None if value is None else bool(value)
