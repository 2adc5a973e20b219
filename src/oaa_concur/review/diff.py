"""What changed between two discoveries: users, status, grants, edges, limits, report access.

``diff(old, new)`` is pure: it compares two ``DiscoveryResult``s. A grant is (user, role code,
role groups), so a change of scope shows as one grant lost and one gained; product entitlements
count as grants of ``ENTITLEMENT_<PRODUCT>`` roles, as in the OAA payload (design.md §4).
Delegations are those in force when each discovery ran (``as_of``): a temporary delegation
whose window closed between the two runs is a delegation removed. An approver edge carries its
``primary`` flag; approval limits compare as their one-line text; ``processorReportAccess``
and ``biManager`` changes are status changes.
``diff_snapshots`` is what ``oaa-concur diff`` runs: it picks the two snapshots of the store
(default: the last two, design.md §2.1) and ``SnapshotDiff.render`` writes text or JSON.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any, Literal, get_args

import orjson

from oaa_concur.catalogue import entitlement_role
from oaa_concur.errors import ConfigError
from oaa_concur.models import DiscoveryResult, User
from oaa_concur.review.snapshot import SnapshotStore

Grant = tuple[str, str, tuple[str, ...]]  # user id, role code, role groups
Approval = tuple[str, str, str, bool]  # user id, approver id, kind, primary
Delegation = tuple[str, str, str, tuple[str, ...]]  # user id, delegate id, kind, permissions
Limit = tuple[str, str]  # user id, ApprovalLimit.text()
DiffFormat = Literal["text", "json"]
DIFF_FORMATS: tuple[DiffFormat, ...] = get_args(DiffFormat)


@dataclass(frozen=True, slots=True)
class StatusChange:
    user_id: str
    field: str
    old: str | None
    new: str | None


@dataclass(slots=True)
class Diff:
    users_added: list[str] = field(default_factory=list)
    users_removed: list[str] = field(default_factory=list)
    status_changes: list[StatusChange] = field(default_factory=list)
    grants_gained: list[Grant] = field(default_factory=list)
    grants_lost: list[Grant] = field(default_factory=list)
    approvers_added: list[Approval] = field(default_factory=list)
    approvers_removed: list[Approval] = field(default_factory=list)
    delegates_added: list[Delegation] = field(default_factory=list)
    delegates_removed: list[Delegation] = field(default_factory=list)
    limits_added: list[Limit] = field(default_factory=list)
    limits_removed: list[Limit] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not any(getattr(self, f) for f in self.__dataclass_fields__)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def grants(result: DiscoveryResult) -> set[Grant]:
    """Every (user, role, scope) of the result, Spend roles and product entitlements."""
    found = {
        (p.user_id, g.role_code, g.role_groups) for p in result.spend.values() for g in p.roles
    }
    found |= {(u.id, entitlement_role(e).code, ()) for u in result.users for e in u.entitlements}
    return found


def diff(old: DiscoveryResult, new: DiscoveryResult) -> Diff:
    """The changes from ``old`` to ``new``, each list sorted."""
    old_users = {u.id: u for u in old.users}
    new_users = {u.id: u for u in new.users}
    return Diff(
        users_added=sorted(new_users.keys() - old_users.keys()),
        users_removed=sorted(old_users.keys() - new_users.keys()),
        status_changes=_status_changes(old_users, new_users) + _profile_changes(old, new),
        grants_gained=sorted(grants(new) - grants(old)),
        grants_lost=sorted(grants(old) - grants(new)),
        approvers_added=sorted(_approvals(new) - _approvals(old)),
        approvers_removed=sorted(_approvals(old) - _approvals(new)),
        delegates_added=sorted(_delegations(new) - _delegations(old)),
        delegates_removed=sorted(_delegations(old) - _delegations(new)),
        limits_added=sorted(_limits(new) - _limits(old)),
        limits_removed=sorted(_limits(old) - _limits(new)),
    )


def _status_changes(old: dict[str, User], new: dict[str, User]) -> list[StatusChange]:
    changes = []
    for user_id in sorted(old.keys() & new.keys()):
        a, b = old[user_id], new[user_id]
        if a.active != b.active:
            changes.append(
                StatusChange(user_id, "active", str(a.active).lower(), str(b.active).lower())
            )
        if a.termination_date != b.termination_date:
            changes.append(
                StatusChange(
                    user_id, "termination_date", _day(a.termination_date), _day(b.termination_date)
                )
            )
    return changes


def _day(value: datetime | None) -> str | None:
    return value.date().isoformat() if value else None


def _profile_changes(old: DiscoveryResult, new: DiscoveryResult) -> list[StatusChange]:
    """``processor_report_access`` and ``bi_manager_id`` of users in both Spend pictures."""
    changes = []
    for user_id in sorted(old.spend.keys() & new.spend.keys()):
        a, b = old.spend[user_id], new.spend[user_id]
        if a.processor_report_access != b.processor_report_access:
            changes.append(
                StatusChange(
                    user_id,
                    "processor_report_access",
                    a.processor_report_access,
                    b.processor_report_access,
                )
            )
        if a.bi_manager_id != b.bi_manager_id:
            changes.append(StatusChange(user_id, "bi_manager_id", a.bi_manager_id, b.bi_manager_id))
    return changes


def _approvals(result: DiscoveryResult) -> set[Approval]:
    return {
        (e.user_id, e.approver_id, e.kind, e.primary)
        for p in result.spend.values()
        for e in p.approvers
    }


def _delegations(result: DiscoveryResult) -> set[Delegation]:
    """The delegations in force when ``result`` was discovered."""
    now = result.as_of
    return {
        (e.user_id, e.delegate_id, e.kind, tuple(sorted(e.permissions)))
        for p in result.spend.values()
        for e in p.delegates
        if e.state(now) == "in_force"
    }


def _limits(result: DiscoveryResult) -> set[Limit]:
    return {(x.user_id, x.text()) for p in result.spend.values() for x in p.approval_limits}


def render_text(d: Diff, names: Mapping[str, str]) -> str:
    """A human-readable summary; ``names`` maps user ids to display names."""

    def who(user_id: str) -> str:
        return f"{names[user_id]} ({user_id})" if user_id in names else user_id

    lines = [
        f"users: +{len(d.users_added)} -{len(d.users_removed)}, "
        f"status changes {len(d.status_changes)}, grants +{len(d.grants_gained)} "
        f"-{len(d.grants_lost)}, approver edges +{len(d.approvers_added)} "
        f"-{len(d.approvers_removed)}, delegate edges +{len(d.delegates_added)} "
        f"-{len(d.delegates_removed)}, approval limits +{len(d.limits_added)} "
        f"-{len(d.limits_removed)}"
    ]
    lines += [f"+ user {who(u)}" for u in d.users_added]
    lines += [f"- user {who(u)}" for u in d.users_removed]
    lines += [f"~ {who(c.user_id)}: {c.field} {c.old} -> {c.new}" for c in d.status_changes]
    lines += [f"+ grant {who(u)} {r}{_scope(g)}" for u, r, g in d.grants_gained]
    lines += [f"- grant {who(u)} {r}{_scope(g)}" for u, r, g in d.grants_lost]
    lines += [
        f"+ approver {who(a)} approves {who(u)} ({_kind(k, p)})" for u, a, k, p in d.approvers_added
    ]
    lines += [
        f"- approver {who(a)} approves {who(u)} ({_kind(k, p)})"
        for u, a, k, p in d.approvers_removed
    ]
    lines += [
        f"+ delegate {who(x)} for {who(u)} ({k}: {', '.join(p) or 'no rights'})"
        for u, x, k, p in d.delegates_added
    ]
    lines += [
        f"- delegate {who(x)} for {who(u)} ({k}: {', '.join(p) or 'no rights'})"
        for u, x, k, p in d.delegates_removed
    ]
    lines += [f"+ approval limit of {who(u)}: {text}" for u, text in d.limits_added]
    lines += [f"- approval limit of {who(u)}: {text}" for u, text in d.limits_removed]
    return "\n".join(lines)


def _kind(kind: str, primary: bool) -> str:
    return kind if primary else f"{kind}, not primary"


def _scope(groups: tuple[str, ...]) -> str:
    return f" [role groups: {', '.join(groups)}]" if groups else " [company-wide]"


@dataclass(frozen=True, slots=True)
class SnapshotDiff:
    """The changes from snapshot ``old`` to snapshot ``new`` of one store."""

    old: int
    new: int
    changes: Diff
    names: Mapping[str, str]
    """User id -> display name, from both snapshots (for the text form)."""

    def to_json(self) -> dict[str, Any]:
        return {"old": self.old, "new": self.new, **self.changes.to_json()}

    def render(self, fmt: DiffFormat) -> str:
        """The diff as indented JSON, or as the human-readable text with a header line."""
        if fmt == "json":
            return orjson.dumps(self.to_json(), option=orjson.OPT_INDENT_2).decode()
        return f"snapshot {self.old} -> {self.new}\n{render_text(self.changes, self.names)}"


def diff_snapshots(store: SnapshotStore, old: int | None, new: int | None) -> SnapshotDiff:
    """Diff two snapshots: ``new`` defaults to the newest, ``old`` to the one before ``new``."""
    if new is None:
        new = store.resolve(None).id
    if old is None:
        old = store.previous(new)
    if old is None:
        raise ConfigError(
            f"Snapshot {new} is the only one in {store.state_dir}",
            "run discovery again, then diff",
        )
    before, after = store.load(old), store.load(new)
    names = {u.id: u.name for u in [*before.users, *after.users]}
    return SnapshotDiff(old, new, diff(before, after), names)
