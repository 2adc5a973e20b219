"""Every documented Spend User example through ``parse_spend``, one test per example named after
its page and section (tests/fixtures/concur_docs/README.md).

No documented Spend *response* holds a delegate, a temporary delegation, a non-empty
ApproverLimit or a reference by ``employeeNumber`` only; those shapes exist only in the
provisioning *requests*, whose user bodies are read here as records (with an ``id`` added:
requests have none) so that the parser is proven on every shape the docs print.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from oaa_concur.concur.issues import IssueSink
from oaa_concur.concur.parse import DELEGATE_FLAGS, parse_spend
from oaa_concur.models import (
    ApprovalLimit,
    ApproverEdge,
    DelegateEdge,
    IssueKind,
    RoleGrant,
    SpendProfile,
)
from tests.fakes.docserver import fixture

LIST_RESPONSES = [
    "spend-user-v4.1__retrieve-all-users__response.json",
    "spend-user-v4__retrieve-all-users__response.json",
    "ereceipts-enterprise-guide__maintaining-roster__spend-list-response.json",
]
ONE_USER = [
    "spend-user-v4.1__retrieve-a-spend-user__response.json",
    "spend-user-v4__retrieve-a-spend-user__response.json",
    "user-provisioning-v4__retrieve-user-profile-data__spend-response.json",
]


def _parse(raw: Any) -> tuple[SpendProfile, IssueSink]:
    sink = IssueSink()
    profile = parse_spend(raw, "doc", sink)
    assert profile is not None
    return profile, sink


def _request_body(name: str, operation: int = 0) -> dict[str, Any]:
    """The user of a documented (bulk) request, with an id so it reads as a record."""
    doc = fixture(name)
    data = doc["Operations"][operation]["data"] if "Operations" in doc else doc
    return {"id": f"request-{operation}", **data}


@pytest.mark.parametrize("name", LIST_RESPONSES)
def test_every_documented_spend_page_parses(name: str) -> None:
    for raw in fixture(name)["Resources"]:
        profile, sink = _parse(raw)
        assert profile.user_id == raw["id"]
        assert not [i for i in sink.issues() if i.kind is not IssueKind.UNPARSEABLE_VALUE]


@pytest.mark.parametrize("name", ONE_USER)
def test_every_documented_spend_user_parses(name: str) -> None:
    profile, sink = _parse(fixture(name))
    assert profile.user_id == fixture(name)["id"]
    assert sink.issues() == []


def test_spend_user_v41_retrieve_all_users() -> None:
    """v4.1.spend-user-retrieval.md "Retrieving all Spend Users in a Company > Response": a
    role without roleGroups and one with [""] are company-wide; processorReportAccess
    COMPLETE on users with no processor role; biManager null; empty Approver and Delegate."""
    first, second = (_parse(r)[0] for r in fixture(LIST_RESPONSES[0])["Resources"])
    assert first.roles == (
        RoleGrant("SHD_BUDGET_APPROVER"),
        RoleGrant("EXP_REIMBURSEMENT_APPROVER"),
    )
    assert first.processor_report_access == second.processor_report_access == "COMPLETE"
    assert first.bi_manager_id is None and first.bi_manager_employee_number is None
    assert not (first.approvers or first.delegates or first.approval_limits)
    assert second.roles == ()


def test_spend_user_v4_retrieve_all_users_has_no_processor_report_access() -> None:
    """v4.spend-user-retrieval.md: the v4 page predates processorReportAccess; its empty
    ApproverLimit object yields no limit."""
    for raw in fixture(LIST_RESPONSES[1])["Resources"]:
        profile, _ = _parse(raw)
        assert profile.processor_report_access is None and profile.approval_limits == ()


def test_spend_user_v41_retrieve_a_spend_user() -> None:
    """v4.1 "Retrieving a Spend User > Response": roles [EXP_USER], COMPLETE."""
    profile, _ = _parse(fixture(ONE_USER[0]))
    assert profile.user_id == "94bf66c2-272c-4760-91f5-4d5290a033a8"
    assert profile.roles == (RoleGrant("EXP_USER"),)
    assert profile.processor_report_access == "COMPLETE"


def test_ereceipts_guide_maintaining_roster_spend_list() -> None:
    """e-receipts guide "Maintaining Roster > GET Spend User by Country" (tenant A): biManager
    and three approver kinds by value, all primary; TRAVEL_USER is an Expense role."""
    [raw] = fixture(LIST_RESPONSES[2])["Resources"]
    profile, _ = _parse(raw)
    dangling = "511a3ed6-0232-43e6-8393-fafdf7dd0a63"
    assert profile.bi_manager_id == dangling
    assert {(e.kind, e.approver_id, e.primary) for e in profile.approvers} == {
        ("report", dangling, True),
        ("invoice", dangling, True),
        ("cashAdvance", dangling, True),
    }
    assert [g.role_code for g in profile.roles] == [
        "TRAVEL_USER",
        "EXP_TRAVEL_AND_EXPENSE_USER",
        "EXP_USER",
    ]


def test_user_provisioning_retrieve_user_profile_data_spend() -> None:
    """v4.user-provisioning.md "Retrieve User Profile Data > Response > Spend" (tenant B)."""
    profile, _ = _parse(fixture(ONE_USER[2]))
    assert {e.kind for e in profile.approvers} == {"report", "budget"}
    assert {e.approver_id for e in profile.approvers} == {"7a183cbe-1f4a-44f4-891c-8eff3608975e"}


def test_spend_user_provisioning_create_post_bulk_request() -> None:
    """v4.spend-user-provisioning.md "Create Spend User Resource - POST > Bulk Request":
    approvers by employeeNumber only (request primary, report not), an expense delegate by
    employeeNumber with all nine can* flags, and the misspelt "temporaryDelegatation"."""
    raw = _request_body("spend-user-provisioning__create-post__bulk-request.json")
    profile, sink = _parse(raw)
    assert profile.approvers == (
        ApproverEdge("request-0", "", "request", True, "requestApprover"),
        ApproverEdge("request-0", "", "report", False, "reportApprover"),
    )
    [delegate] = profile.delegates
    assert delegate == DelegateEdge(
        "request-0",
        "",
        "expense",
        DELEGATE_FLAGS,
        datetime(2020, 2, 19, 3, 15, tzinfo=UTC),
        datetime(2020, 2, 19, 3, 59, tzinfo=UTC),
        "expenseDelegate",
    )
    assert delegate.state(datetime(2020, 2, 19, 3, 30, tzinfo=UTC)) == "in_force"
    assert delegate.state(datetime(2025, 1, 1, tzinfo=UTC)) == "expired"
    assert delegate.state(datetime(2020, 2, 19, tzinfo=UTC)) == "scheduled"
    [misspelt] = [i for i in sink.issues() if i.kind is IssueKind.MISSPELT_KEY]
    assert "temporaryDelegatation" in misspelt.detail
    assert profile.roles == (RoleGrant("EXP_USER", ("R&D-Dev-Exp", "R&D-QA-Exp")),)


def test_spend_user_provisioning_replace_put_bulk_request() -> None:
    """v4.spend-user-provisioning.md "Replace Spend User Resources - PUT": a request approver
    by employeeNumber only."""
    profile, _ = _parse(_request_body("spend-user-provisioning__replace-put__bulk-request.json"))
    assert profile.user_id == "aaaaaaaa-bbbb-cccc-aaaa-bbbbbbbbbbb1"  # a PUT names its user
    assert profile.approvers == (
        ApproverEdge(profile.user_id, "", "request", True, "requestApprover"),
    )


def test_spend_user_provisioning_modify_patch_budget_approver_by_both() -> None:
    """v4.spend-user-provisioning.md "Modify ... PATCH": a budget approver named by value and
    employeeNumber (the value of the add operation, read as a record)."""
    add = fixture("spend-user-provisioning__modify-patch__bulk-request.json")["Operations"][0]
    value = add["data"]["Operations"][2]["value"]
    profile, _ = _parse({"id": "patched", **value})
    assert profile.approvers == (
        ApproverEdge("patched", "aaaaaaaa-bbbb-cccc-aaaa-bbbbbbbbbbb3", "budget", True, "100001"),
    )


def test_user_provisioning_create_user_request_approver_limits() -> None:
    """v4.user-provisioning.md "Create a new user with /Users > Request": the only documented
    ApproverLimit payload (authorizedApprover with a level, costObjectApprover without), and a
    report approver with value, employeeNumber and an undocumented displayName."""
    profile, sink = _parse(_request_body("user-provisioning-v4__create-user__request.json"))
    assert profile.approval_limits == (
        ApprovalLimit(
            "request-0", "authorizedApprover", "report", 999999999999999.1, "USD", "rg1-rg1_1", 1
        ),
        ApprovalLimit("request-0", "costObjectApprover", "report", 0.5, "USD", "", None),
    )
    assert profile.approval_limits[0].text() == (
        "authorizedApprover: report up to 999999999999999.1 USD in group rg1-rg1_1, level 1"
    )
    assert profile.approvers == (
        ApproverEdge("request-0", "d1eb15c1-ac9b-40d6-b5f7-ea2d2f5ae8a7", "report", True, "37480"),
    )
    assert profile.roles == (RoleGrant("EXP_APPROVER"),)  # roleGroups [] = the global group
    assert sink.issues() == []


def test_user_provisioning_update_user_patch_request_approver_by_number() -> None:
    """v4.user-provisioning.md "Update a user with /Users endpoint > Request": a request
    approver by employeeNumber "10000518" only (a ``path``-ed replace, read as the extension
    it names), and an ApproverLimit replace with exception authority."""
    ops = fixture("user-provisioning-v4__update-user-patch__request.json")["Operations"]
    approver = "urn:ietf:params:scim:schemas:extension:spend:2.0:Approver"
    [request] = [op["value"] for op in ops if op.get("path") == f"{approver}:request"]
    [limits] = [op["value"] for op in ops if isinstance(op.get("value"), dict)]
    profile, _ = _parse({"id": "u", approver: {"request": request}, **limits})
    assert profile.approvers == (ApproverEdge("u", "", "request", True, "10000518"),)
    assert [x.text() for x in profile.approval_limits] == [
        "authorizedApprover: report up to 7.5 USD in group rg1-rg1_1, with exception authority",
        "costObjectApprover: report up to 99999999999999.98 USD in group Global",
    ]


@pytest.mark.parametrize(
    ("value", "expected"),
    [("COMPLETE", "COMPLETE"), ("RESTRICTED", "RESTRICTED"), (None, None)],
)
def test_spend_user_v41_user_preference_processor_report_access(
    value: str | None, expected: str | None
) -> None:
    """v4.1 "User Preference Extension": absent or null = all reports excluding returned."""
    raw = fixture(ONE_USER[0])
    pref = "urn:ietf:params:scim:schemas:extension:spend:2.0:UserPreference"
    record = {**raw, pref: {**raw[pref], "processorReportAccess": value}}
    assert _parse(record)[0].processor_report_access == expected
