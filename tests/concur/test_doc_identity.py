"""Every documented Identity example response through ``parse_user`` (one test per example,
named after its page and section; files in tests/fixtures/concur_docs/, see its README)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from oaa_concur.concur.issues import IssueSink
from oaa_concur.concur.parse import parse_user
from oaa_concur.models import Email, IssueKind, User
from tests.fakes.docserver import FIXTURES, fixture

USER_RESPONSES = [
    "identity-v4.1__retrieve-a-users-identity-profile__response.json",
    "identity-v4.1__create-a-users-identity-profile-with-post__response.json",
    "identity-v4.1__replace-a-users-identity-profile-with-put__response.json",
    "identity-v4.1__update-a-users-identity-profile-with-patch__response.json",
    "identity-v4__retrieve-a-users-identity-profile__response.json",
    "ereceipts-enterprise-guide__get-the-employee-data-using-identity-v4.1__response.json",
    "user-provisioning-v4__retrieve-user-profile-data__identity-response.json",
    "user-provisioning-v4__create-user__response.json",
    "user-provisioning-v4__update-user-patch__response.json",
]
LIST_RESPONSES = [
    *sorted(
        p.name
        for p in FIXTURES.glob("*.json")
        if ("identity" in p.name or "user-retrieval" in p.name or "active-users" in p.name)
        and p.name.endswith("response.json")
        and "Resources" in fixture(p.name)
    ),
    "identity-v4.1-search-guide__may-not-always-be-returned__response-last-page.json",
]


def _one(name: str) -> tuple[User, IssueSink]:
    sink = IssueSink()
    user = parse_user(fixture(name), "doc", sink)
    assert user is not None, name
    return user, sink


def _page(name: str) -> tuple[list[User], IssueSink]:
    sink = IssueSink()
    raw = fixture(name).get("Resources", [])
    users = [parse_user(r, f"doc#{i}", sink) for i, r in enumerate(raw)]
    return [u for u in users if u is not None], sink


@pytest.mark.parametrize("name", USER_RESPONSES)
def test_every_documented_identity_user_parses(name: str) -> None:
    user, _ = _one(name)
    assert user.id == fixture(name)["id"]


@pytest.mark.parametrize("name", LIST_RESPONSES)
def test_every_documented_identity_page_parses(name: str) -> None:
    users, sink = _page(name)
    raw = fixture(name).get("Resources", [])
    assert len(users) == len([r for r in raw if r.get("id")])
    unreadable = [i for i in sink.issues() if i.kind is IssueKind.MALFORMED_RECORD]
    assert len(unreadable) == len(raw) - len(users)  # never dropped without a word


def test_identity_v41_retrieve_a_users_identity_profile() -> None:
    """v4.1.identity.md "Retrieve a User's Identity Profile > Examples > Response"."""
    user, sink = _one("identity-v4.1__retrieve-a-users-identity-profile__response.json")
    assert user.id == "3df11695-e8bb-40ff-8e98-c85913ab2789"
    assert user.employee_number == "1234_employeeNumber"
    assert user.manager_id is None and user.manager_employee_number is None  # manager: null
    assert user.start_date == datetime(2021, 11, 17, tzinfo=UTC)  # no zone: taken as UTC
    assert user.created_at == datetime(2021, 11, 17, 22, 44, 9, 164, tzinfo=UTC)
    assert user.entitlements == ()  # "Request Only": absent unless asked for
    assert sink.issues() == []


def test_ereceipts_guide_get_the_employee_data_using_identity_v41() -> None:
    """e-receipts-enterprise guide "GET the employee data using Identity V4.1": the manager
    is named by value and employeeNumber (``z10000``); employeeNumber ``10004``."""
    user, _ = _one(
        "ereceipts-enterprise-guide__get-the-employee-data-using-identity-v4.1__response.json"
    )
    assert user.employee_number == "10004"
    assert user.manager_id == "511a3ed6-0232-43e6-8393-fafdf7dd0a63"
    assert user.manager_employee_number == "z10000"
    assert user.emails == ()


def test_ereceipts_guide_getting_all_active_users() -> None:
    """e-receipts guide "Roster Sync > Getting All Active Users": a full user although
    ``attributes: ["active"]`` was asked; employeeNumber "Demo User"."""
    [user], sink = _page("ereceipts-enterprise-guide__getting-all-active-users__response.json")
    assert user.id == "046b3a2d-081b-482c-9168-86f69ca3fd57"
    assert user.employee_number == "Demo User" and user.active is True
    assert sink.issues() == []


def test_identity_v41_search_for_users_placeholder_booleans() -> None:
    """v4.1.identity.md "Search For Users": ``"active": "boolean"`` placeholders are bad
    values (counted), not crashes; the ids ``uuid-v4-user-N`` are kept as sent."""
    users, sink = _page("identity-v4.1__search-for-users__response.json")
    assert [u.id for u in users] == ["uuid-v4-user-1", "uuid-v4-user-2", "uuid-v4-user-100"]
    assert all(u.active is False for u in users)
    assert sink.counts[IssueKind.UNPARSEABLE_VALUE] == 3


def test_identity_search_guide_attributes_active_as_strings() -> None:
    """identity-search.md "Attributes": ``"active": "true"``/``"false"`` strings."""
    users, sink = _page("identity-v4.1-search-guide__attributes__response.json")
    assert [u.active for u in users] == [True, False, True]
    assert sink.issues() == []


def test_identity_search_guide_active_users_10_years_date_only() -> None:
    """identity-search.md "... at Least 10 Years": startDate "2012-08-01" (a date only)."""
    [user, *_], _ = _page(
        "identity-v4.1-search-guide__search-for-active-users-10-years__response.json"
    )
    assert user.start_date is not None and user.start_date.tzinfo is UTC


def test_identity_search_guide_entitlement_filter_returns_entitlements() -> None:
    """identity-search.md "... Access to an Entitlement": entitlements come back when asked."""
    users, _ = _page(
        "identity-v4.1-search-guide__search-for-active-users-with-an-entitlement__response.json"
    )
    assert any("Invoice" in u.entitlements for u in users)


def test_user_provisioning_retrieve_user_profile_data_identity() -> None:
    """v4.user-provisioning.md "Retrieve User Profile Data > Response > Identity" (tenant B)."""
    user, _ = _one("user-provisioning-v4__retrieve-user-profile-data__identity-response.json")
    assert user.id == "8f545a90-305f-441b-91cd-a69ad5f548f5"
    assert user.email == "john.doe194@BravoPro7.com"
    assert Email("john.doe194@BravoPro7.com", "work") in user.emails


def test_user_retrieval_v4_response_has_total_not_total_results() -> None:
    """v4-user-retrieval.md "Retrieve and Filter Users": a user with two emails, no manager."""
    [user], _ = _page("user-retrieval-v4__retrieve-and-filter-users__response.json")
    assert user.email == "john.doe@company.com" and len(user.emails) == 2


def test_identity_v41_put_id_differs_from_its_location() -> None:
    """v4.1.identity.md "Replace ... with PUT": the ``id`` is what counts, not meta.location."""
    user, _ = _one("identity-v4.1__replace-a-users-identity-profile-with-put__response.json")
    raw: dict[str, Any] = fixture(
        "identity-v4.1__replace-a-users-identity-profile-with-put__response.json"
    )
    assert user.id == raw["id"] and user.id not in raw["meta"]["location"]
