"""The role catalogue: every code of concur-api.md §4.4 is there, consistent and well-formed."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from oaa_concur import catalogue
from oaa_concur.catalogue import (
    CATALOGUE,
    PERMISSIONS,
    entitlement_role,
    role_info,
)

# concur-api.md §4.4, copied code by code (Expense, Request, Invoice, Reporting).
_SECTION_4_4_TEXT = """
SHD_APP_CENTER_ADMIN EXP_ATTENDEE_ADMIN EXP_ATTENDEE_ADMIN_RO SHD_AUTHORIZED_APPROVER
SHD_BILLING_ATTRIBUTES_USER SHD_BUDGET_ADMIN SHD_BUDGET_APPROVER SHD_BUDGET_OWNER
SHD_BUDGET_VIEWER EXP_PCARD_ADMIN EXP_PROCESSOR_CR TRAVEL_USER EXP_CONFIG_ADMIN_CLIENT
STATEMENT_APPROVER STATEMENT_PROCESSOR STATEMENT_PROCESSOR_AUDITOR STATEMENT_PROCESSOR_ADMIN
STATEMENT_USER SHD_COMPANY_INFO_ADMIN SHD_COST_OBJECT_APPROVER SHD_DATA_RETENTION_ADMIN
SHD_EMPLOYEE_ADMIN SHD_EMPLOYEE_ADMIN_RO EXP_APPROVER EXP_CASHADVANCE_ADMIN EXP_CARD_ADMIN
EXP_CONFIG_ADMIN EXP_CONFIG_ADMIN_RO EXP_PROCESSOR EXP_PROCESSOR_AUDIT EXP_PROCESSOR_ADMIN
EXP_PROXY_USER EXP_RECEIPT_PROCESSOR EXP_USER EXP_EMPLOYEE_ADMIN EXP_FIND_ATTENDEES_USER
EXP_EXTRACT_ADMIN EXP_FB_TAX_ADMIN SHD_IMPORT_EXTRACT_ADMIN_RO SHD_PASSWORD_ADMIN
SHD_PAYROLL_ADMIN EXP_REIMBURSEMENT_AUDITOR EXP_REIMBURSEMENT_APPROVER SHD_ROLE_ADMIN
SHD_CONFIG_ADMIN SHD_CONFIG_ADMIN_RO SHD_TAX_ADMIN SHD_TAX_ADMIN_RO SHD_TRAINING_ADMIN
EXP_TRAVEL_AND_EXPENSE_USER SHD_WEB_SERVICES_ADMIN
REQ_USER REQ_APPROVER REQ_PROXY_USER REQ_PROCESSOR REQ_PROCESSOR_ADMIN REQ_PROCESSOR_AUDIT
REQ_CONFIG_ADMIN REQ_CONFIG_ADMIN_RO REQ_EVENT_ADMIN REQ_RISK_ADMIN
INV_PMT_USER INV_APPROVER INV_AP_USER INV_PROCESSOR INV_PROCESSOR_AUDIT INV_PROCESSOR_MANAGER
INV_PROXY_USER INV_RECEIPT_PROCESSOR INV_IMAGE_PROCESSOR INV_PMT_MANAGER INV_CONFIG_ADMIN
INV_CONFIG_ADMIN_RO INV_EMPLOYEE_ADMIN INV_VENDOR_ADMIN INV_TAX_ADMIN INV_IC_VERIFIER
INV_PURCH_USER INV_PURCH_RECEIVER INV_RECEIPT_USER INV_PURCH_ORDER_PROCESSOR
INV_PURCH_ORDER_PROCESSOR_AUDIT INV_PURCH_REQ_USER INV_PURCH_REQ_APPROVER
INV_PURCH_REQ_PROCESSOR INV_PURCH_REQ_PROCESSOR_AUDIT INV_PURCH_REQ_PROXY_USER
REPORTING_CONSUMER REPORTING_BUSINESS_AUTHOR REPORTING_PRO_AUTHOR REPORTING_CONFIG_ADMIN
REPORTING_HIST_DATA_USER REPORTING_EMPLOYEE_ADMIN BUDGET_REPORTING_USER REPORTING_CAS_ANALYST
REPORTING_DASHBOARD_USER
"""
SECTION_4_4 = tuple(_SECTION_4_4_TEXT.split())
# concur-api.md §4.4 marks these "(G)" (and the Reporting table of the doc marks its own).
GROUP_AWARE = {
    "EXP_ATTENDEE_ADMIN",
    "EXP_ATTENDEE_ADMIN_RO",
    "EXP_PCARD_ADMIN",
    "EXP_PROCESSOR_CR",
    "EXP_CONFIG_ADMIN_CLIENT",
    "STATEMENT_PROCESSOR",
    "STATEMENT_PROCESSOR_ADMIN",
    "SHD_EMPLOYEE_ADMIN",
    "SHD_EMPLOYEE_ADMIN_RO",
    "EXP_CASHADVANCE_ADMIN",
    "EXP_CARD_ADMIN",
    "EXP_CONFIG_ADMIN",
    "EXP_CONFIG_ADMIN_RO",
    "EXP_PROCESSOR",
    "EXP_PROCESSOR_AUDIT",
    "EXP_PROCESSOR_ADMIN",
    "EXP_PROXY_USER",
    "EXP_EMPLOYEE_ADMIN",
    "SHD_PASSWORD_ADMIN",
    "EXP_REIMBURSEMENT_APPROVER",
    "SHD_ROLE_ADMIN",
    "SHD_CONFIG_ADMIN",
    "SHD_CONFIG_ADMIN_RO",
    "REQ_PROXY_USER",
    "REQ_PROCESSOR",
    "REQ_PROCESSOR_ADMIN",
    "REQ_PROCESSOR_AUDIT",
    "REQ_CONFIG_ADMIN",
    "REQ_CONFIG_ADMIN_RO",
    "REQ_RISK_ADMIN",
    "INV_AP_USER",
    "INV_PROCESSOR",
    "INV_PROCESSOR_AUDIT",
    "INV_PROCESSOR_MANAGER",
    "INV_PROXY_USER",
    "INV_RECEIPT_PROCESSOR",
    "INV_CONFIG_ADMIN",
    "INV_CONFIG_ADMIN_RO",
    "INV_EMPLOYEE_ADMIN",
    "INV_VENDOR_ADMIN",
    "INV_PURCH_RECEIVER",
    "INV_PURCH_ORDER_PROCESSOR",
    "INV_PURCH_ORDER_PROCESSOR_AUDIT",
    "INV_PURCH_REQ_PROCESSOR",
    "INV_PURCH_REQ_PROCESSOR_AUDIT",
    "INV_PURCH_REQ_PROXY_USER",
}
CANONICAL = {
    "DataRead",
    "DataWrite",
    "DataCreate",
    "DataDelete",
    "MetadataRead",
    "MetadataWrite",
    "MetadataCreate",
    "MetadataDelete",
    "NonData",
    "Uncategorized",
}


def test_every_code_of_section_4_4_is_known() -> None:
    assert len(SECTION_4_4) == 96
    missing = [code for code in SECTION_4_4 if code not in CATALOGUE]
    assert missing == []


@pytest.mark.parametrize("code", sorted(GROUP_AWARE))
def test_group_aware_flags_follow_the_doc(code: str) -> None:
    assert CATALOGUE[code].group_aware


def test_roles_without_g_are_not_group_aware() -> None:
    not_g = {"EXP_APPROVER", "EXP_USER", "SHD_PAYROLL_ADMIN", "INV_PMT_MANAGER", "REQ_APPROVER"}
    assert not any(CATALOGUE[code].group_aware for code in not_g)


def test_entries_are_well_formed() -> None:
    for code, info in CATALOGUE.items():
        assert info.code == code and info.known
        assert info.name.strip() and info.name != code
        assert info.category in catalogue.CATEGORIES
        assert info.permissions, code
        assert all(p in PERMISSIONS for p in info.permissions), code


def test_permissions_map_to_canonical_types_only() -> None:
    for name, types in PERMISSIONS.items():
        assert re.fullmatch(r"[a-z][a-z_]*", name)
        assert types and set(types) <= CANONICAL, name
    assert PERMISSIONS["approve"] == ("DataRead", "DataWrite")
    assert PERMISSIONS["act_as"] == ("DataRead", "DataWrite")
    assert PERMISSIONS["read_configuration"] == ("MetadataRead",)
    assert set(PERMISSIONS["configure"]) == {
        "MetadataRead",
        "MetadataWrite",
        "MetadataCreate",
        "MetadataDelete",
    }
    assert PERMISSIONS["unknown"] == ("Uncategorized",)


def test_full_names_come_from_the_doc() -> None:
    assert CATALOGUE["EXP_APPROVER"].name == "Expense Approver"
    assert CATALOGUE["REQ_PROCESSOR"].name == "TMC Agent"
    assert CATALOGUE["EXP_PROCESSOR_ADMIN"].name == "Expense Processor Manager"
    assert CATALOGUE["EXP_REIMBURSEMENT_APPROVER"].name == "Reimbursement Manager"
    assert CATALOGUE["TRAVEL_USER"].name == "Cliqbook User"


@pytest.mark.parametrize(
    "code",
    [
        "SHD_ROLE_ADMIN",
        "EXP_CONFIG_ADMIN",
        "REQ_CONFIG_ADMIN",
        "INV_CONFIG_ADMIN",
        "SHD_EMPLOYEE_ADMIN",
        "SHD_PAYROLL_ADMIN",
        "INV_PMT_MANAGER",
        "INV_VENDOR_ADMIN",
        "EXP_PROCESSOR_ADMIN",
        "SHD_WEB_SERVICES_ADMIN",
        "SHD_PASSWORD_ADMIN",
        "SHD_CONFIG_ADMIN",
    ],
)
def test_administrative_roles_are_privileged(code: str) -> None:
    assert CATALOGUE[code].privileged


@pytest.mark.parametrize(
    "code",
    [
        "EXP_USER",
        "EXP_APPROVER",
        "EXP_PROCESSOR",
        "EXP_PROCESSOR_AUDIT",
        "SHD_EMPLOYEE_ADMIN_RO",
        "SHD_TAX_ADMIN_RO",
        "REPORTING_CONSUMER",
        "EXP_PROXY_USER",
    ],
)
def test_everyday_and_read_only_roles_are_not_privileged(code: str) -> None:
    assert not CATALOGUE[code].privileged


def test_privileged_follows_the_documented_rule() -> None:
    for info in CATALOGUE.values():
        expected = bool(set(info.permissions) & catalogue.PRIVILEGED_PERMISSIONS)
        assert info.privileged is expected, info.code


ROLE_PAGE = Path(__file__).parents[1] / (
    "fixtures/concur_docs/spend-role-codes__role-tables__roles.json"
)
# The page's table headings -> the product the catalogue names.
TABLES = {
    "Expense Product Roles": "Expense",
    "Request Product Roles": "Request",
    "Product Roles Invoice (Payment)": "Invoice",
    "Reporting Product Roles": "Reporting",
}
ROWS = [r for r in json.loads(ROLE_PAGE.read_text(encoding="utf-8"))["roles"] if r["code"] != "N/A"]


@pytest.mark.parametrize("row", ROWS, ids=[f"{r['line']}-{r['code']}" for r in ROWS])
def test_spend_role_codes_page_row(row: dict[str, Any]) -> None:
    """v4.spend-role-code-definition.md, every table row with a code: the catalogue has the
    code, its full name exactly, its Group-Aware flag, the table it sits in as a product and
    its "Product Area" (a shared flag: "Shared with two or more SAP Concur products.")."""
    info = CATALOGUE[row["code"]]
    assert info.name == row["full_name"]
    assert info.group_aware is (row["group_aware"] == "Y")
    assert TABLES[row["section"]] in info.product.split(", ")
    assert catalogue.product_area(row["code"]) == row["product_area"]
    assert info.shared is {"Y": True, "N": False}.get(row["product_area"])


def test_products_are_the_tables_a_code_sits_in() -> None:
    tables: dict[str, list[str]] = {}
    for row in ROWS:
        tables.setdefault(row["code"], []).append(TABLES[row["section"]])
    for code, info in CATALOGUE.items():
        if code in catalogue.NOT_ON_ROLE_PAGE:
            assert info.product == "Expense" and info.shared is None
            continue
        assert info.product == ", ".join(tables[code]), code
    assert CATALOGUE["TRAVEL_USER"].product == "Expense"  # "Cliqbook User", Expense table
    assert CATALOGUE["STATEMENT_USER"].product == "Expense"
    assert CATALOGUE["SHD_ROLE_ADMIN"].product == "Expense"
    assert CATALOGUE["SHD_PAYROLL_ADMIN"].product == "Expense, Invoice"


def test_every_coded_row_of_the_page_is_in_the_catalogue_and_nothing_else() -> None:
    on_page = {r["code"] for r in ROWS}
    assert len(on_page) == 96
    assert set(CATALOGUE) == on_page | catalogue.NOT_ON_ROLE_PAGE


def test_processor_roles_name_their_report_access() -> None:
    """processorReportAccess is "Report access for processor roles (Expense Processor,
    Expense Processor Audit, Expense Processor Manager)" (v4.1 "User Preference Extension")."""
    described = {
        c for c, i in CATALOGUE.items() if "processor_report_access" in i.permission_description
    }
    assert described == {"EXP_PROCESSOR", "EXP_PROCESSOR_AUDIT", "EXP_PROCESSOR_ADMIN"}
    for value in ("COMPLETE", "RESTRICTED"):
        assert value in catalogue.PROCESSOR_REPORT_ACCESS
    assert catalogue.report_access_meaning(None).startswith("all reports excluding returned")
    assert catalogue.report_access_meaning("SOMETHING") == "not a documented value"


def test_unknown_code_is_opaque_and_uncategorized() -> None:
    info = role_info("EXP_BRAND_NEW_ROLE")
    assert info.known is False
    assert info.name == "EXP_BRAND_NEW_ROLE" and info.code == "EXP_BRAND_NEW_ROLE"
    assert info.product == "Expense"
    assert info.permissions == ("unknown",) and not info.privileged
    assert role_info("ZZZ").product == "Other"
    assert role_info("SHD_SOMETHING_NEW").product == "Other"  # SHD_ codes sit in any table
    assert role_info("STATEMENT_NEW").product == "Expense"
    assert role_info("EXP_APPROVER") is CATALOGUE["EXP_APPROVER"]


def test_entitlement_roles() -> None:
    expense = entitlement_role("Expense")
    assert expense.code == "ENTITLEMENT_EXPENSE"
    assert expense.category == "entitlement" and expense.product == "Expense"
    assert all(p in PERMISSIONS for p in expense.permissions)
    assert entitlement_role("Travel").code == "ENTITLEMENT_TRAVEL"
    assert entitlement_role("Locate/Analytics 2").code == "ENTITLEMENT_LOCATE_ANALYTICS_2"
    assert entitlement_role("invoice").code == "ENTITLEMENT_INVOICE"


def test_approver_category_used_by_sod_rules() -> None:
    """``@approver`` in an SoD rule means this category (docs/review.md)."""

    def approver(code: str) -> bool:
        return role_info(code).category == "approver"

    assert approver("EXP_APPROVER") and approver("INV_PURCH_REQ_APPROVER")
    assert not approver("EXP_REIMBURSEMENT_APPROVER")  # the Reimbursement *Manager*
    assert not approver("EXP_USER")
    assert approver("XYZ_NEW_APPROVER")  # unknown codes: guessed from the name
