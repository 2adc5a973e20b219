"""The join step: every reference to a user resolved through Identity, once all pages are read.

Concur names other users by UserReference: ``value`` (the user UUID) and/or ``employeeNumber``
(``api-reference/user-provisioning/spend/v4.1.spend-user-retrieval.md`` "User Reference"; the
provisioning examples write approvers and delegates by ``employeeNumber`` only). Identity's
enterprise ``employeeNumber`` is "unique for the company" (``v4.1.identity.md`` "Enterprise
User"), and the API promises no referential integrity on read (the documented examples point
at users no example lists: ``511a3ed6-...``, ``7a183cbe-...``). So each reference of a manager,
a ``biManager``, an approver or a delegate is resolved here:

* a ``value`` is kept when Identity lists that id (the UUID is authoritative: an unknown id is
  not replaced by what its ``employeeNumber`` would match);
* an ``employeeNumber`` alone is looked up in Identity's employee numbers (two users with the
  same number are ambiguous, so nobody);
* anything else is an ``UnknownReference``: never published as an edge to nobody, counted as
  the data issue ``unknown_reference`` and listed in the report.

``resolve`` is a small pure function over a ``Lookups``; the in-memory ``IdentityLookups`` can
be replaced by one over SQLite when the join moves there (issue 12's streaming).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from typing import Protocol, TypeVar

from oaa_concur.models import ApproverEdge, DelegateEdge, SpendProfile, UnknownReference, User

Edge = TypeVar("Edge", ApproverEdge, DelegateEdge)


class Lookups(Protocol):
    """What resolution needs to know about Identity's users."""

    def known(self, user_id: str) -> bool: ...

    def by_employee_number(self, number: str) -> Sequence[str]:
        """The ids of the users with this employee number (empty: none)."""
        ...


class IdentityLookups:
    """Lookups over the users one discovery read; the employee-number index is built only when
    a reference needs it (most tenants name every user by id)."""

    def __init__(self, users: Iterable[User], ids: set[str]) -> None:
        self._users = users
        self._ids = ids
        self._numbers: dict[str, list[str]] | None = None

    def known(self, user_id: str) -> bool:
        return user_id in self._ids

    def by_employee_number(self, number: str) -> Sequence[str]:
        if self._numbers is None:
            self._numbers = {}
            for user in self._users:
                if user.employee_number:
                    self._numbers.setdefault(user.employee_number, []).append(user.id)
        return self._numbers.get(number, ())


def resolve(value: str | None, number: str | None, lookups: Lookups) -> tuple[str | None, str]:
    """``(id, "")`` for a reference Identity can place, else ``(None, why not)``."""
    if value:
        return (value, "") if lookups.known(value) else (None, "is not an Identity user")
    if number:
        ids = lookups.by_employee_number(number)
        if len(ids) == 1:
            return ids[0], ""
        if not ids:
            return None, "matches no Identity user's employeeNumber"
        return None, f"matches the employeeNumber of {len(ids)} Identity users"
    return None, "names no user (neither value nor employeeNumber)"


def describe(ref: UnknownReference) -> str:
    """The data issue's detail: ``report approver 511a... is not an Identity user; ...``."""
    what = f"{ref.kind} {ref.relation}" if ref.kind else ref.relation.replace("_", " ")
    return f"{what} {ref.target} {ref.reason}; not published"


def resolve_user(user: User, lookups: Lookups) -> tuple[User, list[UnknownReference]]:
    """``user`` with its manager resolved (the same object when nothing changes)."""
    value, number = user.manager_id, user.manager_employee_number
    if (value is None and number is None) or (value is not None and lookups.known(value)):
        return user, []
    uid, why = resolve(value, number, lookups)
    if uid is not None:
        return replace(user, manager_id=uid), []
    return replace(user, manager_id=None), [
        UnknownReference(user.id, "manager", "", value, number, why)
    ]


def resolve_profile(
    profile: SpendProfile, lookups: Lookups
) -> tuple[SpendProfile, list[UnknownReference]]:
    """``profile`` with its approvers, delegates and ``biManager`` resolved; the references
    that resolve to nobody are left out and returned (the same object when nothing changes)."""
    found: list[UnknownReference] = []
    approvers = _edges(profile.user_id, profile.approvers, lookups, found)
    delegates = _edges(profile.user_id, profile.delegates, lookups, found)
    bi_manager = _bi_manager(profile, lookups, found)
    if (approvers, delegates, bi_manager) == (
        profile.approvers,
        profile.delegates,
        profile.bi_manager_id,
    ):
        return profile, found
    return replace(
        profile, approvers=approvers, delegates=delegates, bi_manager_id=bi_manager
    ), found


def _bi_manager(
    profile: SpendProfile, lookups: Lookups, found: list[UnknownReference]
) -> str | None:
    value, number = profile.bi_manager_id, profile.bi_manager_employee_number
    if value is None and number is None:
        return None  # "biManager": null, the documented default
    uid, why = resolve(value, number, lookups)
    if uid is None:
        found.append(UnknownReference(profile.user_id, "bi_manager", "", value, number, why))
    return uid


def _edges(
    owner: str, edges: tuple[Edge, ...], lookups: Lookups, found: list[UnknownReference]
) -> tuple[Edge, ...]:
    kept: list[Edge] = []
    for edge in edges:
        relation, value, number = _target(edge)
        uid, why = resolve(value or None, number, lookups)
        if uid is None:
            found.append(UnknownReference(owner, relation, edge.kind, value or None, number, why))
        elif uid == value:
            kept.append(edge)
        else:
            kept.append(_retarget(edge, uid))
    return tuple(kept) if len(kept) != len(edges) or any(map(_differs, kept, edges)) else edges


def _differs(a: object, b: object) -> bool:
    return a is not b


def _target(edge: ApproverEdge | DelegateEdge) -> tuple[str, str, str | None]:
    if isinstance(edge, ApproverEdge):
        return "approver", edge.approver_id, edge.approver_employee_number
    return "delegate", edge.delegate_id, edge.delegate_employee_number


def _retarget(edge: Edge, uid: str) -> Edge:
    if isinstance(edge, ApproverEdge):
        return replace(edge, approver_id=uid)
    return replace(edge, delegate_id=uid)
