"""Any JSON value where Concur promises a user, a Spend record, a date or a page: never a crash.

Each property runs ``PROPS.max_examples`` derandomized examples (see strategies.py).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from oaa_concur.concur.dates import parse_datetime
from oaa_concur.concur.issues import IssueSink
from oaa_concur.concur.pagination import CursorPaginator, IndexPaginator, resources
from oaa_concur.concur.parse import parse_spend, parse_user
from oaa_concur.concur.references import IdentityLookups, resolve_profile
from oaa_concur.errors import OaaConcurError
from oaa_concur.models import IssueKind, SpendProfile, User
from tests.badinput.strategies import (
    ANY_SPEND,
    ANY_USER,
    DATE_SAMPLES,
    DATES,
    JSON,
    PROPS,
    TEXT,
)


def _aware_utc(value: datetime | None) -> bool:
    return value is None or value.utcoffset() == UTC.utcoffset(value)


def _check_user(user: User) -> None:
    assert isinstance(user.id, str) and user.id
    for name in (
        "user_name",
        "display_name",
        "external_id",
        "employee_number",
        "cost_center",
        "department",
        "division",
        "company_id",
        "manager_id",
    ):
        value = getattr(user, name)
        assert value is None or (isinstance(value, str) and value), name
    for name in ("start_date", "termination_date", "created_at", "last_modified_at"):
        assert _aware_utc(getattr(user, name)), name
    assert isinstance(user.active, bool)
    assert all(isinstance(e.value, str) and e.value for e in user.emails)
    assert all(isinstance(p, str) and p for p in user.entitlements)
    assert isinstance(user.name, str) and user.name


@PROPS
@given(raw=ANY_USER)
def test_any_identity_record_gives_a_user_or_a_counted_issue(raw: Any) -> None:
    sink = IssueSink()
    user = parse_user(raw, "identity#0", sink)
    if user is None:
        assert sink.counts[IssueKind.MALFORMED_RECORD] == 1
    else:
        _check_user(user)
    assert sum(sink.counts.values()) == len(sink.issues())  # every issue counted and kept


def _check_spend(profile: SpendProfile) -> None:
    assert isinstance(profile.user_id, str) and profile.user_id
    for grant in profile.roles:
        assert isinstance(grant.role_code, str) and grant.role_code
        assert all(isinstance(g, str) and g for g in grant.role_groups)
    for a in profile.approvers:  # references as sent: the join resolves or reports them
        assert a.user_id == profile.user_id and isinstance(a.approver_id, str)
        assert isinstance(a.kind, str) and isinstance(a.primary, bool)
    for d in profile.delegates:
        assert isinstance(d.delegate_id, str)
        assert _aware_utc(d.temporary_from) and _aware_utc(d.temporary_to)
        assert all(p.startswith("can") for p in d.permissions)
    assert profile.non_employee in (None, True, False)
    # Against an Identity that lists nobody, no edge survives the join (none to nobody).
    alone, unknown = resolve_profile(profile, IdentityLookups([], set()))
    assert not (alone.approvers or alone.delegates) and alone.bi_manager_id is None
    assert len(unknown) == len(profile.approvers) + len(profile.delegates) + (
        profile.bi_manager_id is not None or profile.bi_manager_employee_number is not None
    )


@PROPS
@given(raw=ANY_SPEND)
def test_any_spend_record_gives_a_profile_or_a_counted_issue(raw: Any) -> None:
    sink = IssueSink()
    profile = parse_spend(raw, "spend#1", sink)
    if profile is None:
        assert sink.counts[IssueKind.MALFORMED_RECORD] == 1
    else:
        _check_spend(profile)


@PROPS
@given(value=DATES)
@example("2021-11-17T00:00:00.000")
def test_any_date_is_aware_utc_none_or_value_error(value: Any) -> None:
    try:
        parsed = parse_datetime(value)
    except ValueError:
        return
    assert parsed is None or (parsed.tzinfo is not None and _aware_utc(parsed))


@pytest.mark.parametrize("text", DATE_SAMPLES)
def test_every_sample_date_format_is_parsed_or_refused_in_one_way(text: str) -> None:
    try:
        parsed = parse_datetime(text)
    except ValueError:
        return
    assert parsed is None or parsed.tzinfo is UTC


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2021-11-17T00:00:00.000", datetime(2021, 11, 17, tzinfo=UTC)),
        ("2012-08-01", datetime(2012, 8, 1, tzinfo=UTC)),
        ("2021-11-17T22:44:09+05:30", datetime(2021, 11, 17, 17, 14, 9, tzinfo=UTC)),
        ("2021-11-17T22:44:09.000164Z", datetime(2021, 11, 17, 22, 44, 9, 164, tzinfo=UTC)),
        ("/Date(1637189049000)/", datetime(2021, 11, 17, 22, 44, 9, tzinfo=UTC)),
    ],
)
def test_documented_formats_mean_the_same_instant(text: str, expected: datetime) -> None:
    assert parse_datetime(text) == expected


_PAGE = st.one_of(
    st.dictionaries(
        st.sampled_from(
            ["Resources", "nextCursor", "startIndex", "totalResults", "itemsPerPage", "schemas"]
        ),
        JSON,
        max_size=5,
    ),
    st.dictionaries(TEXT, JSON, max_size=3),
)


@PROPS
@given(page=_PAGE)
@example({"startIndex": "\u00b2", "totalResults": "\u0663"})  # unicode digits: isdigit() is True
def test_any_page_is_read_or_refused_with_one_sentence(page: dict[str, Any]) -> None:
    """A page of the wrong shape is an error of that request (an OaaConcurError), not a crash."""
    for step in (
        lambda: resources(page, "Identity"),
        lambda: CursorPaginator("Identity").after({"count": 1000}, page),
        lambda: IndexPaginator("Spend").after({"startIndex": 1, "count": 100}, page),
    ):
        try:
            step()
        except OaaConcurError as error:
            assert str(error).strip() and "\n" not in str(error)


@PROPS
@given(records=st.lists(ANY_USER, max_size=8))
def test_a_whole_identity_page_of_anything_is_parsed_record_by_record(records: list[Any]) -> None:
    sink = IssueSink()
    users = [parse_user(raw, f"identity#{i}", sink) for i, raw in enumerate(records)]
    malformed = sum(1 for u in users if u is None)
    assert sink.counts[IssueKind.MALFORMED_RECORD] == malformed
