"""The report's tables, one row at a time: grants (the review sheet), approvers, delegates and
findings, each with its column names (the CSV's header, the XLSX sheet's first row).

The grants table is the contract with ``oaa-concur review import`` (issue 14): a reviewer's
decision is keyed by (``snapshot_id``, ``user_id``, ``role_code``) and written into
``review_decision`` (``keep`` or ``revoke``), ``review_reviewer`` and ``review_comment``, which
the report leaves empty. ``severity`` is the highest severity among the row's findings that are
not exempted ("" when none).
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any, Literal, get_args

from oaa_concur.catalogue import RoleInfo, entitlement_role, role_info
from oaa_concur.models import DelegateEdge, SpendProfile, User
from oaa_concur.review.findings import Directory, Finding
from oaa_concur.review.snapshot import SnapshotInfo

Status = Literal["active", "inactive", "terminated-active"]
Table = Literal["grants", "approvers", "delegates", "findings"]
TABLES: tuple[Table, ...] = get_args(Table)
"""The tables of a report: ``--format csv --table NAME`` writes one, XLSX one sheet each."""


def status(user: User, now: datetime) -> Status:
    """``active``, ``inactive``, or ``terminated-active`` (active past the termination date)."""
    if not user.active:
        return "inactive"
    return "terminated-active" if user.terminated(now) else "active"


def status_of(user: User | None, now: datetime) -> str:
    """``status``, or ``unknown`` for someone Identity does not list."""
    return status(user, now) if user is not None else "unknown"


def day(value: datetime | None) -> str:
    return value.date().isoformat() if value is not None else ""


@dataclass(frozen=True, slots=True)
class Stamp:
    """The snapshot columns every row starts with ("" when the data is not from the store)."""

    snapshot_id: str
    snapshot_time: str

    @classmethod
    def of(cls, info: SnapshotInfo | None) -> Stamp:
        if info is None:
            return cls("", "")
        return cls(str(info.id), info.taken_at.isoformat())


@dataclass(frozen=True, slots=True)
class GrantRow:
    """One user-role grant with the reviewer columns. Field order is the CSV's column order."""

    snapshot_id: str
    snapshot_time: str
    user_id: str
    user_name: str
    display_name: str
    email: str
    status: Status
    employee_number: str
    department: str
    cost_center: str
    termination_date: str
    manager_id: str
    manager_name: str
    role_code: str
    role_name: str
    product: str
    scope: str
    privileged: bool
    severity: str
    findings: str
    """Ids of the user's findings that concern this grant, space-separated."""
    review_decision: str = ""
    review_reviewer: str = ""
    review_comment: str = ""

    def cells(self) -> dict[str, str]:
        """The row as text, by column (``privileged`` as ``yes``/``no``)."""
        return {name: text(getattr(self, name)) for name in GRANT_COLUMNS}


GRANT_COLUMNS: tuple[str, ...] = tuple(f.name for f in fields(GrantRow))
APPROVER_COLUMNS = (
    "snapshot_id",
    "snapshot_time",
    "user_id",
    "user",
    "user_email",
    "user_status",
    "approver_id",
    "approver",
    "approver_email",
    "approver_status",
    "kind",
    "primary",
)
"""``approver_id`` approves ``user_id``'s items of ``kind`` (Spend Approver extension)."""
DELEGATE_COLUMNS = (
    "snapshot_id",
    "snapshot_time",
    "user_id",
    "user",
    "user_status",
    "delegate_id",
    "delegate",
    "delegate_email",
    "delegate_status",
    "kind",
    "permissions",
    "can_approve",
    "state",
    "starts",
    "ends",
)
"""``delegate_id`` acts for ``user_id`` in ``kind``; ``state``: in_force, expired, scheduled."""
FINDING_COLUMNS = (
    "snapshot_id",
    "snapshot_time",
    "id",
    "rule",
    "severity",
    "title",
    "explanation",
    "user_ids",
    "role_codes",
    "exemption",
)
COLUMNS = {
    "grants": GRANT_COLUMNS,
    "approvers": APPROVER_COLUMNS,
    "delegates": DELEGATE_COLUMNS,
    "findings": FINDING_COLUMNS,
}


def text(value: object) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def grants_of(user: User, profile: SpendProfile | None) -> list[tuple[RoleInfo, tuple[str, ...]]]:
    """Product entitlements first, then Spend roles with their role groups."""
    grants: list[tuple[RoleInfo, tuple[str, ...]]] = [
        (entitlement_role(e), ()) for e in user.entitlements
    ]
    if profile:
        grants += [(role_info(g.role_code), g.role_groups) for g in profile.roles]
    return grants


def scope(groups: tuple[str, ...]) -> str:
    return "role groups: " + ", ".join(groups) if groups else "company-wide"


def approver_cells(
    user: User, profile: SpendProfile, d: Directory, now: datetime
) -> list[list[Any]]:
    """The user's approver edges, without the snapshot columns."""
    out: list[list[Any]] = []
    for edge in profile.approvers:
        other = d.user(edge.approver_id)
        out.append(
            [
                user.id,
                user.name,
                user.email or "",
                status(user, now),
                edge.approver_id,
                other.name if other else "",
                (other.email or "") if other else "",
                status_of(other, now),
                edge.kind,
                text(edge.primary),
            ]
        )
    return out


def delegate_cells(
    user: User, profile: SpendProfile, d: Directory, now: datetime
) -> list[list[Any]]:
    """The user's delegate edges (every state), without the snapshot columns."""
    return [_delegate(user, edge, d.user(edge.delegate_id), now) for edge in profile.delegates]


def _delegate(user: User, edge: DelegateEdge, other: User | None, now: datetime) -> list[Any]:
    return [
        user.id,
        user.name,
        status(user, now),
        edge.delegate_id,
        other.name if other else "",
        (other.email or "") if other else "",
        status_of(other, now),
        edge.kind,
        " ".join(edge.permissions),
        text(edge.can_approve),
        edge.state(now),
        edge.temporary_from.isoformat() if edge.temporary_from else "",
        edge.temporary_to.isoformat() if edge.temporary_to else "",
    ]


def finding_cells(f: Finding) -> list[str]:
    """A finding as a findings-table row, without the snapshot columns."""
    ex = f.exemption
    return [
        f.id,
        f.rule,
        f.severity,
        f.title,
        f.explanation,
        " ".join(f.user_ids),
        " ".join(f.role_codes),
        f"exempted until {ex.expires.isoformat()}: {ex.reason}" if ex else "",
    ]
