"""The Concur Spend role catalogue as data: role code -> full name, product, scope, permissions.

Source: Concur's "Spend Role Codes" page (``api-reference/user-provisioning/spend/
v4.spend-role-code-definition.md``). Codes are kept exactly as Concur sends them in
``roleName``; full names and the Group-Aware flag are copied from that page; the product is the
table ("tab") a row sits in, and the page's "Product Area" column, which its "Column
Description" defines as "Shared with two or more SAP Concur products.", is ``shared``.

How a role is classified (decided here, documented for auditors):

* ``permissions`` name custom permissions (keys of ``PERMISSIONS``) that say what the role
  allows, each mapped to Veza OAA canonical types. Unknown codes get ``("unknown",)``, which
  maps to ``Uncategorized`` (design.md §4).
* ``privileged`` is not typed by hand: a role is privileged when any of its permissions is in
  ``PRIVILEGED_PERMISSIONS``: it changes configuration, manages users, roles or credentials,
  moves money (payments, funding accounts, cards, payroll), manages vendors, or deletes other
  people's items (processor managers).
* Roles whose name says "(Restricted)" but whose doc row says "can fully manage (add, edit,
  delete)" some configuration are classed as configuration admins, not read-only ones.

This module must not import oaaclient: only ``oaa_concur.oaa`` does.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from types import MappingProxyType


@dataclass(frozen=True, slots=True)
class RoleInfo:
    """What the connector knows about one Concur role code."""

    code: str
    name: str
    product: str
    group_aware: bool
    privileged: bool
    category: str
    permissions: tuple[str, ...]
    known: bool = True
    shared: bool | None = None
    """The page's "Product Area" (Y/N: shared with two or more products); None when the cell
    says something else ("-", "SAP Concur Connect") or the code is not on the page."""
    permission_description: str = ""
    """What the role's permissions cover, where the permission names alone do not say it."""


_ALL_METADATA = ("MetadataRead", "MetadataWrite", "MetadataCreate", "MetadataDelete")
_ALL_DATA = ("DataRead", "DataWrite", "DataCreate", "DataDelete")

# Custom permission name -> OAA canonical permission types (OAAPermission values).
PERMISSIONS: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "use": ("DataRead", "DataWrite", "DataCreate"),  # create and submit one's own items
        "approve": ("DataRead", "DataWrite"),  # approve or send back others' items
        "process": ("DataRead", "DataWrite"),  # view and update items in a queue
        "process_all": ("DataRead", "DataWrite", "DataDelete"),  # processor managers also delete
        "manage_data": _ALL_DATA,  # a record type: attendees, receipts
        "read_data": ("DataRead",),  # auditors, read-only processors
        "act_as": ("DataRead", "DataWrite"),  # proxy logon for other users
        "configure": _ALL_METADATA,
        "read_configuration": ("MetadataRead",),
        "manage_users": _ALL_METADATA,  # employees, their roles, hierarchy
        "read_users": ("MetadataRead",),
        "manage_security": _ALL_METADATA,  # passwords, partner apps
        "manage_payments": (*_ALL_DATA, "MetadataRead", "MetadataWrite"),
        "manage_vendors": (*_ALL_DATA, "MetadataRead", "MetadataWrite"),
        "view_reports": ("DataRead",),
        "author_reports": ("DataRead", "DataWrite", "DataCreate"),
        "non_data": ("NonData",),
        "unknown": ("Uncategorized",),
    }
)

PRIVILEGED_PERMISSIONS = frozenset(
    {
        "configure",
        "manage_users",
        "manage_security",
        "manage_payments",
        "manage_vendors",
        "process_all",
    }
)

CATEGORIES = frozenset(
    {
        "user",
        "approver",
        "processor",
        "auditor",
        "admin",
        "read_only_admin",
        "proxy",
        "entitlement",
        "other",
    }
)

Row = tuple[str, str, bool, str, tuple[str, ...]]
# (code, full name, group-aware, category, permissions), one tuple per table of the page, in
# the page's order. Full names and Group-Aware exactly as the page has them
# (tests/oaa/test_catalogue.py compares every row with the page's data file).
_EXPENSE: tuple[Row, ...] = (
    # --- "Expense Product Roles" ----------------------------------------------------------
    # App Center listings are published by partners; no access to the company's data.
    ("SHD_APP_CENTER_ADMIN", "App Center Listing Administrator", False, "other", ("non_data",)),
    ("EXP_ATTENDEE_ADMIN", "Attendee Administrator", True, "admin", ("manage_data",)),
    (
        "EXP_ATTENDEE_ADMIN_RO",
        "Attendee Administrator (Read only)",
        True,
        "read_only_admin",
        ("read_data",),
    ),
    ("SHD_AUTHORIZED_APPROVER", "Authorized Approver", False, "approver", ("approve",)),
    # Not on the role page: the two EXP_AUTH_REQUEST_* codes come from the older prerelease
    # page and the import mapping pages (user-provisioning/mapping/300.md "Authorization
    # Request Approver"); kept in the Expense product where their prefix puts them.
    (
        "EXP_AUTH_REQUEST_ADMIN",
        "Authorization Request Administrator",
        True,
        "processor",
        ("process",),
    ),
    (
        "EXP_AUTH_REQUEST_APPROVER",
        "Authorization Request Approver",
        False,
        "approver",
        ("approve",),
    ),
    ("SHD_BILLING_ATTRIBUTES_USER", "Billing Attributes User", False, "admin", ("configure",)),
    ("SHD_BUDGET_ADMIN", "Budget Administrator", False, "admin", ("configure",)),
    ("SHD_BUDGET_APPROVER", "Budget Approver/Manager", False, "approver", ("approve",)),
    ("SHD_BUDGET_OWNER", "Budget Owner", False, "user", ("view_reports",)),
    ("SHD_BUDGET_VIEWER", "Budget Viewer", False, "user", ("view_reports",)),
    ("EXP_PCARD_ADMIN", "Card Program Administrator", True, "admin", ("manage_payments",)),
    ("EXP_PROCESSOR_CR", "Central Reconciliation Processor", True, "processor", ("process",)),
    ("TRAVEL_USER", "Cliqbook User", False, "user", ("use",)),
    ("EXP_CONFIG_ADMIN_CLIENT", "Client Expense Administrator", True, "admin", ("configure",)),
    ("STATEMENT_APPROVER", "Company Bill Statement Approver", False, "approver", ("approve",)),
    ("STATEMENT_PROCESSOR", "Company Bill Statement Processor", True, "processor", ("process",)),
    (
        "STATEMENT_PROCESSOR_AUDITOR",
        "Company Bill Statement Processor (Audit)",
        False,
        "auditor",
        ("read_data",),
    ),
    (
        "STATEMENT_PROCESSOR_ADMIN",
        "Company Bill Statement Processor Manager",
        True,
        "processor",
        ("process_all",),
    ),
    ("STATEMENT_USER", "Company Bill Statement User", False, "user", ("use",)),
    ("SHD_COMPANY_INFO_ADMIN", "Company Info Administrator", False, "admin", ("configure",)),
    ("SHD_COST_OBJECT_APPROVER", "Cost Object Approver", False, "approver", ("approve",)),
    # "views and configures the data retention policy ... can hold and purge individual users"
    (
        "SHD_DATA_RETENTION_ADMIN",
        "Data Retention Administrator",
        False,
        "admin",
        ("configure", "manage_data"),
    ),
    ("SHD_EMPLOYEE_ADMIN", "Employee Administrator", True, "admin", ("manage_users",)),
    (
        "SHD_EMPLOYEE_ADMIN_RO",
        "Employee Administrator (Read Only)",
        True,
        "read_only_admin",
        ("read_users",),
    ),
    ("EXP_APPROVER", "Expense Approver", False, "approver", ("approve",)),
    (
        "EXP_CASHADVANCE_ADMIN",
        "Expense Cash Advance Administrator",
        True,
        "admin",
        ("manage_payments",),
    ),
    ("EXP_CARD_ADMIN", "Expense Company Card Administrator", True, "admin", ("manage_payments",)),
    ("EXP_CONFIG_ADMIN", "Expense Configuration Administrator", True, "admin", ("configure",)),
    # "(Restricted)", yet it "can fully manage (add, edit, delete) ... authorized approvers,
    # audit rules": a configuration admin, not a read-only one.
    (
        "EXP_CONFIG_ADMIN_RO",
        "Expense Configuration Administrator (Restricted)",
        True,
        "admin",
        ("configure",),
    ),
    ("EXP_PROCESSOR", "Expense Processor", True, "processor", ("process",)),
    ("EXP_PROCESSOR_AUDIT", "Expense Processor (Audit)", True, "auditor", ("read_data",)),
    ("EXP_PROCESSOR_ADMIN", "Expense Processor Manager", True, "processor", ("process_all",)),
    ("EXP_PROXY_USER", "Expense Proxy Logon", True, "proxy", ("act_as",)),
    ("EXP_RECEIPT_PROCESSOR", "Expense Receipt Processor", False, "processor", ("process",)),
    ("EXP_USER", "Expense User", False, "user", ("use",)),
    (
        "EXP_EMPLOYEE_ADMIN",
        "Employee Admin Permission on Expense Hierarchy",
        True,
        "admin",
        ("manage_users",),
    ),
    # Only decides which fields show while searching attendees.
    (
        "EXP_FIND_ATTENDEES_USER",
        "Employee (while finding attendees)",
        False,
        "other",
        ("non_data",),
    ),
    ("EXP_EXTRACT_ADMIN", "Extract Administrator", False, "admin", ("configure",)),
    ("EXP_FB_TAX_ADMIN", "Fringe Benefits Tax Administrator", False, "admin", ("configure",)),
    (
        "SHD_IMPORT_EXTRACT_ADMIN_RO",
        "Import/Extract Monitor (formerly Integration Administrator - Restricted)",
        False,
        "read_only_admin",
        ("read_configuration",),
    ),
    ("SHD_PASSWORD_ADMIN", "Password Manager", True, "admin", ("manage_security",)),
    ("SHD_PAYROLL_ADMIN", "Payroll Administrator", False, "admin", ("manage_payments",)),
    (
        "EXP_REIMBURSEMENT_AUDITOR",
        "Reimbursement Auditor",
        False,
        "auditor",
        ("read_data", "read_configuration"),
    ),
    # Despite the code, this is the Reimbursement *Manager*: funding accounts, Expense Pay.
    ("EXP_REIMBURSEMENT_APPROVER", "Reimbursement Manager", True, "admin", ("manage_payments",)),
    ("SHD_ROLE_ADMIN", "Role Administrator", True, "admin", ("manage_users",)),
    ("SHD_CONFIG_ADMIN", "Shared Configuration Administrator", True, "admin", ("configure",)),
    (
        "SHD_CONFIG_ADMIN_RO",
        "Shared Configuration Administrator (Restricted)",
        True,
        "admin",
        ("configure",),
    ),
    ("SHD_TAX_ADMIN", "Tax Administrator", False, "admin", ("configure",)),
    (
        "SHD_TAX_ADMIN_RO",
        "Tax Administrator (Restricted)",
        False,
        "read_only_admin",
        ("read_configuration",),
    ),
    ("SHD_TRAINING_ADMIN", "Training Administrator", False, "admin", ("configure",)),
    # The doc marks it "not supported"; kept so that a tenant that still has it is named.
    ("EXP_TRAVEL_AND_EXPENSE_USER", "Travel and Expense User", False, "user", ("use",)),
    ("SHD_WEB_SERVICES_ADMIN", "Web Services Administrator", False, "admin", ("manage_security",)),
)
_REQUEST: tuple[Row, ...] = (
    # --- "Request Product Roles" (SHD_DATA_RETENTION_ADMIN: see _ALSO_LISTED) ---------------
    ("REQ_PROCESSOR_ADMIN", "Request Administrator", True, "processor", ("process_all",)),
    ("REQ_APPROVER", "Request Approver", False, "approver", ("approve",)),
    ("REQ_PROCESSOR_AUDIT", "Request Auditor", True, "auditor", ("read_data",)),
    ("REQ_CONFIG_ADMIN", "Request Configuration Administrator", True, "admin", ("configure",)),
    (
        "REQ_CONFIG_ADMIN_RO",
        "Request Configuration Administrator (restricted)",
        True,
        "admin",
        ("configure",),
    ),
    # "create a primary event request for multiple event attendees"; needs REQ_PROXY_USER.
    ("REQ_EVENT_ADMIN", "Request Event Manager", False, "proxy", ("act_as",)),
    ("REQ_PROXY_USER", "Request Proxy Logon", True, "proxy", ("act_as",)),
    ("REQ_USER", "Request User", False, "user", ("use",)),
    ("REQ_RISK_ADMIN", "Risk Manager", True, "processor", ("process",)),
    ("REQ_PROCESSOR", "TMC Agent", True, "processor", ("process",)),
)
_INVOICE: tuple[Row, ...] = (
    # --- "Product Roles Invoice (Payment)" (the SHD_ codes it repeats: see _ALSO_LISTED) ----
    ("INV_PURCH_RECEIVER", "Central Receiver", True, "processor", ("manage_data",)),
    ("INV_IC_VERIFIER", "Client Managed Capture Verifier", False, "processor", ("process",)),
    (
        "INV_EMPLOYEE_ADMIN",
        "Employee Admin Permission on Invoice Hierarchy",
        True,
        "admin",
        ("manage_users",),
    ),
    ("INV_AP_USER", "Invoice AP User", True, "processor", ("manage_data",)),
    ("INV_APPROVER", "Invoice Approver", False, "approver", ("approve",)),
    (
        "INV_CONFIG_ADMIN",
        "Invoice(Payment) Configuration Administrator",
        True,
        "admin",
        ("configure",),
    ),
    (
        "INV_CONFIG_ADMIN_RO",
        "Invoice (Payment) Configuration Administrator (Restricted)",
        True,
        "admin",
        ("configure",),
    ),
    ("INV_PMT_MANAGER", "Invoice Payment Manager", False, "admin", ("manage_payments",)),
    ("INV_IMAGE_PROCESSOR", "Invoice Image Processor", False, "processor", ("process",)),
    ("INV_PROCESSOR", "Invoice(Payment) Processor", True, "processor", ("process",)),
    ("INV_PROCESSOR_AUDIT", "Invoice(Payment) Processor (Audit)", True, "auditor", ("read_data",)),
    (
        "INV_PROCESSOR_MANAGER",
        "Invoice(Payment) Processor Manager",
        True,
        "processor",
        ("process_all",),
    ),
    ("INV_PROXY_USER", "Invoice(Payment) Proxy Logon", True, "proxy", ("act_as",)),
    ("INV_PURCH_USER", "Invoice Purchasing User", False, "user", ("use",)),
    (
        "INV_RECEIPT_PROCESSOR",
        "Invoice(Payment) Receipt Processor",
        True,
        "processor",
        ("process",),
    ),
    ("INV_TAX_ADMIN", "Invoice Tax Administrator", False, "admin", ("configure",)),
    ("INV_PMT_USER", "Invoice User", False, "user", ("use",)),
    ("INV_VENDOR_ADMIN", "Invoice Vendor Manager", True, "admin", ("manage_vendors",)),
    ("INV_PURCH_ORDER_PROCESSOR", "Purchase Order Processor", True, "processor", ("process",)),
    (
        "INV_PURCH_ORDER_PROCESSOR_AUDIT",
        "Purchase Order Processor (Audit)",
        True,
        "auditor",
        ("read_data",),
    ),
    ("INV_PURCH_REQ_APPROVER", "Purchase Request Approver", False, "approver", ("approve",)),
    ("INV_PURCH_REQ_PROCESSOR", "Purchase Request Processor", True, "processor", ("process",)),
    (
        "INV_PURCH_REQ_PROCESSOR_AUDIT",
        "Purchase Request Processor (Audit)",
        True,
        "auditor",
        ("read_data",),
    ),
    ("INV_PURCH_REQ_PROXY_USER", "Purchase Request Proxy Logon", True, "proxy", ("act_as",)),
    ("INV_PURCH_REQ_USER", "Purchase Request User", False, "user", ("use",)),
    ("INV_RECEIPT_USER", "Receipt User", False, "user", ("use",)),
)
_REPORTING: tuple[Row, ...] = (
    # --- "Reporting Product Roles" (REPORTING_CAS_ANALYST, _DASHBOARD_USER: retired) -------
    ("BUDGET_REPORTING_USER", "Budget Role for Cognos", True, "user", ("view_reports",)),
    ("REPORTING_CAS_ANALYST", "CAS Analyst", True, "user", ("view_reports",)),
    ("REPORTING_BUSINESS_AUTHOR", "Cognos Business Author", True, "user", ("author_reports",)),
    ("REPORTING_CONSUMER", "Cognos Consumer", True, "user", ("view_reports",)),
    ("REPORTING_PRO_AUTHOR", "Cognos Professional Author", True, "user", ("author_reports",)),
    (
        "REPORTING_CONFIG_ADMIN",
        "Consolidation Configuration Administrator",
        False,
        "admin",
        ("configure",),
    ),
    ("REPORTING_HIST_DATA_USER", "Cognos Hist Data Access", False, "user", ("view_reports",)),
    ("REPORTING_DASHBOARD_USER", "Dashboard User", False, "user", ("view_reports",)),
    (
        "REPORTING_EMPLOYEE_ADMIN",
        "Employee Admin Permission on Reporting Hierarchy",
        True,
        "admin",
        ("manage_users",),
    ),
)

SECTIONS: tuple[tuple[str, tuple[Row, ...]], ...] = (
    ("Expense", _EXPENSE),
    ("Request", _REQUEST),
    ("Invoice", _INVOICE),
    ("Reporting", _REPORTING),
)
"""Product -> the rows of its table. The page's four headings are "Expense Product Roles",
"Request Product Roles", "Product Roles Invoice (Payment)" and "Reporting Product Roles"; the
product is the table a row sits in (TRAVEL_USER and the STATEMENT_* roles are Expense roles)."""

_ALSO_LISTED: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "SHD_BUDGET_ADMIN": ("Invoice",),
        "SHD_BUDGET_APPROVER": ("Invoice",),
        "SHD_BUDGET_OWNER": ("Invoice",),
        "SHD_BUDGET_VIEWER": ("Invoice",),
        "SHD_DATA_RETENTION_ADMIN": ("Request", "Invoice"),
        "SHD_PAYROLL_ADMIN": ("Invoice",),
    }
)
"""Codes the page lists in more than one table (same name and flags in each)."""

_SHARED_Y = frozenset(
    {
        "SHD_APP_CENTER_ADMIN",
        "EXP_ATTENDEE_ADMIN",
        "EXP_ATTENDEE_ADMIN_RO",
        "SHD_BILLING_ATTRIBUTES_USER",
        "SHD_BUDGET_ADMIN",
        "SHD_BUDGET_APPROVER",
        "SHD_BUDGET_OWNER",
        "SHD_BUDGET_VIEWER",
        "SHD_COMPANY_INFO_ADMIN",
        "SHD_DATA_RETENTION_ADMIN",
        "SHD_EMPLOYEE_ADMIN",
        "SHD_EMPLOYEE_ADMIN_RO",
        "SHD_IMPORT_EXTRACT_ADMIN_RO",
        "SHD_PASSWORD_ADMIN",
        "SHD_PAYROLL_ADMIN",
        "EXP_REIMBURSEMENT_AUDITOR",
        "EXP_REIMBURSEMENT_APPROVER",
        "SHD_ROLE_ADMIN",
        "SHD_CONFIG_ADMIN",
        "SHD_CONFIG_ADMIN_RO",
        "SHD_TRAINING_ADMIN",
        "EXP_TRAVEL_AND_EXPENSE_USER",
    }
)
"""The page's "Product Area" column is "Shared with two or more SAP Concur products." (its
"Column Description"): these codes say ``Y``; every other listed code ``N``, but for the two
in ``_AREA_AS_WRITTEN``."""
_AREA_AS_WRITTEN: Mapping[str, str] = MappingProxyType(
    {"STATEMENT_PROCESSOR_AUDITOR": "-", "SHD_WEB_SERVICES_ADMIN": "SAP Concur Connect"}
)
NOT_ON_ROLE_PAGE = frozenset({"EXP_AUTH_REQUEST_ADMIN", "EXP_AUTH_REQUEST_APPROVER"})

PROCESSOR_REPORT_ACCESS = (
    "Which reports it covers is the user's processor_report_access (Concur's User Preference "
    "processorReportAccess): absent = all reports excluding returned reports; COMPLETE = all "
    "reports including returned reports; RESTRICTED = only reports pending processor step and "
    "beyond."
)
PROCESSOR_ROLES = frozenset({"EXP_PROCESSOR", "EXP_PROCESSOR_AUDIT", "EXP_PROCESSOR_ADMIN"})
"""The roles ``processorReportAccess`` is for: "Report access for processor roles (Expense
Processor, Expense Processor Audit, Expense Processor Manager)" (v4.1.spend-user-retrieval.md
"User Preference Extension"; the role page says the same of EXP_PROCESSOR and _ADMIN)."""
REPORT_ACCESS_MEANINGS: Mapping[str | None, str] = MappingProxyType(
    {
        None: "all reports excluding returned reports (Concur's default)",
        "COMPLETE": "all reports including returned reports",
        "RESTRICTED": "only reports pending processor step and beyond",
    }
)


def report_access_meaning(value: str | None) -> str:
    """What a ``processorReportAccess`` value lets a processor see."""
    return REPORT_ACCESS_MEANINGS.get(value, "not a documented value")


_PERMISSION_DESCRIPTIONS: Mapping[str, str] = MappingProxyType(
    dict.fromkeys(PROCESSOR_ROLES, PROCESSOR_REPORT_ACCESS)
)

# Code prefix -> product, for codes the page does not list. Checked in order.
_PRODUCT_PREFIXES = (
    ("BUDGET_REPORTING_", "Reporting"),
    ("REPORTING_", "Reporting"),
    ("EXP_", "Expense"),
    ("STATEMENT_", "Expense"),
    ("TRAVEL_", "Expense"),
    ("REQ_", "Request"),
    ("INV_", "Invoice"),
)


def guess_product(code: str) -> str:
    """The product of a code the page does not list, from its prefix (else "Other"; an
    unknown ``SHD_`` code may belong to any product)."""
    upper = code.upper()
    for prefix, product in _PRODUCT_PREFIXES:
        if upper.startswith(prefix):
            return product
    return "Other"


def is_privileged(permissions: tuple[str, ...]) -> bool:
    """The privileged rule of this module's docstring."""
    return any(p in PRIVILEGED_PERMISSIONS for p in permissions)


def product_area(code: str) -> str:
    """The page's "Product Area" cell of ``code`` ("" for a code the page does not list)."""
    if code in NOT_ON_ROLE_PAGE:
        return ""
    return _AREA_AS_WRITTEN.get(code, "Y" if code in _SHARED_Y else "N")


def _build() -> Mapping[str, RoleInfo]:
    table: dict[str, RoleInfo] = {}
    for product, rows in SECTIONS:
        for code, name, group_aware, category, permissions in rows:
            area = product_area(code)
            table[code] = RoleInfo(
                code=code,
                name=name,
                product=", ".join((product, *_ALSO_LISTED.get(code, ()))),
                group_aware=group_aware,
                privileged=is_privileged(permissions),
                category=category,
                permissions=permissions,
                shared={"Y": True, "N": False}.get(area),
                permission_description=_PERMISSION_DESCRIPTIONS.get(code, ""),
            )
    return MappingProxyType(table)


CATALOGUE: Mapping[str, RoleInfo] = _build()


def role_info(code: str) -> RoleInfo:
    """The catalogue entry for ``code``, or an opaque ``known=False`` entry (Concur adds codes)."""
    info = CATALOGUE.get(code)
    if info is not None:
        return info
    category = "approver" if code.upper().endswith("_APPROVER") else "other"
    return RoleInfo(
        code=code,
        name=code,
        product=guess_product(code),
        group_aware=False,
        privileged=False,
        category=category,
        permissions=("unknown",),
        known=False,
    )


@lru_cache(maxsize=256)
def entitlement_role(product: str) -> RoleInfo:
    """The role that stands for base access to ``product`` (an Identity ``entitlements`` item).

    Its code is ``ENTITLEMENT_<PRODUCT>``, upper-cased with ``_`` for anything else (design.md
    §4): the one spelling the payload, the summary, the diff and the report use. Cached: a
    tenant has a handful of products and 100,000 users who repeat them.
    """
    code = "ENTITLEMENT_" + re.sub(r"[^A-Z0-9]", "_", product.strip().upper())
    return RoleInfo(
        code=code,
        name=f"{product} (base access)",
        product=product,
        group_aware=False,
        privileged=False,
        category="entitlement",
        permissions=("use",),
    )
