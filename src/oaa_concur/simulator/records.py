"""Identity v4.1 user records, shaped as concur-api.md §3.8 (and the URNs Spend shares)."""

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
_EPOCH_2005 = dt.date(2005, 1, 1)
_EPOCH_2015 = dt.datetime(2015, 1, 1, tzinfo=dt.UTC)
_TODAY = dt.date(2026, 1, 1)  # fixed so that the tenant never depends on the wall clock


def employee_number(index: int) -> str:
    """``employeeNumber`` of user ``index`` (also how Spend references name users)."""
    return f"E{index:06d}"


def external_id(index: int) -> str | None:
    """``externalId`` of user ``index``: two users in three have one."""
    return f"EXT-{index:07d}" if index % 3 else None


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
        "externalId": external_id(i),
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


def utc_millis(stamp: dt.datetime) -> str:
    """``2024-01-19T20:10:34.377Z`` for an aware UTC datetime (milliseconds truncated), the
    shape of Concur's ``meta.lastModified``; isoformat is several times faster than strftime."""
    return stamp.isoformat(timespec="milliseconds")[:-6] + "Z"


def _identity_meta(tenant: Tenant, person: Person) -> dict[str, Any]:
    created = _EPOCH_2015 + dt.timedelta(
        seconds=person.created_s, microseconds=person.index % 1_000_000
    )
    modified = dt.datetime.fromtimestamp(tenant.last_modified(person.index), tz=dt.UTC)
    return {
        "resourceType": "User",
        "created": created.isoformat(timespec="microseconds")[:-6] + "Z",
        "lastModified": utc_millis(modified),
        "version": 1 + person.index % 9,
        "location": f"{tenant.base_url}/profile/identity/v4.1/Users/{tenant.user_id(person.index)}",
    }


def _enterprise(tenant: Tenant, person: Person) -> dict[str, Any]:
    manager = tenant.manager_of(person.index)
    start = _EPOCH_2005 + dt.timedelta(days=person.start_days)
    return {
        "companyId": tenant.company_uuid,
        "employeeNumber": employee_number(person.index),
        "costCenter": f"CC-{100 + person.index % 37}" if person.index % 13 else None,
        "department": person.department,
        "division": person.division,
        "organization": tenant.company_name,
        "manager": None
        if manager is None
        else {"value": tenant.user_id(manager), "employeeNumber": employee_number(manager)},
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
