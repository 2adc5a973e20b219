"""Spend User v4.1 records: the User, Role, Approver, ApproverLimit, Delegate and preference
extensions, shaped as ``v4.1.spend-user-retrieval.md`` ("Retrieving a Spend User" example and
the "Schema" section) and concur-api.md §4.2.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from oaa_concur.simulator import catalog
from oaa_concur.simulator.access import base_kinds, draw_access
from oaa_concur.simulator.access_types import (
    DELEGATE_FLAGS,
    Access,
    Approval,
    Delegation,
    Limit,
    Ref,
)
from oaa_concur.simulator.delegations import base_delegation
from oaa_concur.simulator.people import Person
from oaa_concur.simulator.records import employee_number, utc_millis

if TYPE_CHECKING:
    from oaa_concur.simulator.tenant import Tenant

SPEND_USER = "urn:ietf:params:scim:schemas:extension:spend:2.0:User"
ROLE = "urn:ietf:params:scim:schemas:extension:spend:2.0:Role"
APPROVER = "urn:ietf:params:scim:schemas:extension:spend:2.0:Approver"
APPROVER_LIMIT = "urn:ietf:params:scim:schemas:extension:spend:2.0:ApproverLimit"
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


def spend_record(tenant: Tenant, person: Person, all_limits: bool = False) -> dict[str, Any]:
    """The Spend v4.1 user of ``person``. ApproverLimit: by default only the configs of the
    global group ("By default, GET Users or GET single user only returns the config in
    `Global` group"), every config with ``all_limits`` (the extension asked for by
    ``attributes``); the extension is left out when it has nothing to show."""
    i = person.index
    country, region, currency, locale, _ = catalog.PLACES[person.place]
    access = draw_access(tenant, person, currency)
    if access is None:
        return _plain_record(tenant, person, currency)
    record: dict[str, Any] = {
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
            "biManager": None if access.bi_manager is None else ref(tenant, access.bi_manager),
            "cashAdvanceAccountCode": None,
            "budgetCountryCode": None,
            "customData": [{"id": "orgUnit4", "value": ""}],
        },
        ROLE: {"roles": _roles(person)},
        APPROVER: _approvers(tenant, access.approvals),
    }
    limits = [x for x in access.limits if all_limits or not x.group]
    if limits:
        record["schemas"].insert(3, APPROVER_LIMIT)
        record[APPROVER_LIMIT] = _approver_limits(limits)
    record[DELEGATE] = _delegates(tenant, access.delegations)
    record[USER_PREF] = _user_preference(access)
    record |= {WORKFLOW_PREF: {}, INVOICE_PREF: {}, PAYROLL: {}}
    return record


def _plain_record(tenant: Tenant, person: Person, currency: str) -> dict[str, Any]:
    """The record of a user with the long-standing traits only (most users: kept cheap)."""
    i = person.index
    country, region, _, locale, _ = catalog.PLACES[person.place]
    manager = tenant.manager_of(i)
    kinds = base_kinds(tenant, person)
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
            "biManager": None if manager is None else _both(tenant, manager),
            "cashAdvanceAccountCode": None,
            "budgetCountryCode": None,
            "customData": [{"id": "orgUnit4", "value": ""}],
        },
        ROLE: {"roles": _roles(person)},
        APPROVER: {k: [{"approver": _both(tenant, t), "primary": True}] for k, t in kinds.items()},
        DELEGATE: _delegates(tenant, base_delegation(tenant, person)),
        USER_PREF: {"expenseAuditRequired": "REQUIRED"},
        WORKFLOW_PREF: {},
        INVOICE_PREF: {},
        PAYROLL: {},
    }


def _roles(person: Person) -> list[dict[str, Any]]:
    roles: list[dict[str, Any]] = [
        {"roleName": BASE_ROLES[e]} for e in person.entitlements if e in BASE_ROLES
    ]
    for code, groups in person.roles:
        roles.append(
            {"roleName": code} if groups is None else {"roleName": code, "roleGroups": list(groups)}
        )
    return roles


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
        "lastModified": utc_millis(stamp),
        "location": f"{tenant.base_url}/profile/spend/v4/Users/{tenant.user_id(index)}",
        "version": None,
    }


def _both(tenant: Tenant, index: int) -> dict[str, str]:
    return {"value": tenant.user_id(index), "employeeNumber": employee_number(index)}


def ref(tenant: Tenant, target: Ref) -> dict[str, str]:
    """A UserReference ("User Reference" schema: ``value`` uuid, ``employeeNumber``)."""
    if target.by == "number":
        return {"employeeNumber": employee_number(target.target)}
    if target.by == "value":
        return {"value": tenant.user_id(target.target)}
    return {
        "value": tenant.user_id(target.target),
        "employeeNumber": employee_number(target.target),
    }


def _approvers(tenant: Tenant, approvals: Iterable[Approval]) -> dict[str, Any]:
    """``{kind: [{"approver": UserReference, "primary": bool}]}`` ("Spend Approver")."""
    out: dict[str, list[dict[str, Any]]] = {}
    for item in approvals:
        entry = {"approver": ref(tenant, item.approver), "primary": item.primary}
        out.setdefault(item.kind, []).append(entry)
    return out


def _delegates(tenant: Tenant, delegations: Iterable[Delegation]) -> dict[str, Any]:
    """``{kind: [{"delegate": UserReference, can*..., "temporaryDelegation": {...}}]}``."""
    out: dict[str, list[dict[str, Any]]] = {}
    for item in delegations:
        entry: dict[str, Any] = {"delegate": ref(tenant, item.delegate)}
        entry.update(zip(DELEGATE_FLAGS, item.flags, strict=True))
        if item.window is not None:
            start, end = item.window
            entry["temporaryDelegation"] = {
                "temporaryDelegationFromDate": iso_millis(start),
                "temporaryDelegationToDate": iso_millis(end),
            }
        out.setdefault(item.kind, []).append(entry)
    return out


def iso_millis(stamp: dt.datetime) -> str:
    """ISO 8601 in UTC with milliseconds, as the "Temporary Delegate" examples
    (``2020-09-20T22:35:36.532Z``)."""
    return utc_millis(stamp)


def _approver_limits(limits: Iterable[Limit]) -> dict[str, Any]:
    """``{"authorizedApprover": [config], "costObjectApprover": [config]}`` ("Approver Limit
    Extension"; each config as "Spend Approver Limit Config")."""
    out: dict[str, list[dict[str, Any]]] = {}
    for item in limits:
        out.setdefault(item.holder, []).append(
            {
                "approvalType": item.approval_type,
                "exceptionApprovalAuthority": item.exception,
                "approvalLimit": item.limit,
                "reimbursementCurrency": item.currency,
                "approvalGroup": item.group,
                "level": item.level,
            }
        )
    return out


def _user_preference(access: Access) -> dict[str, Any]:
    """``processorReportAccess`` only when set: "When this field is null ... it is not
    returned in the extension by default"."""
    pref: dict[str, Any] = {"expenseAuditRequired": "REQUIRED"}
    if access.processor_access is not None:
        pref["processorReportAccess"] = access.processor_access
    return pref
