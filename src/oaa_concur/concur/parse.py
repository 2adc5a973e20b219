"""Pure functions from raw Concur JSON to typed records; odd data is a DataIssue, never a crash.

Identity v4.1 users (concur-api.md §3.5-3.8) -> ``User``; Spend User v4.1 records (§4.2-4.3)
-> ``SpendProfile``. Every field is type-checked, because any JSON value can arrive where the
docs promise another (the docs themselves show ``"active": "boolean"`` placeholders). Role codes
are NOT judged here (the catalogue is elsewhere): they are kept exactly as sent.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from oaa_concur.concur.dates import parse_datetime
from oaa_concur.concur.issues import IssueSink
from oaa_concur.models import (
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

    def date(self, value: Any, name: str) -> datetime | None:
        try:
            return parse_datetime(value)
        except ValueError:
            self._bad(name, value)
            return None

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
        manager_id=f.text(_dict(ent.get("manager")).get("value"), "manager.value"),
        start_date=f.date(ent.get("startDate"), "startDate"),
        termination_date=f.date(ent.get("terminationDate"), "terminationDate"),
        created_at=f.date(meta.get("created"), "meta.created"),
        last_modified_at=f.date(meta.get("lastModified"), "meta.lastModified"),
        entitlements=_strings(raw.get("entitlements"), f, "entitlements"),
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
    edges = []
    for kind, items in _dict(value).items():
        for item in _list(items):
            approver = f.text(_dict(_dict(item).get("approver")).get("value"), f"{kind} approver")
            if approver:
                primary = f.flag(_dict(item).get("primary"), f"{kind} approver primary")
                edges.append(ApproverEdge(f.subject, approver, kind, bool(primary)))
    return tuple(edges)


def _delegates(value: Any, f: _Fields) -> tuple[DelegateEdge, ...]:
    edges = []
    for kind, items in _dict(value).items():
        for item in _list(items):
            entry = _dict(item)
            delegate = f.text(_dict(entry.get("delegate")).get("value"), f"{kind} delegate")
            if not delegate:
                continue
            flags = tuple(sorted(k for k, v in entry.items() if k.startswith("can") and v is True))
            temp = _dict(entry.get("temporaryDelegation"))
            edges.append(
                DelegateEdge(
                    f.subject,
                    delegate,
                    kind,
                    flags,
                    f.date(temp.get("temporaryDelegationFromDate"), "temporaryDelegationFromDate"),
                    f.date(temp.get("temporaryDelegationToDate"), "temporaryDelegationToDate"),
                )
            )
    return tuple(edges)


def parse_spend(raw: Any, index: str, sink: IssueSink) -> SpendProfile | None:
    """One Spend User v4.1 record; None (and a MALFORMED_RECORD issue) without an id."""
    uid = _record_id(raw, index, sink, "Spend")
    if uid is None:
        return None
    f = _Fields(sink, uid)
    user = _dict(raw.get(SPEND_USER))
    return SpendProfile(
        user_id=uid,
        roles=_roles(raw.get(SPEND_ROLE), f),
        approvers=_approvers(raw.get(SPEND_APPROVER), f),
        delegates=_delegates(raw.get(SPEND_DELEGATE), f),
        non_employee=f.flag(user.get("nonEmployee"), "nonEmployee"),
        test_employee=f.flag(user.get("testEmployee"), "testEmployee"),
    )
