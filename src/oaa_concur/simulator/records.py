"""Identity v4.1 and Spend v4.1 user records, shaped as concur-api.md §3.8 and §4.2."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from oaa_concur.simulator import catalog
from oaa_concur.simulator.people import EMAIL_DOMAIN, Person, ascii_slug

if TYPE_CHECKING:
    from oaa_concur.simulator.tenant import Tenant

CORE = "urn:ietf:params:scim:schemas:core:2.0:User"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
SAP = "urn:ietf:params:scim:schemas:extension:sap:2.0:User"
SPEND_USER = "urn:ietf:params:scim:schemas:extension:spend:2.0:User"
ROLE = "urn:ietf:params:scim:schemas:extension:spend:2.0:Role"
APPROVER = "urn:ietf:params:scim:schemas:extension:spend:2.0:Approver"
DELEGATE = "urn:ietf:params:scim:schemas:extension:spend:2.0:Delegate"
PAYROLL = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:Payroll"
INVOICE_PREF = "urn:ietf:params:scim:schemas:extension:spend:2.0:InvoicePreference"
USER_PREF = "urn:ietf:params:scim:schemas:extension:spend:2.0:UserPreference"
WORKFLOW_PREF = "urn:ietf:params:scim:schemas:extension:spend:2.0:WorkflowPreference"
SPEND_SCHEMAS = [
    "urn:ietf:params:scim:schemas:ScimResource",
    SPEND_USER,
    APPROVER,
    DELEGATE,
    PAYROLL,
    INVOICE_PREF,
    USER_PREF,
    WORKFLOW_PREF,
    ROLE,
]
BASE_ROLES = {"Expense": "EXP_USER", "Request": "REQ_USER", "Invoice": "INV_PMT_USER"}
_EPOCH_2005 = dt.date(2005, 1, 1)
_EPOCH_2015 = dt.datetime(2015, 1, 1, tzinfo=dt.UTC)
_TODAY = dt.date(2026, 1, 1)  # fixed so that the tenant never depends on the wall clock


def user_name(person: Person) -> str:
    """Login id: email-like for most, a bare login for users without an email."""
    given, family = ascii_slug(person.given) or "user", ascii_slug(person.family) or "x"
    if person.email:
        return f"{given}.{family}.{person.index:06d}@{EMAIL_DOMAIN}"
    return f"{given[:1]}{family}{person.index:06d}"


def identity_record(tenant: Tenant, person: Person) -> dict[str, Any]:
    """Every Identity attribute of one user; the server projects it per scope and request."""
    i = person.index
    name = user_name(person)
    return {
        "schemas": [CORE, ENTERPRISE, SAP],
        "id": tenant.user_id(i),
        "externalId": f"EXT-{i:07d}" if i % 3 else None,
        "userName": name,
        "active": tenant.is_active(i),
        "displayName": f"{person.given} {person.family}",
        "name": {
            "familyName": person.family,
            "givenName": person.given,
            "middleName": None,
            "formatted": f"{person.given} {person.family}",
        },
        "nickName": None,
        "title": person.title,
        "emails": _emails(person, name),
        "phoneNumbers": []
        if i % 4
        else [
            {
                "value": f"+1 555 01{i % 100:02d}",
                "type": "work",
                "primary": True,
                "notifications": False,
            }
        ],
        "addresses": [],
        "emergencyContacts": None,
        "dateOfBirth": None,
        "preferredLanguage": catalog.PLACES[person.place][3],
        "timezone": catalog.PLACES[person.place][4],
        "entitlements": list(person.entitlements),
        "meta": _identity_meta(tenant, person),
        ENTERPRISE: _enterprise(tenant, person),
        SAP: {"userUuid": tenant.user_id(i ^ 0x2AAAAAAA)},
    }


def _emails(person: Person, name: str) -> list[dict[str, Any]]:
    if not person.email:
        return []
    emails = [
        {"value": name, "type": "work", "verified": person.index % 5 != 0, "notifications": True}
    ]
    if person.index % 11 == 0:
        emails.append(
            {
                "value": f"{ascii_slug(person.given)}{person.index}@mail.example",
                "type": "home",
                "verified": False,
                "notifications": False,
            }
        )
    return emails


def _identity_meta(tenant: Tenant, person: Person) -> dict[str, Any]:
    created = _EPOCH_2015 + dt.timedelta(
        seconds=person.created_s, microseconds=person.index % 1_000_000
    )
    modified = dt.datetime.fromtimestamp(tenant.last_modified(person.index), tz=dt.UTC)
    return {
        "resourceType": "User",
        "created": created.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "lastModified": modified.strftime("%Y-%m-%dT%H:%M:%S.")
        + f"{modified.microsecond // 1000:03d}Z",
        "version": 1 + person.index % 9,
        "location": f"{tenant.base_url}/profile/identity/v4.1/Users/{tenant.user_id(person.index)}",
    }


def _enterprise(tenant: Tenant, person: Person) -> dict[str, Any]:
    manager = tenant.manager_of(person.index)
    start = _EPOCH_2005 + dt.timedelta(days=person.start_days)
    return {
        "companyId": tenant.company_uuid,
        "employeeNumber": f"E{person.index:06d}",
        "costCenter": f"CC-{100 + person.index % 37}" if person.index % 13 else None,
        "department": person.department,
        "division": person.division,
        "organization": tenant.company_name,
        "manager": None
        if manager is None
        else {"value": tenant.user_id(manager), "employeeNumber": f"E{manager:06d}"},
        "startDate": concur_date(start, person.start_fmt),
        "terminationDate": _termination_date(person, start),
    }


def _termination_date(person: Person, start: dt.date) -> str | None:
    if person.termination is None:
        return None
    if person.termination == "past":
        day = min(start + dt.timedelta(days=30 + person.index % 900), _TODAY - dt.timedelta(1))
    else:
        day = _TODAY + dt.timedelta(days=3650 + person.index % 300)
    return concur_date(day, person.start_fmt)


def concur_date(day: dt.date, fmt: int) -> str:
    """The three date shapes Concur's examples use (concur-api.md §3.6)."""
    if fmt == 0:
        return f"{day.isoformat()}T00:00:00.000"
    if fmt == 1:
        return f"{day.isoformat()}T09:00:00Z"
    return day.isoformat()


def spend_record(tenant: Tenant, person: Person) -> dict[str, Any]:
    """The Spend v4.1 user with its Role, Approver and Delegate extensions."""
    i = person.index
    roles: list[dict[str, Any]] = [
        {"roleName": BASE_ROLES[e]} for e in person.entitlements if e in BASE_ROLES
    ]
    for code, groups in person.roles:
        roles.append(
            {"roleName": code} if groups is None else {"roleName": code, "roleGroups": list(groups)}
        )
    country, region, currency, locale, _ = catalog.PLACES[person.place]
    manager = tenant.manager_of(i)
    return {
        "schemas": list(SPEND_SCHEMAS),
        "id": tenant.user_id(i),
        "meta": _spend_meta(tenant, i, tenant.last_modified(i)),
        SPEND_USER: {
            "reimbursementCurrency": currency,
            "reimbursementType": "CONCUR_PAY",
            "ledgerCode": "DEFAULT",
            "country": country,
            "stateProvince": region,
            "locale": locale,
            "testEmployee": person.test_employee,
            "nonEmployee": person.non_employee,
            "biManager": None if manager is None else _ref(tenant, manager),
            "cashAdvanceAccountCode": None,
            "budgetCountryCode": None,
            "customData": [{"id": "orgUnit4", "value": ""}],
        },
        ROLE: {"roles": roles},
        APPROVER: _approvers(tenant, person),
        DELEGATE: _delegates(tenant, person),
        USER_PREF: {"expenseAuditRequired": "REQUIRED"},
        WORKFLOW_PREF: {},
        INVOICE_PREF: {},
        PAYROLL: {},
    }


def orphan_record(tenant: Tenant, index: int) -> dict[str, Any]:
    """A Spend record whose id matches no Identity user (seen in real tenants after deletes)."""
    return {
        "schemas": list(SPEND_SCHEMAS),
        "id": tenant.user_id(index),
        "meta": _spend_meta(tenant, index, 1_700_000_000.0 + index % 86400),
        SPEND_USER: {
            "reimbursementCurrency": "USD",
            "reimbursementType": "CONCUR_PAY",
            "ledgerCode": "DEFAULT",
            "country": "US",
            "stateProvince": None,
            "locale": "en-US",
            "testEmployee": False,
            "nonEmployee": False,
            "biManager": None,
            "cashAdvanceAccountCode": None,
            "budgetCountryCode": None,
            "customData": [],
        },
        ROLE: {"roles": [{"roleName": "EXP_USER"}, {"roleName": "EXP_APPROVER"}]},
        APPROVER: {},
        DELEGATE: {},
        USER_PREF: {},
        WORKFLOW_PREF: {},
        INVOICE_PREF: {},
        PAYROLL: {},
    }


def _spend_meta(tenant: Tenant, index: int, modified: float) -> dict[str, Any]:
    stamp = dt.datetime.fromtimestamp(modified, tz=dt.UTC)
    return {
        "resourceType": "User",
        "created": None,
        "lastModified": stamp.strftime("%Y-%m-%dT%H:%M:%S.") + f"{stamp.microsecond // 1000:03d}Z",
        "location": f"{tenant.base_url}/profile/spend/v4/Users/{tenant.user_id(index)}",
        "version": None,
    }


def _ref(tenant: Tenant, index: int) -> dict[str, str]:
    return {"value": tenant.user_id(index), "employeeNumber": f"E{index:06d}"}


def _approvers(tenant: Tenant, person: Person) -> dict[str, Any]:
    """Approvers of this user's items: mostly the manager, sometimes another manager."""
    manager = tenant.manager_of(person.index)
    if manager is None:
        return {}
    managers = max(1, (tenant.users - 2) // 7 + 1)
    approver = (person.index * 31 + 7) % managers if person.alt_approver else manager
    if approver == person.index:
        approver = manager
    entry = [{"approver": _ref(tenant, approver), "primary": True}]
    result: dict[str, Any] = {"report": entry}
    if "Request" in person.entitlements:
        result["request"] = [{"approver": _ref(tenant, manager), "primary": True}]
    if "Invoice" in person.entitlements:
        result["invoice"] = [{"approver": _ref(tenant, manager), "primary": True}]
    return result


def _delegates(tenant: Tenant, person: Person) -> dict[str, Any]:
    if not person.delegate or tenant.users < 2:
        return {}
    other = (person.index * 17 + 3) % tenant.users
    other = other if other != person.index else (other + 1) % tenant.users
    can_approve = person.index % 2 == 0
    return {
        "expense": [
            {
                "delegate": {"value": tenant.user_id(other)},
                "canApprove": can_approve,
                "canPrepare": True,
                "canSubmit": True,
                "canViewReceipt": True,
                "canUseBi": False,
                "canReceiveEmail": True,
                "canReceiveApprovalEmail": can_approve,
                "canPrepareForApproval": False,
                "canSubmitTravelRequest": True,
            }
        ]
    }
