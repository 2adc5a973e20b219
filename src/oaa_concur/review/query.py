"""Questions about one snapshot, answered from the store in SQL (issue 14): ``access``,
``who_can_approve`` and ``who_holds``.

Everything is read from ``snapshots.sqlite`` with indexed queries of one user's rows, or one
streamed scan of a table, so the answer costs memory in proportion to the answer, never to
the tenant (a million users). ``access`` collects the edges of one person (bounded by their
edges); ``who_holds`` streams its holders, so a role held by everyone is written as it is read.

Delegations are judged at ``now`` (``DelegateEdge.state``: a temporary delegation outside its
window is not access, SPEND41 "Temporary Delegate"), as the findings are.

What ``who_can_approve`` can say is what a snapshot holds (Spend User v4.1, SPEND41
"Approver Extension", "Delegate Extension"):

* the approvers of record of the user's items of each kind, primary or not ("Spend Approver");
* the delegates of such an approver whose delegation carries ``canApprove`` and is in force
  ("Spend Delegate"). The Spend API names delegate kinds (``expense``, ``payment``,
  ``purchaseRequest``) and approver kinds (``report``, ``cashAdvance``, ``request``,
  ``invoice``, ...) separately and does not map one to the other; we read an ``expense``
  delegate as acting on the approver's report, cash-advance and request approvals, a
  ``payment`` delegate on invoices and a ``purchaseRequest`` delegate on purchase requests
  (``DELEGATE_COVERS``), which lists more candidates rather than fewer.

Not listed, because a snapshot does not hold what decides them: holders of approver or
processor roles scoped to role groups (Concur does not say which role group a user is in),
and authorized or cost-object approvers (the ApproverLimit configs apply through workflow
rules). ``access`` shows a person's approval limits as text.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

import orjson

from oaa_concur.catalogue import CATALOGUE, entitlement_role, role_info
from oaa_concur.errors import ConfigError
from oaa_concur.models import Company, DelegateEdge, DiscoveryResult, User
from oaa_concur.review.findings import Finding, find
from oaa_concur.review.rows import Row, profile_from, reference_from, user_from
from oaa_concur.review.rules import RuleSet

DELEGATE_COVERS: dict[str, tuple[str, ...]] = {
    "expense": ("report", "cashAdvance", "request"),
    "payment": ("invoice",),
    "purchaseRequest": ("purchaseRequest",),
}
"""Delegate kind -> the approver kinds it acts on (module docstring: our reading)."""
_AGGREGATE_RULES = frozenset({"PRIVILEGED_ROLE", "UNKNOWN_ROLE"})
_MATCH = (
    "SELECT * FROM users u WHERE snapshot_id = :snap AND (id = :q OR employee_number = :q"
    " OR lower(user_name) = lower(:q) OR EXISTS (SELECT 1 FROM json_each(u.emails) e"
    " WHERE lower(json_extract(e.value, '$[0]')) = lower(:q))) ORDER BY id LIMIT 3"
)


@dataclass(frozen=True, slots=True)
class Person:
    """Who a user is, and their status and dates (Identity v4.1)."""

    id: str
    name: str
    user_name: str | None
    email: str | None
    employee_number: str | None
    active: bool
    department: str | None
    cost_center: str | None
    manager_id: str | None
    start_date: datetime | None
    termination_date: datetime | None
    last_modified_at: datetime | None


@dataclass(frozen=True, slots=True)
class Role:
    """A Spend role held, with its scope (role groups; none = company-wide)."""

    role_code: str
    name: str
    privileged: bool
    role_groups: tuple[str, ...]

    @property
    def scope(self) -> str:
        return ", ".join(self.role_groups) if self.role_groups else "company-wide"


@dataclass(frozen=True, slots=True)
class Approval:
    """One approver edge seen from one side: ``other`` is whose items (or who approves)."""

    kind: str
    other_id: str
    other: str
    primary: bool


@dataclass(frozen=True, slots=True)
class Delegation:
    """One delegate edge seen from one side, with its flags, window and state at ``now``."""

    kind: str
    other_id: str
    other: str
    permissions: tuple[str, ...]
    temporary_from: datetime | None
    temporary_to: datetime | None
    state: str


@dataclass(frozen=True, slots=True)
class Access:
    """Everything ``oaa-concur access USER`` shows."""

    snapshot_id: int
    person: Person
    products: tuple[str, ...]
    roles: tuple[Role, ...]
    approves: tuple[Approval, ...]
    """Whose items this person approves."""
    approved_by: tuple[Approval, ...]
    """Who approves this person's items."""
    delegate_for: tuple[Delegation, ...]
    """For whom this person acts as delegate."""
    delegates: tuple[Delegation, ...]
    """Who acts for this person."""
    approval_limits: tuple[str, ...]
    findings: tuple[Finding, ...]

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["findings"] = [_finding_json(f) for f in self.findings]
        return data


@dataclass(frozen=True, slots=True)
class Approver:
    """One answer of ``who-can approve``: who, for which kind, and why."""

    user_id: str
    name: str
    active: bool
    kind: str
    reason: str
    """``approver of record (primary)``, ``approver of record (not primary)`` or
    ``delegate of <approver> (<delegate kind>, canApprove)``."""
    via_id: str | None = None
    """For a delegate: the approver of record they act for."""


@dataclass(frozen=True, slots=True)
class Holder:
    """One answer of ``who-can ROLE_OR_PERMISSION``."""

    user_id: str
    name: str
    active: bool
    role_code: str
    scope: tuple[str, ...]
    """Role groups; empty = company-wide."""


def _finding_json(f: Finding) -> dict[str, Any]:
    data = asdict(f)
    data["exemption"] = None if f.exemption is None else f.exemption.reason
    return data


def json_text(value: Any) -> str:
    """Indented JSON of query answers (datetimes as ISO 8601)."""
    return orjson.dumps(value, option=orjson.OPT_INDENT_2).decode()


# -- finding the person ------------------------------------------------------------------------


def find_user(db: sqlite3.Connection, snap: int, query: str) -> User:
    """The one user ``query`` names in snapshot ``snap``: id, employee number, userName or an
    email (the last two case-insensitive). Nobody or more than one is a ``ConfigError``."""
    rows = db.execute(_MATCH, {"snap": snap, "q": query.strip()}).fetchall()
    if not rows:
        raise ConfigError(
            f"No user {query!r} in snapshot {snap}",
            "give an email, login, employee number or id as the snapshot has it",
        )
    if len(rows) > 1:
        ids = ", ".join(r[1] for r in rows[:2])
        raise ConfigError(
            f"{query!r} names more than one user in snapshot {snap} ({ids}, ...)",
            "give the user's id instead",
        )
    return user_from(rows[0][1:])


def _person(user: User) -> Person:
    return Person(
        user.id,
        user.name,
        user.user_name,
        user.email,
        user.employee_number,
        user.active,
        user.department,
        user.cost_center,
        user.manager_id,
        user.start_date,
        user.termination_date,
        user.last_modified_at,
    )


def _names(db: sqlite3.Connection, snap: int, ids: Iterable[str]) -> dict[str, User]:
    found: dict[str, User] = {}
    for uid in set(ids):
        row = db.execute(
            "SELECT * FROM users WHERE snapshot_id = ? AND id = ?", (snap, uid)
        ).fetchone()
        if row is not None:
            found[uid] = user_from(row[1:])
    return found


# -- access ------------------------------------------------------------------------------------


def access(db: sqlite3.Connection, snap: int, query: str, rules: RuleSet, now: datetime) -> Access:
    """``oaa-concur access USER`` (module docstring)."""
    user = find_user(db, snap, query)
    mine, theirs = _rows(db, snap, user.id), _edges_to(db, snap, user.id)
    others = [r[1] for r in theirs["approvers"] + theirs["delegates"]]
    others += [r[2] for r in mine["approvers"] + mine["delegates"]]
    people = _names(db, snap, others) | {user.id: user}

    def name(uid: str) -> str:
        return people[uid].name if uid in people else uid

    grants = mine["grants"]
    return Access(
        snapshot_id=snap,
        person=_person(user),
        products=user.entitlements,
        roles=tuple(_role(g[2], tuple(orjson.loads(g[3]))) for g in grants),
        approves=tuple(_approval(r, r[1], name) for r in theirs["approvers"]),
        approved_by=tuple(_approval(r, r[2], name) for r in mine["approvers"]),
        delegate_for=tuple(_delegation(r, r[1], name, now) for r in theirs["delegates"]),
        delegates=tuple(_delegation(r, r[2], name, now) for r in mine["delegates"]),
        approval_limits=tuple(_limit_text(r) for r in mine["approval_limits"]),
        findings=tuple(user_findings(db, snap, user, people, mine, theirs, rules, now)),
    )


_EDGE_COLUMNS = {"approvers": "approver_id", "delegates": "delegate_id"}
_MINE = ("profiles", "grants", "approvers", "delegates", "approval_limits")


def _rows(db: sqlite3.Connection, snap: int, uid: str) -> dict[str, list[Row]]:
    """One user's rows of each Spend table."""
    return {
        t: db.execute(
            f"SELECT * FROM {t} WHERE snapshot_id = ? AND user_id = ? ORDER BY rowid",  # noqa: S608
            (snap, uid),
        ).fetchall()
        for t in _MINE
    }


def _edges_to(db: sqlite3.Connection, snap: int, uid: str) -> dict[str, list[Row]]:
    """The approver and delegate rows of other users that name ``uid`` (a scan of the
    snapshot's edges: the tables are indexed by whose record holds the edge)."""
    return {
        t: db.execute(
            f"SELECT * FROM {t} WHERE snapshot_id = ? AND {col} = ? ORDER BY rowid",  # noqa: S608
            (snap, uid),
        ).fetchall()
        for t, col in _EDGE_COLUMNS.items()
    }


def _bare(uid: str) -> Row:
    """A ``profiles`` row with nothing but the user id (for ``profile_from``)."""
    return ("", uid, None, None, None, None, None)


def _role(code: str, groups: tuple[str, ...]) -> Role:
    info = role_info(code)
    return Role(code, info.name, info.privileged, groups)


def _approval(r: Row, other: str, name: Any) -> Approval:
    return Approval(r[3], other, name(other), bool(r[4]))


def _edge(r: Row) -> DelegateEdge:
    return profile_from(_bare(r[1]), {"delegates": [r]}).delegates[0]


def _delegation(r: Row, other: str, name: Any, now: datetime) -> Delegation:
    e = _edge(r)
    return Delegation(
        e.kind,
        other,
        name(other),
        e.permissions,
        e.temporary_from,
        e.temporary_to,
        e.state(now),
    )


def _limit_text(r: Row) -> str:
    return profile_from(_bare(r[1]), {"approval_limits": [r]}).approval_limits[0].text()


# -- one user's findings -----------------------------------------------------------------------


def user_findings(
    db: sqlite3.Connection,
    snap: int,
    user: User,
    people: dict[str, User],
    mine: dict[str, list[Row]],
    theirs: dict[str, list[Row]],
    rules: RuleSet,
    now: datetime,
) -> list[Finding]:
    """The findings of ``review.findings.find`` that name ``user``, computed over a small
    result: the user's whole Spend record, the users at the other end of their edges, and for
    each of those only the edges that name ``user`` (what the approval-chain and delegate
    checks read). The two inventory rules (PRIVILEGED_ROLE, UNKNOWN_ROLE) count every holder
    of the tenant, so they are left out here: ``access`` lists the user's roles with their
    privileged flag instead, and ``report`` has the counts."""
    edges: dict[str, dict[str, list[Row]]] = {
        uid: {"approvers": [], "delegates": []} for uid in people if uid != user.id
    }
    for table, rows in theirs.items():
        for r in rows:
            edges.setdefault(r[1], {"approvers": [], "delegates": []})[table].append(r)
    spend = {uid: profile_from(_bare(uid), rows) for uid, rows in edges.items()}
    if mine["profiles"]:
        spend[user.id] = profile_from(mine["profiles"][0], mine)
    refs = db.execute(
        "SELECT * FROM unknown_references WHERE snapshot_id = ? AND user_id = ? ORDER BY rowid",
        (snap, user.id),
    ).fetchall()
    company = Company(id="", geolocation="")
    result = DiscoveryResult(
        company,
        list(people.values()),
        spend,
        unknown_references=[reference_from(r) for r in refs],
    )
    return [
        f
        for f in find(result, rules, now=now)
        if user.id in f.user_ids and f.rule not in _AGGREGATE_RULES
    ]


# -- who can approve ---------------------------------------------------------------------------


def approver_kinds(db: sqlite3.Connection, snap: int) -> list[str]:
    """The approver kinds the snapshot's approvers table holds (``--kind`` choices)."""
    rows = db.execute("SELECT DISTINCT kind FROM approvers WHERE snapshot_id = ?", (snap,))
    return sorted(r[0] for r in rows)


def who_can_approve(
    db: sqlite3.Connection, snap: int, query: str, kind: str | None, now: datetime
) -> tuple[User, list[Approver]]:
    """Everyone who can approve ``query``'s items (of ``kind``, or of every kind), and why:
    the approvers of record, then their delegates with ``canApprove`` in force at ``now``
    (module docstring for what is not listed)."""
    user = find_user(db, snap, query)
    sql = "SELECT * FROM approvers WHERE snapshot_id = ? AND user_id = ? ORDER BY kind, rowid"
    edges = [r for r in db.execute(sql, (snap, user.id)) if kind is None or r[3] == kind]
    found: list[tuple[str, str, str, str | None]] = []  # who, kind, reason, via
    for r in edges:
        primary = "primary" if r[4] else "not primary"
        found.append((r[2], r[3], f"approver of record ({primary})", None))
        found += _approving_delegates(db, snap, r[2], r[3], now)
    people = _names(db, snap, [f[0] for f in found])

    def answer(uid: str, kind: str, reason: str, via: str | None) -> Approver:
        person = people.get(uid)
        return Approver(uid, person.name if person else uid, bool(person and person.active),
                        kind, reason, via)  # fmt: skip

    return user, [answer(*f) for f in found]


def _approving_delegates(
    db: sqlite3.Connection, snap: int, approver: str, kind: str, now: datetime
) -> list[tuple[str, str, str, str | None]]:
    sql = "SELECT * FROM delegates WHERE snapshot_id = ? AND user_id = ? ORDER BY rowid"
    found: list[tuple[str, str, str, str | None]] = []
    for r in db.execute(sql, (snap, approver)):
        edge = _edge(r)
        covers = kind in DELEGATE_COVERS.get(edge.kind, ())
        if covers and edge.can_approve and edge.state(now) == "in_force":
            why = f"delegate of {approver} ({edge.kind}, canApprove)"
            found.append((edge.delegate_id, kind, why, approver))
    return found


# -- who holds a role or permission ------------------------------------------------------------


def role_codes_for(db: sqlite3.Connection, snap: int, what: str) -> tuple[list[str], list[str]]:
    """Spend role codes and products that ``what`` names: a role code (any case), a
    catalogue permission (``approve``, ``admin``...: every role that has it), an
    ``ENTITLEMENT_<PRODUCT>`` code or a product name. Nothing is a ``ConfigError``."""
    wanted = what.strip()
    held = [r[0] for r in db.execute(_HELD_CODES, (snap,))]
    codes = [c for c in held if c.upper() == wanted.upper()]
    if not codes:
        perms = {c for c, info in CATALOGUE.items() if wanted.lower() in info.permissions}
        codes = [c for c in held if c in perms]
    products = [
        p
        for (p,) in db.execute(_PRODUCTS, (snap,))
        if wanted.upper() in (p.upper(), entitlement_role(p).code)
    ]
    if not codes and not products:
        raise ConfigError(
            f"No one in snapshot {snap} holds a role, permission or product {what!r}",
            "give a role code (EXP_APPROVER), a permission (approve) or a product (Expense)",
        )
    return codes, products


_HELD_CODES = "SELECT DISTINCT role_code FROM grants WHERE snapshot_id = ? ORDER BY 1"
_PRODUCTS = (
    "SELECT DISTINCT e.value FROM users, json_each(users.entitlements) e"
    " WHERE users.snapshot_id = ? ORDER BY 1"
)


def who_holds(
    db: sqlite3.Connection, snap: int, codes: list[str], products: list[str]
) -> Iterator[Holder]:
    """Every holder of ``codes`` (with their role groups) and of ``products``, streamed in
    (role, user id) order."""
    for code in codes:
        rows = db.execute(_HOLDERS, (snap, code))
        while batch := rows.fetchmany(2_000):
            for r in batch:
                yield Holder(r[0], r[1] or r[2] or r[0], bool(r[3]), code,
                             tuple(orjson.loads(r[4])))  # fmt: skip
    for product in products:
        rows = db.execute(_PRODUCT_HOLDERS, (snap, product))
        code = entitlement_role(product).code
        while batch := rows.fetchmany(2_000):
            for r in batch:
                yield Holder(r[0], r[1] or r[2] or r[0], bool(r[3]), code, ())


_HOLDERS = (
    "SELECT g.user_id, u.display_name, u.user_name, u.active, g.role_groups FROM grants g"
    " JOIN users u ON u.snapshot_id = g.snapshot_id AND u.id = g.user_id"
    " WHERE g.snapshot_id = ? AND g.role_code = ? ORDER BY g.user_id, g.rowid"
)
_PRODUCT_HOLDERS = (
    "SELECT u.id, u.display_name, u.user_name, u.active FROM users u"
    " WHERE u.snapshot_id = ? AND EXISTS (SELECT 1 FROM json_each(u.entitlements) e"
    " WHERE e.value = ?) ORDER BY u.id"
)
