"""Pure functions from raw Concur JSON to typed records; odd data is a DataIssue, never a crash.

Identity v4.1 users (``api-reference/profile/v4.1.identity.md`` "Schema") -> ``User``; Spend
User v4.1 records (``api-reference/user-provisioning/spend/v4.1.spend-user-retrieval.md``,
"SPEND41" below) -> ``SpendProfile``. Every field is type-checked, because any JSON value can
arrive where the docs promise another (the docs themselves show ``"active": "boolean"``
placeholders). Role codes are NOT judged here (the catalogue is elsewhere): they are kept
exactly as sent.

References to other users (manager, ``biManager``, approvers, delegates) are UserReferences:
``value`` (the UUID) and/or ``employeeNumber`` (SPEND41 "User Reference"). They are kept as
sent; discovery's join resolves them through Identity (``concur.references``).
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

from oaa_concur.concur.dates import parse_datetime
from oaa_concur.concur.issues import IssueSink
from oaa_concur.models import (
    ApprovalLimit,
    ApproverEdge,
    DelegateEdge,
    Email,
    IssueKind,
    RoleGrant,
    SpendProfile,
    User,
)

ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
SPEND_USER = "urn:ietf:params:scim:schemas:extension:spend:2.0:User"
SPEND_ROLE = "urn:ietf:params:scim:schemas:extension:spend:2.0:Role"
SPEND_APPROVER = "urn:ietf:params:scim:schemas:extension:spend:2.0:Approver"
SPEND_DELEGATE = "urn:ietf:params:scim:schemas:extension:spend:2.0:Delegate"
SPEND_APPROVER_LIMIT = "urn:ietf:params:scim:schemas:extension:spend:2.0:ApproverLimit"
SPEND_USER_PREFERENCE = "urn:ietf:params:scim:schemas:extension:spend:2.0:UserPreference"
DELEGATE_FLAGS = (
    "canApprove",
    "canPrepare",
    "canPrepareForApproval",
    "canReceiveApprovalEmail",
    "canReceiveEmail",
    "canSubmit",
    "canSubmitTravelRequest",
    "canUseBi",
    "canViewReceipt",
)
"""The nine flags of SPEND41 "Spend Delegate" (the same nine in the UPS page's table)."""
TEMPORARY = "temporaryDelegation"
TEMPORARY_MISSPELT = "temporaryDelegatation"
"""The spelling of the only documented example (spend-user-provisioning "Create ... POST")."""
_EMPTY: dict[str, Any] = {}


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else _EMPTY


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


class _Fields:
    """Typed reads of one record's fields; a wrong type is recorded once per field."""

    __slots__ = ("sink", "subject")

    def __init__(self, sink: IssueSink, subject: str) -> None:
        self.sink = sink
        self.subject = subject

    def text(self, value: Any, name: str) -> str | None:
        if value is None or isinstance(value, str):
            return value or None
        if isinstance(value, int | float) and not isinstance(value, bool):
            return str(value)  # e.g. an employeeNumber sent as a number
        self._bad(name, value)
        return None

    def flag(self, value: Any, name: str) -> bool | None:
        if value is None or isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        self._bad(name, value)
        return None

    def number(self, value: Any, name: str) -> float | None:
        """A JSON number, or a string holding one (``approvalLimit`` is a ``double``)."""
        number: float | None = None
        if isinstance(value, int | float) and not isinstance(value, bool):
            number = float(value)
        elif isinstance(value, str):
            try:
                number = float(value)
            except ValueError:
                number = None
        if number is not None and math.isfinite(number):
            return number
        if value is not None:
            self._bad(name, value)
        return None

    def integer(self, value: Any, name: str) -> int | None:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, str) and value.isascii() and value.isdigit():
            return int(value)
        if value is not None:
            self._bad(name, value)
        return None

    def date(self, value: Any, name: str) -> datetime | None:
        try:
            return parse_datetime(value)
        except ValueError:
            self._bad(name, value)
            return None

    def ref(self, value: Any, name: str) -> tuple[str | None, str | None]:
        """A UserReference's ``value`` and ``employeeNumber`` (either may be None)."""
        ref = _dict(value)
        return (
            self.text(ref.get("value"), f"{name}.value"),
            self.text(ref.get("employeeNumber"), f"{name}.employeeNumber"),
        )

    def _bad(self, name: str, value: Any) -> None:
        shown = repr(value)[:60]
        self.sink.add(IssueKind.UNPARSEABLE_VALUE, self.subject, f"{name}: {shown}")


def _record_id(raw: Any, index: str, sink: IssueSink, what: str) -> str | None:
    if not isinstance(raw, dict):
        sink.add(IssueKind.MALFORMED_RECORD, index, f"{what} record is not an object")
        return None
    rid = raw.get("id")
    if not isinstance(rid, str) or not rid:
        sink.add(IssueKind.MALFORMED_RECORD, index, f"{what} record has no id")
        return None
    return rid


def _emails(value: Any, f: _Fields) -> tuple[Email, ...]:
    emails = []
    for item in _list(value):
        address = f.text(_dict(item).get("value"), "emails.value")
        if address:
            emails.append(Email(address, f.text(_dict(item).get("type"), "emails.type")))
    return tuple(emails)


def _strings(value: Any, f: _Fields, name: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        f._bad(name, value)
        return ()
    return tuple(v for v in value if isinstance(v, str) and v)


def parse_user(raw: Any, index: str, sink: IssueSink) -> User | None:
    """One Identity v4.1 user; None (and a MALFORMED_RECORD issue) without an id."""
    uid = _record_id(raw, index, sink, "Identity")
    if uid is None:
        return None
    f = _Fields(sink, uid)
    ent = _dict(raw.get(ENTERPRISE))
    meta = _dict(raw.get("meta"))
    manager, manager_number = f.ref(ent.get("manager"), "manager")
    return User(
        id=uid,
        user_name=f.text(raw.get("userName"), "userName"),
        display_name=f.text(raw.get("displayName"), "displayName"),
        active=bool(f.flag(raw.get("active"), "active")),
        emails=_emails(raw.get("emails"), f),
        external_id=f.text(raw.get("externalId"), "externalId"),
        employee_number=f.text(ent.get("employeeNumber"), "employeeNumber"),
        cost_center=f.text(ent.get("costCenter"), "costCenter"),
        department=f.text(ent.get("department"), "department"),
        division=f.text(ent.get("division"), "division"),
        company_id=f.text(ent.get("companyId"), "companyId"),
        manager_id=manager,
        start_date=f.date(ent.get("startDate"), "startDate"),
        termination_date=f.date(ent.get("terminationDate"), "terminationDate"),
        created_at=f.date(meta.get("created"), "meta.created"),
        last_modified_at=f.date(meta.get("lastModified"), "meta.lastModified"),
        entitlements=_strings(raw.get("entitlements"), f, "entitlements"),
        manager_employee_number=manager_number,
    )


def _roles(value: Any, f: _Fields) -> tuple[RoleGrant, ...]:
    grants = []
    for item in _list(_dict(value).get("roles")):
        code = f.text(_dict(item).get("roleName"), "roleName")
        if not code:
            f.sink.add(IssueKind.MALFORMED_RECORD, f.subject, "a Spend role has no roleName")
            continue
        # Absent, [] and [""] all mean the global group (concur-api.md §4.3).
        groups = _strings(_dict(item).get("roleGroups"), f, f"roleGroups of {code}")
        grants.append(RoleGrant(code, groups))
    return tuple(grants)


def _approvers(value: Any, f: _Fields) -> tuple[ApproverEdge, ...]:
    """Every item of every kind, references as sent (an empty one is the join's to report).
    ``primary`` is documented as required; absent, it is read as primary (SPEND41 "Spend
    Approver": only report and request even support a non-primary approver)."""
    edges = []
    for kind, items in _dict(value).items():
        for item in _list(items):
            entry = _dict(item)
            approver, number = f.ref(entry.get("approver"), f"{kind} approver")
            primary = f.flag(entry.get("primary"), f"{kind} approver primary")
            edges.append(
                ApproverEdge(f.subject, approver or "", kind, primary is not False, number)
            )
    return tuple(edges)


def _flags(entry: dict[str, Any], f: _Fields, kind: str) -> tuple[str, ...]:
    """Names of the true ``can*`` flags: the nine documented ones and any other ``can*`` key."""
    names = [*DELEGATE_FLAGS, *sorted(k for k in entry if k.startswith("can") and k not in _KNOWN)]
    return tuple(n for n in names if f.flag(entry.get(n), f"{kind} delegate {n}") is True)


_KNOWN = frozenset(DELEGATE_FLAGS)


def _window(entry: dict[str, Any], f: _Fields) -> tuple[datetime | None, datetime | None]:
    """``temporaryDelegation`` (SPEND41 "Temporary Delegate"), or the documented misspelling."""
    temp = entry.get(TEMPORARY)
    if temp is None and TEMPORARY_MISSPELT in entry:
        temp = entry[TEMPORARY_MISSPELT]
        f.sink.add(
            IssueKind.MISSPELT_KEY,
            f.subject,
            f"{TEMPORARY_MISSPELT} (as in Concur's provisioning example) read as {TEMPORARY}",
        )
    dates = _dict(temp)
    return (
        f.date(dates.get("temporaryDelegationFromDate"), "temporaryDelegationFromDate"),
        f.date(dates.get("temporaryDelegationToDate"), "temporaryDelegationToDate"),
    )


def _delegates(value: Any, f: _Fields) -> tuple[DelegateEdge, ...]:
    edges = []
    for kind, items in _dict(value).items():
        for item in _list(items):
            entry = _dict(item)
            delegate, number = f.ref(entry.get("delegate"), f"{kind} delegate")
            start, end = _window(entry, f)
            flags = _flags(entry, f, kind)
            edges.append(DelegateEdge(f.subject, delegate or "", kind, flags, start, end, number))
    return tuple(edges)


def _limits(value: Any, f: _Fields) -> tuple[ApprovalLimit, ...]:
    """SPEND41 "Approver Limit Extension": ``authorizedApprover`` and ``costObjectApprover``
    lists of "Spend Approver Limit Config" (an object instead of a list is read as one)."""
    limits = []
    for holder, items in _dict(value).items():
        for item in [items] if isinstance(items, dict) else _list(items):
            entry = _dict(item)
            name = f"{holder}."
            limits.append(
                ApprovalLimit(
                    f.subject,
                    holder,
                    f.text(entry.get("approvalType"), name + "approvalType"),
                    f.number(entry.get("approvalLimit"), name + "approvalLimit"),
                    f.text(entry.get("reimbursementCurrency"), name + "reimbursementCurrency"),
                    f.text(entry.get("approvalGroup"), name + "approvalGroup") or "",
                    f.integer(entry.get("level"), name + "level"),
                    f.flag(entry.get("exceptionApprovalAuthority"), name + "exception") is True,
                )
            )
    return tuple(limits)


def parse_spend(raw: Any, index: str, sink: IssueSink) -> SpendProfile | None:
    """One Spend User v4.1 record; None (and a MALFORMED_RECORD issue) without an id."""
    uid = _record_id(raw, index, sink, "Spend")
    if uid is None:
        return None
    f = _Fields(sink, uid)
    user = _dict(raw.get(SPEND_USER))
    bi_manager, bi_number = f.ref(user.get("biManager"), "biManager")
    preference = _dict(raw.get(SPEND_USER_PREFERENCE))
    return SpendProfile(
        user_id=uid,
        roles=_roles(raw.get(SPEND_ROLE), f),
        approvers=_approvers(raw.get(SPEND_APPROVER), f),
        delegates=_delegates(raw.get(SPEND_DELEGATE), f),
        non_employee=f.flag(user.get("nonEmployee"), "nonEmployee"),
        test_employee=f.flag(user.get("testEmployee"), "testEmployee"),
        bi_manager_id=bi_manager,
        bi_manager_employee_number=bi_number,
        processor_report_access=f.text(
            preference.get("processorReportAccess"), "processorReportAccess"
        ),
        approval_limits=_limits(raw.get(SPEND_APPROVER_LIMIT), f),
    )
