"""Parsers: Concur's documented shapes (concur-api.md §3.8, §4.2) and any JSON value at all."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from oaa_concur.concur.dates import parse_datetime
from oaa_concur.concur.issues import IssueSink
from oaa_concur.concur.parse import (
    ENTERPRISE,
    SPEND_APPROVER,
    SPEND_DELEGATE,
    SPEND_ROLE,
    SPEND_USER,
    parse_spend,
    parse_user,
)
from oaa_concur.models import ApproverEdge, Email, IssueKind, RoleGrant, SpendProfile, User

# concur-api.md §3.8: the composite v4.1 example user.
DOC_3_8_USER: dict[str, Any] = {
    "id": "3df11695-e8bb-40ff-8e98-c85913ab2789",
    "externalId": "1234_externalId",
    "userName": "John11_17_1@sap.com",
    "active": True,
    "displayName": "John Doe",
    "emails": [{"value": "John11_17_1@sap.com", "type": "work", "verified": False}],
    "entitlements": ["Expense", "Travel"],
    "meta": {"created": "2021-11-17T22:44:09.000164Z", "lastModified": "2021-11-17T22:48:31Z"},
    ENTERPRISE: {
        "companyId": "aa076ada-80a9-4f57-8e98-9300b1c3171d",
        "employeeNumber": "1234_employeeNumber",
        "startDate": "2021-11-17T00:00:00.000",
        "terminationDate": None,
        "costCenter": None,
        "manager": {"value": "7a183cbe-0000", "employeeNumber": "E77"},
    },
}

# concur-api.md §4.2: the Spend list example record (roles, approver, delegate).
DOC_4_2_SPEND: dict[str, Any] = {
    "id": "94bf66c2-272c-4760-91f5-4d5290a033a8",
    SPEND_USER: {"testEmployee": False, "nonEmployee": False},
    SPEND_ROLE: {
        "roles": [
            {"roleName": "SHD_BUDGET_APPROVER"},
            {"roleName": "EXP_REIMBURSEMENT_APPROVER", "roleGroups": [""]},
            {"roleName": "EXP_PROCESSOR", "roleGroups": ["R&D-QA-Exp"]},
            {"roleName": "EXP_APPROVER", "roleGroups": []},
        ]
    },
    SPEND_APPROVER: {
        "report": [{"approver": {"value": "7a183cbe-..."}, "primary": True}],
        "cashAdvance": [{"approver": {"value": "c1"}}],
    },
    SPEND_DELEGATE: {
        "expense": [
            {
                "delegate": {"value": "aaaa...2"},
                "canApprove": True,
                "canPrepare": True,
                "canUseBi": False,
                "temporaryDelegation": {
                    "temporaryDelegationFromDate": "2024-01-01",
                    "temporaryDelegationToDate": "2024-02-01T00:00:00Z",
                },
            }
        ]
    },
}


def test_doc_3_8_user() -> None:
    sink = IssueSink()
    user = parse_user(DOC_3_8_USER, "0", sink)
    assert user is not None
    assert user.email == "John11_17_1@sap.com"
    assert user.emails == (Email("John11_17_1@sap.com", "work"),)
    assert user.entitlements == ("Expense", "Travel")
    assert user.manager_id == "7a183cbe-0000"
    assert user.start_date == datetime(2021, 11, 17, tzinfo=UTC)
    assert user.created_at == datetime(2021, 11, 17, 22, 44, 9, 164, tzinfo=UTC)
    assert user.termination_date is None and user.cost_center is None
    assert user.active is True
    assert sink.issues() == []


def test_doc_4_2_spend() -> None:
    sink = IssueSink()
    profile = parse_spend(DOC_4_2_SPEND, "0", sink)
    assert profile is not None
    assert profile.roles == (
        RoleGrant("SHD_BUDGET_APPROVER"),
        RoleGrant("EXP_REIMBURSEMENT_APPROVER"),
        RoleGrant("EXP_PROCESSOR", ("R&D-QA-Exp",)),
        RoleGrant("EXP_APPROVER"),
    )
    assert ApproverEdge(profile.user_id, "7a183cbe-...", "report", True) in profile.approvers
    assert {e.kind for e in profile.approvers} == {"report", "cashAdvance"}
    (delegate,) = profile.delegates
    assert delegate.kind == "expense" and delegate.permissions == ("canApprove", "canPrepare")
    assert delegate.temporary_from == datetime(2024, 1, 1, tzinfo=UTC)
    assert profile.non_employee is False and sink.issues() == []


def test_bad_values_become_issues_not_crashes() -> None:
    sink = IssueSink()
    raw = {
        "id": "u1",
        "active": "boolean",
        "userName": ["x"],
        "employeeNumber": 5,
        ENTERPRISE: {"startDate": "not a date", "employeeNumber": 42, "manager": "m"},
        "emails": "nope",
        "entitlements": "Expense",
    }
    user = parse_user(raw, "0", sink)
    assert user is not None and user.active is False and user.user_name is None
    assert user.employee_number == "42" and user.start_date is None and user.entitlements == ()
    kinds = [(i.kind, i.detail.split(":")[0]) for i in sink.issues()]
    assert (IssueKind.UNPARSEABLE_VALUE, "startDate") in kinds
    assert (IssueKind.UNPARSEABLE_VALUE, "active") in kinds


def test_missing_id_is_malformed() -> None:
    sink = IssueSink()
    assert parse_user({"userName": "x"}, "identity#3", sink) is None
    assert parse_spend([1, 2], "spend#4", sink) is None
    assert [(i.kind, i.subject) for i in sink.issues()] == [
        (IssueKind.MALFORMED_RECORD, "identity#3"),
        (IssueKind.MALFORMED_RECORD, "spend#4"),
    ]


def test_issue_sink_is_bounded() -> None:
    sink = IssueSink(limit=3)
    for i in range(10):
        sink.add(IssueKind.UNPARSEABLE_VALUE, str(i), "x")
    issues = sink.issues()
    assert len(issues) == 4 and issues[-1].detail.startswith("7 more")
    assert sink.counts[IssueKind.UNPARSEABLE_VALUE] == 10


def test_dates_all_formats_to_utc() -> None:
    expected = datetime(2021, 11, 17, tzinfo=UTC)
    for text in (
        "2021-11-17",
        "2021-11-17T00:00:00.000",
        "2021-11-17T00:00:00Z",
        "2021-11-17T01:00:00+01:00",
        "2021-11-17 00:00:00",
        "11/17/2021",
        "17-Nov-2021",
        "2021/11/17",
        "/Date(1637107200000)/",
        "1637107200",
        "Wed, 17 Nov 2021 00:00:00 GMT",
        "2021-11-17 00:00:00 UTC",
    ):
        assert parse_datetime(text) == expected, text
    assert parse_datetime(1637107200000) == expected
    assert parse_datetime(None) is None and parse_datetime("") is None


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=10),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=10,
)
keys = st.sampled_from(
    [
        "id",
        "active",
        "emails",
        "meta",
        "entitlements",
        ENTERPRISE,
        SPEND_ROLE,
        SPEND_APPROVER,
        SPEND_DELEGATE,
        SPEND_USER,
        "userName",
    ]
)


@settings(max_examples=300, deadline=None)
@given(json_values, st.dictionaries(keys, json_values, max_size=8))
def test_parsers_never_crash(anything: Any, record: dict[str, Any]) -> None:
    sink = IssueSink()
    for raw in (anything, record, {**record, "id": "x"}):
        user = parse_user(raw, "0", sink)
        spend = parse_spend(raw, "0", sink)
        assert user is None or isinstance(user, User)
        assert spend is None or isinstance(spend, SpendProfile)
        if user is None:  # a record that yields no user is always counted, never dropped silently
            assert any(i.kind == IssueKind.MALFORMED_RECORD for i in sink.issues())
