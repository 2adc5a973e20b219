"""The join step (concur/references.py): references by id or employeeNumber, and the unknown."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from oaa_concur.concur.references import (
    IdentityLookups,
    describe,
    resolve,
    resolve_profile,
    resolve_user,
)
from oaa_concur.models import ApproverEdge, DelegateEdge, SpendProfile, UnknownReference, User

USERS = [
    User("u-ann", employee_number="100"),
    User("u-ben", employee_number="200"),
    User("u-cat", employee_number="300"),
    User("u-twin1", employee_number="999"),
    User("u-twin2", employee_number="999"),
]


def _lookups() -> IdentityLookups:
    return IdentityLookups(USERS, {u.id for u in USERS})


@pytest.mark.parametrize(
    ("value", "number", "expected"),
    [
        ("u-ann", None, ("u-ann", "")),
        ("u-ann", "200", ("u-ann", "")),  # the UUID is authoritative
        (None, "200", ("u-ben", "")),
        ("u-ghost", "100", (None, "is not an Identity user")),  # not replaced by the number
        (None, "404", (None, "matches no Identity user's employeeNumber")),
        (None, "999", (None, "matches the employeeNumber of 2 Identity users")),
        (None, None, (None, "names no user (neither value nor employeeNumber)")),
        ("", "", (None, "names no user (neither value nor employeeNumber)")),
    ],
)
def test_resolve(value: str | None, number: str | None, expected: tuple[str | None, str]) -> None:
    assert resolve(value, number, _lookups()) == expected


class CountingLookups:
    """Lookups that count employee-number queries (the index is built only when needed)."""

    def __init__(self) -> None:
        self.number_queries = 0

    def known(self, user_id: str) -> bool:
        return user_id.startswith("u-")

    def by_employee_number(self, number: str) -> Sequence[str]:
        self.number_queries += 1
        return ()


def test_unchanged_records_are_the_same_objects() -> None:
    """Most users need nothing: no copy, no employee-number look-up (1,000,000 users)."""
    lookups = CountingLookups()
    user = User("u-ann", manager_id="u-ben", manager_employee_number="200")
    profile = SpendProfile(
        "u-ann",
        approvers=(ApproverEdge("u-ann", "u-ben", "report", True),),
        delegates=(DelegateEdge("u-ann", "u-cat", "expense"),),
        bi_manager_id="u-ben",
    )
    assert resolve_user(user, lookups) == (user, [])
    assert resolve_user(user, lookups)[0] is user
    resolved, unknown = resolve_profile(profile, lookups)
    assert resolved is profile and unknown == [] and lookups.number_queries == 0


def test_user_manager_by_employee_number_and_dangling() -> None:
    by_number, none = resolve_user(User("u-cat", manager_employee_number="100"), _lookups())
    assert by_number.manager_id == "u-ann" and none == []
    ghost, [unknown] = resolve_user(
        User("u-cat", manager_id="u-ghost", manager_employee_number="z10000"), _lookups()
    )
    assert ghost.manager_id is None and ghost.manager_employee_number == "z10000"
    assert unknown == UnknownReference(
        "u-cat", "manager", "", "u-ghost", "z10000", "is not an Identity user"
    )
    assert describe(unknown) == "manager u-ghost is not an Identity user; not published"


def test_profile_references_resolved_or_left_out() -> None:
    profile = SpendProfile(
        "u-ann",
        approvers=(
            ApproverEdge("u-ann", "", "request", True, "200"),
            ApproverEdge("u-ann", "", "report", False, "reportApprover"),
            ApproverEdge("u-ann", "u-cat", "report", True),
        ),
        delegates=(
            DelegateEdge("u-ann", "", "expense", ("canApprove",), None, None, "300"),
            DelegateEdge("u-ann", "u-nobody", "payment", ("canSubmit",)),
            DelegateEdge("u-ann", "", "expense", ("canSubmit",)),
        ),
        bi_manager_employee_number="999",
    )
    resolved, unknown = resolve_profile(profile, _lookups())
    assert resolved.approvers == (
        ApproverEdge("u-ann", "u-ben", "request", True, "200"),
        ApproverEdge("u-ann", "u-cat", "report", True),
    )
    assert resolved.delegates == (
        DelegateEdge("u-ann", "u-cat", "expense", ("canApprove",), None, None, "300"),
    )
    assert resolved.bi_manager_id is None
    assert [(r.relation, r.kind, r.target) for r in unknown] == [
        ("approver", "report", "employeeNumber reportApprover"),
        ("delegate", "payment", "u-nobody"),
        ("delegate", "expense", "nobody"),
        ("bi_manager", "", "employeeNumber 999"),
    ]
    assert describe(unknown[0]) == (
        "report approver employeeNumber reportApprover matches no Identity user's "
        "employeeNumber; not published"
    )
    assert describe(unknown[3]).startswith("bi manager employeeNumber 999 matches the")


def test_bi_manager_by_number_is_resolved() -> None:
    profile = SpendProfile("u-ann", bi_manager_employee_number="300")
    assert resolve_profile(profile, _lookups())[0].bi_manager_id == "u-cat"
