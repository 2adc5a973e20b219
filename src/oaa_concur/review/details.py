"""The access details an auditor reads beside the grants: pure functions, ``now`` injected,
one person at a time (the report walks the snapshot; ``Directory`` names everyone else).

* Delegations outside their window (``expired``, ``scheduled``): not access, so not in the
  payload, but shown with their dates so that nothing is hidden (design.md §4).
* Unknown references: a manager, ``biManager``, approver or delegate that Identity does not
  list (or an employee number it cannot place); never published (``concur.references``).
* Approval limits (the ApproverLimit extension: authorized and cost-object approvers).
* Processor report access (``processorReportAccess``) of every holder of a processor role and
  of every user with a value (the docs' examples set it on users with no processor role).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime

from oaa_concur.catalogue import PROCESSOR_ROLES, report_access_meaning
from oaa_concur.models import ApprovalLimit, DelegateEdge, SpendProfile, UnknownReference, User
from oaa_concur.review.findings import Directory


@dataclass(frozen=True, slots=True)
class DelegationRow:
    user_id: str
    user: str
    delegate_id: str
    delegate: str
    kind: str
    state: str
    """``expired`` or ``scheduled``."""
    starts: str
    ends: str
    permissions: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ReferenceRow:
    user_id: str
    user: str
    relation: str
    kind: str
    target: str
    reason: str


@dataclass(frozen=True, slots=True)
class LimitRow:
    user_id: str
    user: str
    holder: str
    approval_type: str
    limit: float | None
    currency: str
    group: str
    level: int | None
    exception_authority: bool
    text: str


@dataclass(frozen=True, slots=True)
class ProcessorRow:
    user_id: str
    user: str
    roles: tuple[str, ...]
    report_access: str
    """``processorReportAccess`` as sent ("" when absent or null)."""
    meaning: str


def person_details(
    user: User, profile: SpendProfile, directory: Directory, now: datetime
) -> tuple[list[DelegationRow], list[LimitRow], list[ProcessorRow]]:
    """One user's delegations outside their window, approval limits and processor access."""
    delegations = [
        _delegation_row(edge, state, directory)
        for edge in profile.delegates
        if (state := edge.state(now)) != "in_force"
    ]
    limits = [_limit_row(x, user) for x in profile.approval_limits]
    return delegations, limits, _processor(user, profile)


def reference_rows(
    refs: Iterable[UnknownReference], directory: Directory
) -> Iterator[ReferenceRow]:
    for r in refs:
        yield ReferenceRow(
            r.user_id, _name(directory, r.user_id), r.relation, r.kind, r.target, r.reason
        )


def _name(directory: Directory, user_id: str) -> str:
    user = directory.user(user_id)
    return user.name if user else user_id


def _day(value: datetime | None) -> str:
    return value.isoformat() if value is not None else ""


def _delegation_row(edge: DelegateEdge, state: str, directory: Directory) -> DelegationRow:
    return DelegationRow(
        user_id=edge.user_id,
        user=_name(directory, edge.user_id),
        delegate_id=edge.delegate_id,
        delegate=_name(directory, edge.delegate_id),
        kind=edge.kind,
        state=state,
        starts=_day(edge.temporary_from),
        ends=_day(edge.temporary_to),
        permissions=edge.permissions,
    )


def _limit_row(x: ApprovalLimit, user: User) -> LimitRow:
    return LimitRow(
        user_id=x.user_id,
        user=user.name if user.id == x.user_id else x.user_id,
        holder=x.holder,
        approval_type=x.approval_type or "",
        limit=x.limit,
        currency=x.currency or "",
        group=x.group or "Global",
        level=x.level,
        exception_authority=x.exception_authority,
        text=x.text(),
    )


def _processor(user: User, profile: SpendProfile) -> list[ProcessorRow]:
    roles = tuple(sorted({g.role_code for g in profile.roles} & PROCESSOR_ROLES))
    value = profile.processor_report_access
    if not (roles or value is not None):
        return []
    return [
        ProcessorRow(
            user_id=profile.user_id,
            user=user.name,
            roles=roles,
            report_access=value or "",
            meaning=report_access_meaning(value),
        )
    ]
