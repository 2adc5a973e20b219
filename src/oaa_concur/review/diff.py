"""What changed between two snapshots, in sections, computed in SQL over the store (issue 14).

``open_diff(store, old, new)`` compares two complete snapshots of one ``snapshots.sqlite``
with ``EXCEPT`` queries over their rows (SQLite sorts in its temporary store, so memory does
not grow with the tenant) and streams each section as rows with named fields:

* people added, people removed (with how many Spend roles they held: their grants and edges
  are not repeated below), status changes (``active``, ``termination_date``,
  ``processor_report_access``, ``bi_manager_id``);
* privileged grants gained and lost first (a new user's privileged grants included), then the
  other grants of people in both snapshots; a grant is (user, role code, role groups), so a
  change of scope is one grant lost and one gained; product entitlements count as grants of
  ``ENTITLEMENT_<PRODUCT>`` roles, as in the OAA payload (design.md §4);
* approver edges (with ``primary``), delegate edges in force when each snapshot was taken (a
  temporary delegation whose window closed between the two is a delegation removed), and
  approval limits (as their one-line text), of people in both snapshots;
* the risky changes ``--fail-on`` looks at: new separation-of-duties conflicts (an active
  user breaking an SoD rule they did not break before, ``findings.conflicts``) and new
  terminated-but-active users (active with a termination date passed when the new snapshot
  was taken, and not so in the old one). New privileged grants are their section above.

``SnapshotDiff.summary`` counts every section; ``write_text`` and ``write_json`` stream them.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, TextIO, get_args

import orjson

from oaa_concur.catalogue import entitlement_role, role_info
from oaa_concur.errors import ConfigError
from oaa_concur.models import ApprovalLimit, DelegateEdge
from oaa_concur.review.findings import conflicts
from oaa_concur.review.rules import RuleSet
from oaa_concur.review.snapshot import SnapshotStore

DiffFormat = Literal["text", "json"]
DIFF_FORMATS: tuple[DiffFormat, ...] = get_args(DiffFormat)
FailOn = Literal["privileged-grant", "sod-conflict", "terminated-active"]
FAIL_ON: tuple[FailOn, ...] = get_args(FailOn)
RISKY: dict[FailOn, str] = {
    "privileged-grant": "privileged_grants_gained",
    "sod-conflict": "sod_conflicts_new",
    "terminated-active": "terminated_active_new",
}
"""``--fail-on`` choice -> the section whose rows make it fail."""

_NAME = (
    "coalesce((SELECT coalesce(display_name, user_name, id) FROM users WHERE snapshot_id = :new"
    " AND id = {0}), (SELECT coalesce(display_name, user_name, id) FROM users"
    " WHERE snapshot_id = :old AND id = {0}), {0})"
)
_IN = "EXISTS (SELECT 1 FROM users WHERE snapshot_id = :{1} AND id = {0})"
_BOTH = f"{_IN.format('d.user_id', 'old')} AND {_IN.format('d.user_id', 'new')}"
_GRANTS = (
    "SELECT * FROM (SELECT user_id, role_code, role_groups FROM grants WHERE snapshot_id = :{0}"
    " UNION SELECT u.id, ent_code(e.value), '[]' FROM users u, json_each(u.entitlements) e"
    " WHERE u.snapshot_id = :{0})"
)
"""Spend grants and product entitlements (a subquery: compound SELECTs chain left to right)."""
_APPROVERS = "SELECT user_id, approver_id, kind, is_primary FROM approvers WHERE snapshot_id = :{0}"
_DELEGATES = (
    "SELECT user_id, delegate_id, kind, sorted_json(permissions) AS permissions FROM delegates"
    " WHERE snapshot_id = :{0} AND in_force(temporary_from, temporary_to, :as_{0})"
)
_LIMITS = (
    "SELECT user_id, limit_text(holder, approval_type, approval_limit, currency, approval_group,"
    " level, exception_authority) AS text FROM approval_limits WHERE snapshot_id = :{0}"
)


def _people(a: str, b: str) -> str:
    return (
        f"SELECT d.id AS user_id, {_NAME.format('d.id')} AS user, d.active = 1 AS active,"  # noqa: S608
        f" (SELECT count(*) FROM grants g WHERE g.snapshot_id = :{a} AND g.user_id = d.id)"
        f" AS spend_roles FROM users d WHERE d.snapshot_id = :{a}"
        f" AND NOT {_IN.format('d.id', b)} ORDER BY d.id"
    )


def _grants(a: str, b: str, privileged: bool, where: str) -> str:
    return (
        f"SELECT d.user_id, {_NAME.format('d.user_id')} AS user, d.role_code,"  # noqa: S608
        f" json(d.role_groups) AS role_groups FROM ({_GRANTS.format(a)} EXCEPT"
        f" {_GRANTS.format(b)}) d WHERE privileged(d.role_code) = {int(privileged)} AND {where}"
        " ORDER BY d.user_id, d.role_code, d.role_groups"
    )


def _edges(select: str, a: str, b: str, columns: str, order: str = "1, 3, 5") -> str:
    return (
        f"SELECT d.user_id, {_NAME.format('d.user_id')} AS user, {columns} FROM"  # noqa: S608
        f" ({select.format(a)} EXCEPT {select.format(b)}) d WHERE {_BOTH} ORDER BY {order}"
    )


_APPROVER_COLS = (
    f"d.approver_id, {_NAME.format('d.approver_id')} AS approver, d.kind,"
    ' d.is_primary = 1 AS "primary"'
)
_DELEGATE_COLS = (
    f"d.delegate_id, {_NAME.format('d.delegate_id')} AS delegate, d.kind,"
    " json(d.permissions) AS permissions"
)
_LIMIT_COLS = 'd.text AS "limit"'
_STATUS = (  # noqa: S608
    "SELECT * FROM (SELECT o.id AS user_id, {name} AS user, 'active' AS field,"
    " CASE o.active WHEN 1 THEN 'true' ELSE 'false' END AS old,"
    " CASE n.active WHEN 1 THEN 'true' ELSE 'false' END AS new, 1 AS k"
    " FROM users o JOIN users n ON n.snapshot_id = :new AND n.id = o.id"
    " WHERE o.snapshot_id = :old AND o.active != n.active"
    " UNION ALL SELECT o.id, {name}, 'termination_date', substr(o.termination_date, 1, 10),"
    " substr(n.termination_date, 1, 10), 2"
    " FROM users o JOIN users n ON n.snapshot_id = :new AND n.id = o.id"
    " WHERE o.snapshot_id = :old AND o.termination_date IS NOT n.termination_date"
    " UNION ALL SELECT o.user_id, {pname}, 'processor_report_access',"
    " o.processor_report_access, n.processor_report_access, 3"
    " FROM profiles o JOIN profiles n ON n.snapshot_id = :new AND n.user_id = o.user_id"
    " WHERE o.snapshot_id = :old AND o.processor_report_access IS NOT n.processor_report_access"
    " UNION ALL SELECT o.user_id, {pname}, 'bi_manager_id', o.bi_manager_id, n.bi_manager_id, 4"
    " FROM profiles o JOIN profiles n ON n.snapshot_id = :new AND n.user_id = o.user_id"
    " WHERE o.snapshot_id = :old AND o.bi_manager_id IS NOT n.bi_manager_id)"
    " ORDER BY user_id, k"
).format(name=_NAME.format("o.id"), pname=_NAME.format("o.user_id"))
_TERMINATED = (
    f"SELECT n.id AS user_id, {_NAME.format('n.id')} AS user,"  # noqa: S608
    " substr(n.termination_date, 1, 10) AS termination_date FROM users n"
    " WHERE n.snapshot_id = :new AND n.active = 1 AND passed(n.termination_date, :as_new)"
    " AND NOT EXISTS (SELECT 1 FROM users o WHERE o.snapshot_id = :old AND o.id = n.id"
    " AND o.active = 1 AND passed(o.termination_date, :as_old)) ORDER BY n.id"
)
_ACTIVE_ROLES = (
    "SELECT u.id, {name}, group_concat(g.role_code, char(31)) FROM users u"
    " JOIN grants g ON g.snapshot_id = u.snapshot_id AND g.user_id = u.id"
    " WHERE u.snapshot_id = :{0} AND u.active = 1 {1} GROUP BY u.id ORDER BY u.id"
)


@dataclass(frozen=True, slots=True)
class Section:
    key: str
    """The section's name in the JSON form and in ``summary``."""
    title: str
    sign: str
    """``+`` added, ``-`` removed, ``~`` changed, ``!`` risky (text form)."""
    sql: str | None
    """None: computed in Python (``sod_conflicts_new``)."""


SECTIONS: tuple[Section, ...] = (
    Section("people_added", "People added", "+", _people("new", "old")),
    Section("people_removed", "People removed", "-", _people("old", "new")),
    Section("status_changes", "Status changes", "~", _STATUS),
    Section(
        "privileged_grants_gained",
        "Privileged grants gained",
        "+",
        _grants("new", "old", True, "1"),
    ),
    Section(
        "privileged_grants_lost",
        "Privileged grants lost",
        "-",
        _grants("old", "new", True, _IN.format("d.user_id", "new")),
    ),
    Section("grants_gained", "Roles gained", "+", _grants("new", "old", False, _BOTH)),
    Section("grants_lost", "Roles lost", "-", _grants("old", "new", False, _BOTH)),
    Section(
        "approvers_added",
        "Approver edges added",
        "+",
        _edges(_APPROVERS, "new", "old", _APPROVER_COLS),
    ),
    Section(
        "approvers_removed",
        "Approver edges removed",
        "-",
        _edges(_APPROVERS, "old", "new", _APPROVER_COLS),
    ),
    Section(
        "delegates_added",
        "Delegate edges added",
        "+",
        _edges(_DELEGATES, "new", "old", _DELEGATE_COLS),
    ),
    Section(
        "delegates_removed",
        "Delegate edges removed",
        "-",
        _edges(_DELEGATES, "old", "new", _DELEGATE_COLS),
    ),
    Section(
        "limits_added",
        "Approval limits added",
        "+",
        _edges(_LIMITS, "new", "old", _LIMIT_COLS, "1, 3"),
    ),
    Section(
        "limits_removed",
        "Approval limits removed",
        "-",
        _edges(_LIMITS, "old", "new", _LIMIT_COLS, "1, 3"),
    ),
    Section("sod_conflicts_new", "New separation-of-duties conflicts", "!", None),
    Section("terminated_active_new", "New terminated-but-active users", "!", _TERMINATED),
)
_JSON_COLUMNS = frozenset({"role_groups", "permissions"})
_BOOL_COLUMNS = frozenset({"active", "primary"})


def _register(db: sqlite3.Connection) -> None:
    """The Python the queries call: catalogue, delegation windows, limit text."""
    db.create_function("ent_code", 1, lambda p: entitlement_role(p).code, deterministic=True)
    db.create_function("privileged", 1, lambda c: int(role_info(c).privileged), deterministic=True)
    db.create_function("sorted_json", 1, _sorted_json, deterministic=True)
    db.create_function("in_force", 3, _in_force, deterministic=True)
    db.create_function("passed", 2, _passed, deterministic=True)
    db.create_function("limit_text", 7, _limit_text, deterministic=True)


def _sorted_json(text: str) -> str:
    return orjson.dumps(sorted(orjson.loads(text))).decode()


def _dt(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _in_force(start: str | None, end: str | None, as_of: str | None) -> int:
    edge = DelegateEdge("", "", "", (), _dt(start), _dt(end))
    return int(edge.state(_dt(as_of)) == "in_force")


def _passed(date: str | None, as_of: str) -> int:
    when = _dt(date)
    return int(when is not None and when <= datetime.fromisoformat(as_of))


def _limit_text(*r: Any) -> str:
    return ApprovalLimit("", r[0], r[1], r[2], r[3], r[4], r[5], bool(r[6])).text()


class SnapshotDiff:
    """The changes from snapshot ``old`` to snapshot ``new``, over one open connection."""

    def __init__(
        self, db: sqlite3.Connection, old: int, new: int, taken: tuple[str, str], rules: RuleSet
    ) -> None:
        self.db, self.old, self.new, self.rules = db, old, new, rules
        self.params = {"old": old, "new": new, "as_old": taken[0], "as_new": taken[1]}
        _register(db)
        self._sod: list[dict[str, Any]] | None = None

    def rows(self, section: Section) -> Iterator[dict[str, Any]]:
        """The section's rows, streamed, each a dict of named fields."""
        if section.sql is None:
            yield from self.sod_conflicts()
            return
        cursor = self.db.execute(section.sql, self.params)
        names = [c[0] for c in cursor.description]
        while batch := cursor.fetchmany(2_000):
            for row in batch:
                yield _named(names, row)

    def count(self, section: Section) -> int:
        if section.sql is None:
            return len(self.sod_conflicts())
        query = f"SELECT count(*) FROM ({section.sql})"  # noqa: S608 - fixed SQL
        return int(self.db.execute(query, self.params).fetchone()[0])

    def summary(self) -> dict[str, int]:
        """Rows per section, every section present."""
        return {s.key: self.count(s) for s in SECTIONS}

    def sod_conflicts(self) -> list[dict[str, Any]]:
        """SoD rules an active user of the new snapshot breaks and did not break in the old
        (kept: as many as the report's SoD findings, not as many as users)."""
        if self._sod is None:
            self._sod = list(self._new_conflicts())
        return self._sod

    def _new_conflicts(self) -> Iterator[dict[str, Any]]:
        query = _ACTIVE_ROLES.format("new", "", name=_NAME.format("u.id"))
        for uid, name, codes in self.db.execute(query, self.params).fetchall():
            broken = list(conflicts(codes.split("\x1f"), self.rules.rules))
            if not broken:
                continue
            before = {r.id for r, _ in conflicts(self._old_roles(uid), self.rules.rules)}
            for rule, sides in broken:
                if rule.id not in before:
                    held = sorted({c for side in sides for c in side})
                    yield {"user_id": uid, "user": name, "rule": rule.id, "role_codes": held}

    def _old_roles(self, uid: str) -> list[str]:
        query = _ACTIVE_ROLES.format("old", "AND u.id = :uid", name=_NAME.format("u.id"))
        row = self.db.execute(query, self.params | {"uid": uid}).fetchone()
        return row[2].split("\x1f") if row else []

    def write_json(self, out: TextIO, clean: Any = str) -> dict[str, int]:
        """One JSON document: ``old``, ``new``, ``summary`` and ``sections`` (key -> rows),
        written as it is read; ``clean`` makes each row's text safe for a terminal (orjson
        writes C1 controls as they are). Returns the summary."""
        summary = self.summary()
        head = orjson.dumps({"old": self.old, "new": self.new, "summary": summary}).decode()
        out.write(head[:-1] + ',\n"sections": {')
        for i, section in enumerate(SECTIONS):
            out.write(("," if i else "") + f'\n"{section.key}": [')
            for j, row in enumerate(self.rows(section)):
                out.write(("," if j else "") + "\n  " + clean(orjson.dumps(row).decode()))
            out.write("\n]")
        out.write("\n}}\n")
        return summary

    def write_text(self, out: TextIO, clean: Any = str) -> dict[str, int]:
        """A header, the summary line, then each non-empty section with its title; ``clean``
        makes each line safe for a terminal. Returns the summary."""
        summary = self.summary()
        out.write(f"snapshot {self.old} -> {self.new}\n{summary_line(summary)}\n")
        for section in SECTIONS:
            if summary[section.key]:
                out.write(f"\n== {section.title} ({summary[section.key]}) ==\n")
                for row in self.rows(section):
                    out.write(clean(f"{section.sign} {describe(section.key, row)}") + "\n")
        return summary


def _named(names: list[str], row: tuple[Any, ...]) -> dict[str, Any]:
    out = dict(zip(names, row, strict=True))
    for key in _JSON_COLUMNS & out.keys():
        out[key] = orjson.loads(out[key])
    for key in _BOOL_COLUMNS & out.keys():
        out[key] = bool(out[key])
    return out


def summary_line(s: dict[str, int]) -> str:
    """e.g. ``people +1 -1, status changes 2, privileged grants +1 -0, ...``."""
    return (
        f"people +{s['people_added']} -{s['people_removed']}, status changes "
        f"{s['status_changes']}, privileged grants +{s['privileged_grants_gained']} "
        f"-{s['privileged_grants_lost']}, roles +{s['grants_gained']} -{s['grants_lost']}, "
        f"approver edges +{s['approvers_added']} -{s['approvers_removed']}, delegate edges "
        f"+{s['delegates_added']} -{s['delegates_removed']}, approval limits "
        f"+{s['limits_added']} -{s['limits_removed']}, new SoD conflicts "
        f"{s['sod_conflicts_new']}, new terminated-but-active {s['terminated_active_new']}"
    )


def describe(key: str, r: dict[str, Any]) -> str:
    """One row of a section as a line of text."""
    who = f"{r['user']} ({r['user_id']})"
    if key.startswith("people"):
        state = "active" if r["active"] else "inactive"
        return f"{who}, {state}, {r['spend_roles']} Spend roles"
    if key == "status_changes":
        return f"{who}: {r['field']} {r['old']} -> {r['new']}"
    if "grants" in key:
        return f"{who}: {r['role_code']} [{', '.join(r['role_groups']) or 'company-wide'}]"
    if key.startswith("approvers"):
        primary = "" if r["primary"] else ", not primary"
        return f"{r['approver']} ({r['approver_id']}) approves {who} ({r['kind']}{primary})"
    if key.startswith("delegates"):
        rights = ", ".join(r["permissions"]) or "no rights"
        return f"{r['delegate']} ({r['delegate_id']}) for {who} ({r['kind']}: {rights})"
    if key.startswith("limits"):
        return f"approval limit of {who}: {r['limit']}"
    if key == "sod_conflicts_new":
        return f"{who}: {r['rule']} ({', '.join(r['role_codes'])})"
    return f"{who}: active, terminated {r['termination_date']}"


@contextmanager
def open_diff(
    store: SnapshotStore, old: int | None, new: int | None, rules: RuleSet
) -> Iterator[SnapshotDiff]:
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
    taken = (store.info(old).taken_at.isoformat(), store.info(new).taken_at.isoformat())
    with store.read(new) as reader:
        yield SnapshotDiff(reader.db, old, new, taken, rules)
