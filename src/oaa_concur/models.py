"""Typed records at the boundary: what discovery produces and every sink (OAA, snapshot) consumes.

Raw Concur JSON never travels past the parsers in ``oaa_concur.concur``: they turn each
Identity or Spend record into these frozen dataclasses, and record anything odd as a
``DataIssue`` instead of failing the run (design.md §3.7).

All datetimes are timezone-aware UTC. Ids are Concur user UUIDs exactly as Concur sends them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Protocol


@dataclass(frozen=True, slots=True)
class Email:
    """One entry of the SCIM ``emails`` list (types: work, home, work2, other, other2)."""

    value: str
    type: str | None = None


@dataclass(frozen=True, slots=True)
class User:
    """One Concur Identity v4.1 user (core + enterprise extension)."""

    id: str
    user_name: str | None = None
    display_name: str | None = None
    active: bool = False
    emails: tuple[Email, ...] = ()
    external_id: str | None = None
    employee_number: str | None = None
    cost_center: str | None = None
    department: str | None = None
    division: str | None = None
    company_id: str | None = None
    manager_id: str | None = None
    start_date: datetime | None = None
    termination_date: datetime | None = None
    created_at: datetime | None = None
    last_modified_at: datetime | None = None
    entitlements: tuple[str, ...] = ()
    """Products the user may use (Expense, Invoice, Request, Travel, ...), as Concur spells them."""

    @property
    def email(self) -> str | None:
        """The ``work`` email, else the first one, else None."""
        for e in self.emails:
            if e.type == "work":
                return e.value
        return self.emails[0].value if self.emails else None

    @property
    def name(self) -> str:
        """What a person calls this user: displayName, else userName, else the id."""
        return self.display_name or self.user_name or self.id

    def terminated(self, now: datetime) -> bool:
        """The termination date is set and has passed at ``now`` (whatever ``active`` says)."""
        return self.termination_date is not None and self.termination_date <= now


@dataclass(frozen=True, slots=True)
class RoleGrant:
    """A Concur Spend role held by a user, optionally scoped to role groups.

    ``role_groups`` is empty for a company-wide grant; Concur sends that as an absent
    ``roleGroups``, ``[]`` or ``[""]``, which the parser normalises to ``()``.
    """

    role_code: str
    role_groups: tuple[str, ...] = ()

    @property
    def company_wide(self) -> bool:
        return not self.role_groups


@dataclass(frozen=True, slots=True)
class ApproverEdge:
    """``approver_id`` approves ``user_id``'s items of ``kind`` (Spend Approver extension key:
    report, cashAdvance, request, invoice, purchaseRequest, statement, budget)."""

    user_id: str
    approver_id: str
    kind: str
    primary: bool = False


@dataclass(frozen=True, slots=True)
class DelegateEdge:
    """``delegate_id`` acts for ``user_id`` in ``kind`` (expense, payment, purchaseRequest).

    ``permissions`` holds the names of the true ``can*`` flags (``canApprove``, ``canSubmit``...).
    """

    user_id: str
    delegate_id: str
    kind: str
    permissions: tuple[str, ...] = ()
    temporary_from: datetime | None = None
    temporary_to: datetime | None = None

    @property
    def can_approve(self) -> bool:
        return "canApprove" in self.permissions


@dataclass(frozen=True, slots=True)
class SpendProfile:
    """One Spend User v4.1 record: roles, approvers, delegates and a few user flags."""

    user_id: str
    roles: tuple[RoleGrant, ...] = ()
    approvers: tuple[ApproverEdge, ...] = ()
    delegates: tuple[DelegateEdge, ...] = ()
    non_employee: bool | None = None
    test_employee: bool | None = None


class IssueKind(StrEnum):
    """Kinds of bad data that are counted and reported, never fatal (design.md §3.7)."""

    UNKNOWN_ROLE_CODE = "unknown_role_code"
    UNPARSEABLE_VALUE = "unparseable_value"
    MISSING_EMAIL = "missing_email"
    ORPHAN_SPEND_RECORD = "orphan_spend_record"
    NO_SPEND_PROFILE = "no_spend_profile"
    TRUNCATED_STRING = "truncated_string"
    MALFORMED_RECORD = "malformed_record"
    DUPLICATE_ID = "duplicate_id"
    UNKNOWN_REFERENCE = "unknown_reference"


@dataclass(frozen=True, slots=True)
class DataIssue:
    kind: IssueKind
    subject: str
    """The user id, role code or record index the issue is about."""
    detail: str


@dataclass(frozen=True, slots=True)
class Company:
    id: str
    """Company UUID (``sub`` of the company token, or ``companyId`` on users)."""
    geolocation: str
    name: str | None = None

    @property
    def display_name(self) -> str:
        return self.name or self.id


@dataclass(slots=True)
class RunStats:
    """Counters of one discovery run, for the summary line, the snapshot and the benchmark."""

    started_at: datetime
    duration_s: float = 0.0
    requests: int = 0
    token_requests: int = 0
    identity_pages: int = 0
    spend_pages: int = 0
    retries: int = 0
    granted_scopes: tuple[str, ...] = ()


@dataclass(slots=True)
class DiscoveryResult:
    """Everything one complete discovery read. Feeds the OAA builder and the snapshot alike."""

    company: Company
    users: list[User]
    spend: dict[str, SpendProfile]
    """Spend profiles by user id, only those whose id matched an Identity user."""
    issues: list[DataIssue] = field(default_factory=list)
    stats: RunStats | None = None

    def __repr__(self) -> str:
        """Counts, not records: on Python 3.11 ``asyncio.run`` repr()s its main task, and with
        it the task's result (a 100,000-user result would take seconds of CPU)."""
        return (
            f"DiscoveryResult(company={self.company.id!r}, users={len(self.users)}, "
            f"spend={len(self.spend)}, issues={len(self.issues)})"
        )


class ProgressCallback(Protocol):
    """Told how far a long phase got: ``phase`` ("identity", "spend"), records done, total if
    known. Discovery calls it after each page; the CLI draws it (design.md §2.1)."""

    def __call__(self, phase: str, done: int, total: int | None) -> None: ...
