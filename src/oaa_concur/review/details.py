"""The access details an auditor reads beside the grants: pure functions, ``now`` injected.

* Delegations outside their window (``expired``, ``scheduled``): not access, so not in the
  payload, but shown with their dates so that nothing is hidden (design.md §4).
* Unknown references: a manager, ``biManager``, approver or delegate that Identity does not
  list (or an employee number it cannot place); never published (``concur.references``).
* Approval limits (the ApproverLimit extension: authorized and cost-object approvers).
* Processor report access (``processorReportAccess``) of every holder of a processor role and
  of every user with a value (the docs' examples set it on users with no processor role).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from oaa_concur.catalogue import PROCESSOR_ROLES, report_access_meaning
from oaa_concur.models import ApprovalLimit, DelegateEdge, DiscoveryResult, User


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


@dataclass(frozen=True, slots=True)
class Details:
    delegations: tuple[DelegationRow, ...]
    references: tuple[ReferenceRow, ...]
    limits: tuple[LimitRow, ...]
    processors: tuple[ProcessorRow, ...]

    def to_json(self) -> dict[str, list[dict[str, Any]]]:
        return {
            "delegations_out_of_window": [asdict(r) for r in self.delegations],
            "unknown_references": [asdict(r) for r in self.references],
            "approval_limits": [asdict(r) for r in self.limits],
            "processor_report_access": [asdict(r) for r in self.processors],
        }


def details(result: DiscoveryResult, now: datetime) -> Details:
    names = {u.id: u for u in result.users}
    return Details(
        delegations=tuple(_delegations(result, names, now)),
        references=tuple(
            ReferenceRow(r.user_id, _name(names, r.user_id), r.relation, r.kind, r.target, r.reason)
            for r in result.unknown_references
        ),
        limits=tuple(
            _limit_row(x, names) for p in result.spend.values() for x in p.approval_limits
        ),
        processors=tuple(_processors(result, names)),
    )


def _name(users: dict[str, User], user_id: str) -> str:
    user = users.get(user_id)
    return user.name if user else user_id


def _day(value: datetime | None) -> str:
    return value.isoformat() if value is not None else ""


def _delegations(
    result: DiscoveryResult, users: dict[str, User], now: datetime
) -> Iterator[DelegationRow]:
    for profile in result.spend.values():
        for edge in profile.delegates:
            state = edge.state(now)
            if state != "in_force":
                yield _delegation_row(edge, state, users)


def _delegation_row(edge: DelegateEdge, state: str, users: dict[str, User]) -> DelegationRow:
    return DelegationRow(
        user_id=edge.user_id,
        user=_name(users, edge.user_id),
        delegate_id=edge.delegate_id,
        delegate=_name(users, edge.delegate_id),
        kind=edge.kind,
        state=state,
        starts=_day(edge.temporary_from),
        ends=_day(edge.temporary_to),
        permissions=edge.permissions,
    )


def _limit_row(x: ApprovalLimit, users: dict[str, User]) -> LimitRow:
    return LimitRow(
        user_id=x.user_id,
        user=_name(users, x.user_id),
        holder=x.holder,
        approval_type=x.approval_type or "",
        limit=x.limit,
        currency=x.currency or "",
        group=x.group or "Global",
        level=x.level,
        exception_authority=x.exception_authority,
        text=x.text(),
    )


def _processors(result: DiscoveryResult, users: dict[str, User]) -> Iterator[ProcessorRow]:
    for profile in result.spend.values():
        roles = tuple(sorted({g.role_code for g in profile.roles} & PROCESSOR_ROLES))
        value = profile.processor_report_access
        if roles or value is not None:
            yield ProcessorRow(
                user_id=profile.user_id,
                user=_name(users, profile.user_id),
                roles=roles,
                report_access=value or "",
                meaning=report_access_meaning(value),
            )
