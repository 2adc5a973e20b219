"""The OAA payload built from a small hand-made DiscoveryResult (design.md §4)."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from oaa_concur import catalogue, oaa
from oaa_concur.models import (
    ApprovalLimit,
    ApproverEdge,
    Company,
    DataIssue,
    DelegateEdge,
    DiscoveryResult,
    Email,
    IssueKind,
    RoleGrant,
    RunStats,
    SpendProfile,
    User,
)
from oaa_concur.sync import with_issues

ALICE = "11111111-1111-4111-8111-111111111111"
BOB = "22222222-2222-4222-8222-222222222222"
CAROL = "33333333-3333-4333-8333-333333333333"
DAVE = "44444444-4444-4444-8444-444444444444"
APP = "Concur - Acme Corp"
NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
"""When the hand-made discovery ran: temporary delegations are judged at this moment."""


def _window(start: str, end: str) -> tuple[datetime, datetime]:
    """Naive on purpose: a window without a zone is read as UTC (``DelegateEdge.state``)."""
    return datetime.fromisoformat(start), datetime.fromisoformat(end)


def _result() -> DiscoveryResult:
    alice = User(
        id=ALICE,
        user_name="alice@acme.example",
        display_name="Alice Admin",
        active=True,
        emails=(Email("Alice.Home@Mail.example", "home"), Email("Alice@Acme.example", "work")),
        external_id="ext-1",
        employee_number="E1",
        cost_center="CC-100",
        department="Finance",
        division="EMEA",
        company_id="acme",
        manager_id=BOB,
        start_date=datetime(2020, 1, 2, tzinfo=UTC),
        termination_date=datetime(2025, 6, 30, 12, 0, tzinfo=timezone(timedelta(hours=2))),
        created_at=datetime(2019, 12, 1, 8, 30, 15, 123000, tzinfo=UTC),
        last_modified_at=datetime(2024, 1, 19, 20, 10, 34, tzinfo=UTC),
        entitlements=("Expense", "Invoice", "Locate"),
    )
    bob = User(
        id=BOB,
        user_name="bob",
        display_name=None,
        active=False,
        emails=(Email("BOB@acme.example", "work"),),
        entitlements=("Expense",),
    )
    carol = User(id=CAROL, user_name="CAROL.login", display_name="Carol", active=True)
    dave = User(id=DAVE, user_name="dave@acme.example", active=True, cost_center="x" * 5000)
    spend = {
        ALICE: SpendProfile(
            ALICE,
            roles=(
                RoleGrant("EXP_APPROVER"),
                RoleGrant("EXP_PROCESSOR", ("R&D-QA-Exp", "Sales-EU")),
                RoleGrant("SHD_ROLE_ADMIN", ()),
                RoleGrant("XYZ_NEW_ROLE"),
            ),
            approvers=(
                ApproverEdge(ALICE, BOB, "report", True),
                ApproverEdge(ALICE, CAROL, "report", False),
                ApproverEdge(ALICE, CAROL, "cashAdvance", True),
            ),
            delegates=(
                DelegateEdge(ALICE, CAROL, "expense", ("canApprove", "canSubmit")),
                DelegateEdge(ALICE, DAVE, "expense", ("canSubmit", "canUseBi")),
                # Temporary: over before NOW, open at NOW, not begun at NOW.
                DelegateEdge(
                    ALICE, BOB, "payment", ("canApprove",), *_window("2020-02-19", "2020-03-01")
                ),
                DelegateEdge(
                    ALICE, DAVE, "payment", ("canApprove",), *_window("2025-02-01", "2025-04-01")
                ),
                DelegateEdge(
                    ALICE,
                    CAROL,
                    "purchaseRequest",
                    ("canViewReceipt",),
                    *_window("2025-06-01", "2025-07-01"),
                ),
            ),
            non_employee=False,
            test_employee=True,
            bi_manager_id=BOB,
            processor_report_access="COMPLETE",
            approval_limits=(
                ApprovalLimit(ALICE, "authorizedApprover", "report", 5000.0, "USD", "", 1),
                ApprovalLimit(
                    ALICE, "costObjectApprover", "payment", 0.5, "EUR", "R&D-QA-Exp", None, True
                ),
            ),
        ),
        BOB: SpendProfile(
            BOB, roles=(RoleGrant("EXP_PROCESSOR", ("Sales-EU",)), RoleGrant("EXP_USER"))
        ),
    }
    return DiscoveryResult(
        Company("acme-uuid", "https://us2.api.concursolutions.com", "Acme Corp"),
        [dave, carol, bob, alice],
        spend,
        stats=RunStats(started_at=NOW),
    )


Built = tuple[oaa.BuiltApplication, dict[str, Any]]


@pytest.fixture(scope="module")
def built() -> Built:
    application = oaa.build_application(_result())
    return application, oaa.payload(application.app)


def _app(payload: dict[str, Any]) -> dict[str, Any]:
    [app] = payload["applications"]
    assert isinstance(app, dict)
    return app


def _user(payload: dict[str, Any], uid: str) -> dict[str, Any]:
    return next(u for u in _app(payload)["local_users"] if u["id"] == uid)


def _grants(payload: dict[str, Any], uid: str) -> dict[str, dict[str, Any]]:
    entry = next((e for e in payload["identity_to_permissions"] if e["identity"] == uid), None)
    if entry is None:
        return {}
    assert entry["identity_type"] == "local_user"
    return {a["role"]: a for a in entry["role_assignments"]}


def test_application(built: Built) -> None:
    app = _app(built[1])
    assert app["name"] == APP and app["application_type"] == "Concur"
    assert app["custom_properties"] == {
        "company_id": "acme-uuid",
        "geolocation": "https://us2.api.concursolutions.com",
    }


def test_users_sorted_and_all_present(built: Built) -> None:
    ids = [u["id"] for u in _app(built[1])["local_users"]]
    assert ids == [ALICE, BOB, CAROL, DAVE]


def test_full_user(built: Built) -> None:
    alice = _user(built[1], ALICE)
    assert alice["name"] == "Alice Admin"
    assert alice["email"] == "Alice@Acme.example"  # the work email, as Concur sends it
    assert alice["identities"] == ["alice.home@mail.example", "alice@acme.example"]
    assert alice["is_active"] is True and alice["user_type"] == "human"
    assert alice["created_at"] == "2019-12-01T08:30:15Z"
    assert alice["custom_properties"] == {
        "user_name": "alice@acme.example",
        "cost_center": "CC-100",
        "employee_number": "E1",
        "department": "Finance",
        "division": "EMEA",
        "company_id": "acme",
        "external_id": "ext-1",
        "manager_id": BOB,
        "start_date": "2020-01-02T00:00:00Z",
        "termination_date": "2025-06-30T10:00:00Z",
        "last_modified_at": "2024-01-19T20:10:34Z",
        "entitlements": ["Expense", "Invoice", "Locate"],
        "report_approvers": [BOB, CAROL],
        "report_approvers_primary": [BOB],
        "cash_advance_approvers": [CAROL],
        "cash_advance_approvers_primary": [CAROL],
        "expense_delegates": [CAROL, DAVE],
        "expense_delegates_can_approve": [CAROL],
        "expense_delegates_can_submit": [CAROL, DAVE],
        "expense_delegates_can_use_bi": [DAVE],
        "payment_delegates": [DAVE],  # BOB's window ended, CAROL's has not begun
        "payment_delegates_can_approve": [DAVE],
        "non_employee": False,
        "test_employee": True,
        "bi_manager_id": BOB,
        "processor_report_access": "COMPLETE",
        "authorized_approver_types": ["report"],
        "cost_object_approver_types": ["payment"],
        "approval_limit_groups": ["Global", "R&D-QA-Exp"],
        "approval_limits": [
            "authorizedApprover: report up to 5000 USD in group Global, level 1",
            "costObjectApprover: payment up to 0.5 EUR in group R&D-QA-Exp, "
            "with exception authority",
        ],
    }


def test_temporary_delegations_are_judged_at_now() -> None:
    """The same result built at other moments: each window counts only while it is open."""
    result = _result()
    role_ids = {c.upper(): c for c in (*catalogue.CATALOGUE, "XYZ_NEW_ROLE")}
    alice = result.users[3]

    def delegates(now: datetime | None) -> dict[str, object]:
        mapped = oaa.map_user(alice, result.spend[ALICE], role_ids, now=now)
        return {k: v for k, v in mapped.properties.items() if "_delegates" in k}

    assert delegates(datetime(2020, 2, 20, tzinfo=UTC))["payment_delegates"] == [BOB]
    in_june = delegates(datetime(2025, 6, 1, tzinfo=UTC))  # the first instant of the window
    assert in_june["purchase_request_delegates_can_view_receipt"] == [CAROL]
    assert "payment_delegates" not in in_june
    no_time = delegates(None)  # nothing can be placed: no temporary delegation is in force
    assert set(no_time) == {
        "expense_delegates",
        "expense_delegates_can_approve",
        "expense_delegates_can_submit",
        "expense_delegates_can_use_bi",
    }
    later = oaa.payload(oaa.build_application(result, now=datetime(2030, 1, 1, tzinfo=UTC)).app)
    assert "payment_delegates" not in _user(later, ALICE)["custom_properties"]


def test_inactive_user_without_display_name(built: Built) -> None:
    bob = _user(built[1], BOB)
    assert bob["is_active"] is False  # kept: False is not dropped
    assert bob["name"] == "bob"
    assert bob["identities"] == ["bob@acme.example"]
    assert "created_at" not in bob


def test_user_without_email(built: Built) -> None:
    carol = _user(built[1], CAROL)
    assert "email" not in carol and "identities" not in carol  # a non-email login is no identity
    assert carol["custom_properties"] == {"user_name": "CAROL.login"}
    assert _grants(built[1], CAROL) == {}


def test_user_name_that_is_an_email_is_an_identity(
    built: Built,
) -> None:
    assert _user(built[1], DAVE)["identities"] == ["dave@acme.example"]


def test_long_string_truncated_and_reported(built: Built) -> None:
    application, payload = built
    assert _user(payload, DAVE)["custom_properties"]["cost_center"] == "x" * 4096
    assert (
        DataIssue(IssueKind.TRUNCATED_STRING, DAVE, "cost_center cut to 4096 characters")
        in application.issues
    )


def test_company_wide_and_scoped_grants(built: Built) -> None:
    grants = _grants(built[1], ALICE)
    assert grants["EXP_APPROVER"] == {
        "application": APP,
        "role": "EXP_APPROVER",
        "apply_to_application": True,
    }
    assert grants["SHD_ROLE_ADMIN"]["apply_to_application"] is True  # [""] -> () upstream
    assert grants["EXP_PROCESSOR"] == {
        "application": APP,
        "role": "EXP_PROCESSOR",
        "apply_to_application": False,
        "resources": ["R&D-QA-Exp", "Sales-EU"],
    }
    assert grants["XYZ_NEW_ROLE"]["apply_to_application"] is True
    assert sorted(grants) == [
        "ENTITLEMENT_EXPENSE",
        "ENTITLEMENT_INVOICE",
        "ENTITLEMENT_LOCATE",
        "EXP_APPROVER",
        "EXP_PROCESSOR",
        "SHD_ROLE_ADMIN",
        "XYZ_NEW_ROLE",
    ]
    assert _grants(built[1], BOB)["EXP_PROCESSOR"]["resources"] == ["Sales-EU"]
    assert set(_grants(built[1], BOB)) == {"ENTITLEMENT_EXPENSE", "EXP_PROCESSOR", "EXP_USER"}


def test_role_groups_are_resources(built: Built) -> None:
    resources = _app(built[1])["resources"]
    assert resources == [
        {"id": "R&D-QA-Exp", "name": "R&D-QA-Exp", "resource_type": "role_group"},
        {"id": "Sales-EU", "name": "Sales-EU", "resource_type": "role_group"},
    ]


def test_roles(built: Built) -> None:
    roles = {r["id"]: r for r in _app(built[1])["local_roles"]}
    assert list(roles) == sorted(roles)
    assert set(catalogue.CATALOGUE) < set(roles)
    assert roles["EXP_APPROVER"] == {
        "id": "EXP_APPROVER",
        "name": "Expense Approver",
        "permissions": ["approve"],
        "custom_properties": {
            "product": "Expense",
            "privileged": False,
            "group_aware": False,
            "category": "approver",
            "known": True,
            "shared": False,
        },
    }
    processor = roles["EXP_PROCESSOR"]["custom_properties"]
    assert "processor_report_access" in processor["permission_description"]
    assert roles["SHD_DATA_RETENTION_ADMIN"]["custom_properties"]["product"] == (
        "Expense, Request, Invoice"
    )
    assert "shared" not in roles["SHD_WEB_SERVICES_ADMIN"]["custom_properties"]
    assert roles["SHD_ROLE_ADMIN"]["custom_properties"]["privileged"] is True
    assert roles["XYZ_NEW_ROLE"]["permissions"] == ["unknown"]
    assert roles["XYZ_NEW_ROLE"]["custom_properties"]["known"] is False
    for product in ("EXPENSE", "INVOICE", "REQUEST", "TRAVEL", "LOCATE"):
        role = roles[f"ENTITLEMENT_{product}"]
        assert role["custom_properties"]["category"] == "entitlement"


def test_unknown_role_code_reported_once(built: Built) -> None:
    unknown = [i for i in built[0].issues if i.kind is IssueKind.UNKNOWN_ROLE_CODE]
    assert [i.subject for i in unknown] == ["XYZ_NEW_ROLE"]


def test_build_leaves_the_result_alone_and_repeats_no_issue_it_holds() -> None:
    """Sinks report what they found; sync adds it to the result (the snapshot records it)."""
    result = _result()
    found = oaa.build_application(result).issues
    assert result.issues == [] and {i.kind for i in found} == {
        IssueKind.UNKNOWN_ROLE_CODE,
        IssueKind.TRUNCATED_STRING,
    }
    assert oaa.build_application(with_issues(result, found)).issues == ()


def test_map_user_is_what_the_payload_holds(built: Built) -> None:
    """The per-user mapping alone (no oaaclient object) gives each payload user's entry."""
    result, payload = _result(), built[1]
    role_ids = {r["id"].upper(): r["id"] for r in _app(payload)["local_roles"]}
    for user in result.users:
        mapped = oaa.map_user(user, result.spend.get(user.id), role_ids, now=NOW)
        entry = _user(payload, user.id)
        assert (mapped.name, mapped.active) == (entry["name"], entry["is_active"])
        assert list(mapped.identities) == entry.get("identities", [])
        assert dict(mapped.properties) == entry.get("custom_properties", {})
        assert {r for r, _ in mapped.assignments} == set(_grants(payload, user.id))
    alice = oaa.map_user(result.users[3], result.spend[ALICE], role_ids, now=NOW)
    assert ("EXP_PROCESSOR", ("r&d-qa-exp", "sales-eu")) in alice.assignments
    assert alice.assignments[0] == ("ENTITLEMENT_EXPENSE", ())
    dave = oaa.map_user(result.users[0], None, role_ids)
    assert [i.kind for i in dave.issues] == [IssueKind.TRUNCATED_STRING]


def test_permissions_map_to_canonical_types(built: Built) -> None:
    perms = {p["name"]: p for p in built[1]["permissions"]}
    assert set(perms) == set(catalogue.PERMISSIONS)
    assert perms["approve"]["permission_type"] == ["DataRead", "DataWrite"]
    assert perms["unknown"]["permission_type"] == ["Uncategorized"]
    assert perms["read_configuration"]["permission_type"] == ["MetadataRead"]
    assert perms["configure"]["permission_type"] == [
        "MetadataRead",
        "MetadataWrite",
        "MetadataCreate",
        "MetadataDelete",
    ]
    assert all(p["apply_to_sub_resources"] is True for p in perms.values())


def test_property_definitions(built: Built) -> None:
    (defs,) = built[1]["custom_property_definition"]["applications"]
    assert defs["application_type"] == "Concur"
    assert defs["application_properties"] == {"company_id": "STRING", "geolocation": "STRING"}
    assert defs["local_role_properties"] == {
        "product": "STRING",
        "privileged": "BOOLEAN",
        "group_aware": "BOOLEAN",
        "category": "STRING",
        "known": "BOOLEAN",
        "shared": "BOOLEAN",
        "permission_description": "STRING",
    }
    users = defs["local_user_properties"]
    assert all(re.fullmatch(r"[a-z][a-z_]*", name) for name in users)
    expected = {
        "user_name": "STRING",
        "cost_center": "STRING",
        "start_date": "TIMESTAMP",
        "termination_date": "TIMESTAMP",
        "last_modified_at": "TIMESTAMP",
        "entitlements": "STRING_LIST",
        "manager_id": "STRING",
        "non_employee": "BOOLEAN",
        "purchase_request_approvers": "STRING_LIST",
        "cash_advance_approvers": "STRING_LIST",
        "budget_approvers": "STRING_LIST",
        "budget_approvers_primary": "STRING_LIST",
        "payment_delegates": "STRING_LIST",
        "purchase_request_delegates_can_approve": "STRING_LIST",
        "external_id": "STRING",
        "bi_manager_id": "STRING",
        "processor_report_access": "STRING",
        "authorized_approver_types": "STRING_LIST",
        "cost_object_approver_types": "STRING_LIST",
        "approval_limit_groups": "STRING_LIST",
        "approval_limits": "STRING_LIST",
    }
    assert expected.items() <= users.items()
    kinds = ("report", "cash_advance", "request", "invoice", "purchase_request", "statement")
    for kind in (*kinds, "budget"):
        assert users[f"{kind}_approvers"] == users[f"{kind}_approvers_primary"] == "STRING_LIST"
    flags = (
        "approve",
        "prepare",
        "prepare_for_approval",
        "receive_approval_email",
        "receive_email",
        "submit",
        "submit_travel_request",
        "use_bi",
        "view_receipt",
    )
    for kind in ("expense", "payment", "purchase_request"):
        for flag in flags:  # every documented can* flag of SPEND41 "Spend Delegate"
            assert users[f"{kind}_delegates_can_{flag}"] == "STRING_LIST"


def test_schema_does_not_depend_on_data() -> None:
    empty = DiscoveryResult(Company("c", "https://x.example"), [], {})
    (small,) = oaa.payload(oaa.build_application(empty).app)["custom_property_definition"][
        "applications"
    ]
    (full,) = oaa.payload(oaa.build_application(_result()).app)["custom_property_definition"][
        "applications"
    ]
    assert small == full


def test_payload_is_deterministic_and_json() -> None:
    first = oaa.payload_json(oaa.build_application(_result()).app)
    result = _result()
    result.users.reverse()
    assert oaa.payload_json(oaa.build_application(result).app) == first
    assert json.loads(first)["applications"][0]["name"] == APP


def test_snake_case_kinds() -> None:
    assert oaa.build.snake("cashAdvance") == "cash_advance"
    assert oaa.build.snake("purchaseRequest") == "purchase_request"
    assert oaa.build.snake("report2x") == "report_x"
