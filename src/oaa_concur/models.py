"""Typed records at the boundary: what discovery produces and every sink (OAA, snapshot) consumes.

Raw Concur JSON never travels past the parsers in ``oaa_concur.concur``: they turn each
Identity or Spend record into these frozen dataclasses, and record anything odd as a
``DataIssue`` instead of failing the run (design.md §3.7).

All datetimes are timezone-aware UTC. Ids are Concur user UUIDs exactly as Concur sends them.
"""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Literal, Protocol


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
    """The manager's Identity id. After discovery's join it is always an Identity user (a
    manager named only by ``employeeNumber`` is resolved, an unknown one is dropped and listed
    as an ``UnknownReference``)."""
    start_date: datetime | None = None
    termination_date: datetime | None = None
    created_at: datetime | None = None
    last_modified_at: datetime | None = None
    entitlements: tuple[str, ...] = ()
    """Products the user may use (Expense, Invoice, Request, Travel, ...), as Concur spells them."""
    manager_employee_number: str | None = None
    """``manager.employeeNumber`` as Concur sent it (the reference may name the manager by it)."""

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
    report, cashAdvance, request, invoice, purchaseRequest, statement, budget).

    Concur's ``approver`` is a UserReference (``value`` and/or ``employeeNumber``, SPEND41
    "User Reference"). The parser puts ``value`` in ``approver_id`` ("" when only the number
    was sent); discovery's join resolves the number through Identity, so after it
    ``approver_id`` is always an Identity user id (edges to nobody are dropped and listed as
    ``UnknownReference``s). ``primary``: SPEND41 "Spend Approver" ("Only Report and Request
    support non-primary approver"); the parser reads an absent flag as primary.
    """

    user_id: str
    approver_id: str
    kind: str
    primary: bool = False
    approver_employee_number: str | None = None


DelegationState = Literal["in_force", "expired", "scheduled"]


@dataclass(frozen=True, slots=True)
class DelegateEdge:
    """``delegate_id`` acts for ``user_id`` in ``kind`` (expense, payment, purchaseRequest).

    ``permissions`` holds the names of the true ``can*`` flags (``canApprove``, ``canSubmit``...,
    SPEND41 "Spend Delegate"). ``temporary_from``/``temporary_to`` are the window of a
    ``temporaryDelegation`` (SPEND41 "Temporary Delegate"); a delegation outside its window is
    not access (``state``). The reference is resolved like ``ApproverEdge``'s.
    """

    user_id: str
    delegate_id: str
    kind: str
    permissions: tuple[str, ...] = ()
    temporary_from: datetime | None = None
    temporary_to: datetime | None = None
    delegate_employee_number: str | None = None

    @property
    def can_approve(self) -> bool:
        return "canApprove" in self.permissions

    @property
    def temporary(self) -> bool:
        return self.temporary_from is not None or self.temporary_to is not None

    def state(self, now: datetime | None) -> DelegationState:
        """``in_force``, ``expired`` (its window ended before ``now``) or ``scheduled`` (its
        window starts after ``now``); both ends are inclusive, compared as aware UTC datetimes.

        The docs bound only "the delegate's temporary approval permission" by these dates
        (SPEND41 "Temporary Delegate"); we treat the whole delegation as not in force outside
        its window (design.md §4). ``now`` None (a result with no time of discovery) cannot
        place a window: a temporary delegation is then ``scheduled``, never in force.
        """
        if not self.temporary:
            return "in_force"
        if now is None:
            return "scheduled"
        now = _utc(now)
        if self.temporary_to is not None and now > _utc(self.temporary_to):
            return "expired"
        if self.temporary_from is not None and now < _utc(self.temporary_from):
            return "scheduled"
        return "in_force"


def _utc(value: datetime) -> datetime:
    """An aware datetime as is; a naive one taken as UTC (Concur's examples end in ``Z``)."""
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


LimitHolder = Literal["authorizedApprover", "costObjectApprover"]


@dataclass(frozen=True, slots=True)
class ApprovalLimit:
    """One "Spend Approver Limit Config" of the ApproverLimit extension (SPEND41 "Approver Limit
    Extension"): ``user_id`` may approve ``approval_type`` items up to ``limit`` ``currency`` in
    ``group`` ("" = the global group), at ``level`` of the sequence."""

    user_id: str
    holder: str
    """``authorizedApprover`` or ``costObjectApprover``: the list the config was in."""
    approval_type: str | None = None
    """``report``/``payment``/``request``/``purchaseRequest`` (UPS writes ``expense``)."""
    limit: float | None = None
    currency: str | None = None
    group: str = ""
    level: int | None = None
    exception_authority: bool = False

    def text(self) -> str:
        """One line a reviewer reads: ``authorizedApprover: report up to 5000 USD in group
        Global, level 1, with exception authority``."""
        amount = "no limit given" if self.limit is None else f"up to {_amount(self.limit)}"
        parts = [f"{self.holder}: {self.approval_type or 'any type'} {amount}"]
        if self.limit is not None and self.currency:
            parts[0] += f" {self.currency}"
        parts[0] += f" in group {self.group or 'Global'}"
        if self.level is not None:
            parts.append(f"level {self.level}")
        if self.exception_authority:
            parts.append("with exception authority")
        return ", ".join(parts)


def _amount(value: float) -> str:
    """``5000.0`` -> ``5000``, ``0.5`` -> ``0.5``, ``999999999999999.1`` as written (repr keeps
    every digit a double holds)."""
    text = repr(value)
    return text[:-2] if text.endswith(".0") else text


@dataclass(frozen=True, slots=True)
class SpendProfile:
    """One Spend User v4.1 record: roles, approvers, delegates, limits and a few user fields."""

    user_id: str
    roles: tuple[RoleGrant, ...] = ()
    approvers: tuple[ApproverEdge, ...] = ()
    delegates: tuple[DelegateEdge, ...] = ()
    non_employee: bool | None = None
    test_employee: bool | None = None
    bi_manager_id: str | None = None
    """Spend User ``biManager`` (a UserReference), resolved like an approver."""
    bi_manager_employee_number: str | None = None
    processor_report_access: str | None = None
    """User Preference ``processorReportAccess``: None (absent or null) = "all reports excluding
    returned reports", ``COMPLETE`` = all including returned, ``RESTRICTED`` = only reports
    pending processor step and beyond (SPEND41 "User Preference Extension")."""
    approval_limits: tuple[ApprovalLimit, ...] = ()


Relation = Literal["manager", "bi_manager", "approver", "delegate"]


@dataclass(frozen=True, slots=True)
class UnknownReference:
    """A reference to a user that Identity does not list (or an employee number it cannot place):
    never published as an edge, always listed (data issue ``unknown_reference``)."""

    user_id: str
    """Whose record holds the reference."""
    relation: str
    """``manager``, ``bi_manager``, ``approver`` or ``delegate``."""
    kind: str
    """The approver or delegate kind (``report``, ``expense``, ...); "" for the managers."""
    value: str | None
    employee_number: str | None
    reason: str

    @property
    def target(self) -> str:
        """How the reference named its user: the id, else ``employeeNumber <n>``."""
        if self.value:
            return self.value
        return f"employeeNumber {self.employee_number}" if self.employee_number else "nobody"


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
    MISSPELT_KEY = "misspelt_key"
    """A documented misspelling read as the right key (``temporaryDelegatation``)."""


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
    deprecations: tuple[Deprecation, ...] = ()
    """Endpoints Concur marked deprecated during the run (``x-api-warn``/``Sunset``)."""
    limits_global_only: bool = False
    """Concur refused ``attributes`` on the Spend list: approval limits of the global group only."""


@dataclass(frozen=True, slots=True)
class Deprecation:
    """An endpoint answered with ``x-api-warn`` and/or ``Sunset`` (API release notes 2026-02-04
    and 2026-03-03, "API Deprecation Headers"). Texts are as Concur sent them (cut, printable)."""

    endpoint: str
    """What we called: ``GET /profile/spend/v4.1/Users``."""
    replacement: str | None = None
    """The ``use '...'`` part of ``x-api-warn``."""
    sunset: str | None = None
    """The ``Sunset`` date as ``YYYY-MM-DD``, or the header as sent when it is not a date."""
    warning: str | None = None
    """The whole ``x-api-warn`` text."""

    def line(self) -> str:
        """``GET /x is deprecated (use '/y', sunset 2026-09-01)``."""
        parts = [f"use '{self.replacement}'"] if self.replacement else []
        parts += [f"sunset {self.sunset}"] if self.sunset else []
        detail = f" ({', '.join(parts)})" if parts else ""
        return f"{self.endpoint} is deprecated{detail}"


@dataclass(slots=True)
class DiscoveryResult:
    """Everything one complete discovery read. Feeds the OAA builder and the snapshot alike."""

    company: Company
    users: list[User]
    spend: dict[str, SpendProfile]
    """Spend profiles by user id, only those whose id matched an Identity user."""
    issues: list[DataIssue] = field(default_factory=list)
    stats: RunStats | None = None
    unknown_references: list[UnknownReference] = field(default_factory=list)
    """Every reference the join could not place, in full (the issues keep the first 1,000)."""

    @property
    def as_of(self) -> datetime | None:
        """When discovery read the data (the run's start): temporary delegations are judged at
        this moment. None for a result with no run statistics."""
        return self.stats.started_at if self.stats else None

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


class PhaseCallback(Protocol):
    """Told that a phase without a record count begins (after fetching: "building the OAA
    payload", "recording the snapshot", "pushing to Veza"): the CLI shows a spinner named
    ``name`` (and clears the finished bars) until the returned context exits. The pipeline
    calls it through ``oaa_concur.phases.phase``, which also logs the phase's counts and
    duration at INFO; ``no_phase`` is the do-nothing default."""

    def __call__(self, name: str) -> AbstractContextManager[None]: ...


def no_phase(name: str) -> AbstractContextManager[None]:
    """A ``PhaseCallback`` that shows nothing (no terminal, JSON logs, tests)."""
    return nullcontext()
