"""`access`, `who-can approve` and `who-can ROLE` over a seeded simulator tenant, through the
real CLI, each answer checked against the tenant's truth: the Identity and Spend records the
simulator serves, read back from it and resolved here as the docs say (SPEND41 "User
Reference": a reference names a user by ``value`` when Identity lists it, else by
``employeeNumber``; "Temporary Delegate": a delegation is access inside its window only).
"""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from oaa_concur.review.findings import find
from oaa_concur.review.rules import default_rules
from oaa_concur.review.snapshot import SnapshotStore
from oaa_concur.simulator import RunningSimulator, SimulatorConfig
from tests.fakes.clock import FakeTime
from tests.support.cli import run_cli, sim_env

NOW = dt.datetime(2025, 6, 15, 12, tzinfo=dt.UTC)
SPEND = "urn:ietf:params:scim:schemas:extension:spend:2.0:"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
SIMULATOR = SimulatorConfig(users=300, seed=7)
COVERS = {"expense": {"report", "cashAdvance", "request"}, "payment": {"invoice"},
          "purchaseRequest": {"purchaseRequest"}}  # fmt: skip


@dataclass(frozen=True)
class Edge:
    user: str
    other: str
    kind: str
    flags: frozenset[str] = frozenset()
    primary: bool = False
    in_force: bool = True


class Truth:
    """The tenant as served: ids, roles, approver and delegate edges (resolved)."""

    def __init__(self, sim: RunningSimulator) -> None:
        t = sim.tenant
        self.identity = {u["id"]: u for u in (t.identity_user(i) for i in range(t.users))}
        numbers: dict[str, list[str]] = defaultdict(list)
        for uid, u in self.identity.items():
            if number := u.get(ENTERPRISE, {}).get("employeeNumber"):
                numbers[number].append(uid)
        self.numbers = numbers
        self.roles: dict[str, set[tuple[str, tuple[str, ...]]]] = defaultdict(set)
        self.approvers: list[Edge] = []
        self.delegates: list[Edge] = []
        for i in range(t.users):
            record = t.spend_user(i)
            if record is not None:
                self._read(record)

    def resolve(self, ref: dict[str, Any]) -> str | None:
        if ref.get("value") in self.identity:
            return str(ref["value"])
        found = self.numbers.get(ref.get("employeeNumber") or "", [])
        return found[0] if len(found) == 1 else None

    def _read(self, r: dict[str, Any]) -> None:
        uid = r["id"]
        for role in r.get(SPEND + "Role", {}).get("roles", []):
            groups = tuple(g for g in role.get("roleGroups") or () if g)
            self.roles[uid].add((role["roleName"], groups))
        for kind, items in r.get(SPEND + "Approver", {}).items():
            for item in items:
                if (who := self.resolve(item["approver"])) is not None:
                    self.approvers.append(Edge(uid, who, kind, primary=item["primary"]))
        for kind, items in r.get(SPEND + "Delegate", {}).items():
            for item in items:
                if (who := self.resolve(item["delegate"])) is not None:
                    flags = frozenset(k for k, v in item.items() if k.startswith("can") and v)
                    window = item.get("temporaryDelegation") or {}
                    self.delegates.append(Edge(uid, who, kind, flags, in_force=_open(window)))


def _open(window: dict[str, str]) -> bool:
    start, end = window.get("temporaryDelegationFromDate"), window.get("temporaryDelegationToDate")
    after = start is None or dt.datetime.fromisoformat(start) <= NOW
    return after and (end is None or dt.datetime.fromisoformat(end) >= NOW)


@pytest.fixture(scope="module")
def truth(sim: RunningSimulator) -> Truth:
    return Truth(sim)


@pytest.fixture(scope="module")
def env(sim: RunningSimulator, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    state = tmp_path_factory.mktemp("q") / "state"
    environment = sim_env(sim, state)
    done = run_cli(
        ["discover", "--no-push"], environment, FakeTime(start=NOW.timestamp()).runtime()
    )
    assert done.exit_code == 0, done.output
    return environment


def _json(args: list[str], env: dict[str, str]) -> Any:
    done = run_cli([*args, "--format", "json", "--as-of", NOW.isoformat()], env)
    assert done.exit_code == 0, done.output
    return json.loads(done.stdout)


def _subjects(truth: Truth) -> Iterator[str]:
    """Users with approvers whose approvers have delegates with canApprove in force."""
    by_user = {d.user for d in truth.delegates if "canApprove" in d.flags and d.in_force}
    for e in truth.approvers:
        if e.other in by_user:
            yield e.user


def test_access_answers_as_the_tenant_says(truth: Truth, env: dict[str, str]) -> None:
    subject = next(_subjects(truth))
    # the subject's approver has delegates: ask about that approver too (both directions)
    approver = next(e.other for e in truth.approvers if e.user == subject)
    for uid in (subject, approver):
        login = truth.identity[uid]["userName"]
        a = _json(["access", login], env)
        assert a["person"]["id"] == uid
        assert a["person"]["active"] == truth.identity[uid]["active"]
        assert {(r["role_code"], tuple(r["role_groups"])) for r in a["roles"]} == truth.roles[uid]
        assert sorted((x["kind"], x["other_id"], x["primary"]) for x in a["approved_by"]) == sorted(
            (e.kind, e.other, e.primary) for e in truth.approvers if e.user == uid
        )
        assert sorted((x["kind"], x["other_id"]) for x in a["approves"]) == sorted(
            (e.kind, e.user) for e in truth.approvers if e.other == uid
        )
        assert sorted(
            (x["kind"], x["other_id"], frozenset(x["permissions"])) for x in a["delegates"]
        ) == sorted((e.kind, e.other, e.flags) for e in truth.delegates if e.user == uid)
        assert sorted((x["kind"], x["other_id"]) for x in a["delegate_for"]) == sorted(
            (e.kind, e.user) for e in truth.delegates if e.other == uid
        )
        assert sorted(x["state"] == "in_force" for x in a["delegates"]) == sorted(
            e.in_force for e in truth.delegates if e.user == uid
        )


def test_access_findings_are_the_reports_for_that_user(env: dict[str, str]) -> None:
    """The one-user findings equal the whole-tenant findings that name the user (the two
    inventory rules apart, see review.query.user_findings), for every user of the tenant."""
    store = SnapshotStore(Path(env["OAA_CONCUR_STATE_DIR"]))
    result = store.load(store.resolve(None).id)
    everything = find(result, default_rules(), now=NOW)
    checked = 0
    for user in result.users[:: max(1, len(result.users) // 40)]:
        a = _json(["access", user.id], env)
        expected = sorted(
            f.id for f in everything
            if user.id in f.user_ids and f.rule not in {"PRIVILEGED_ROLE", "UNKNOWN_ROLE"}
        )  # fmt: skip
        assert sorted(f["id"] for f in a["findings"]) == expected, user.id
        checked += bool(expected)
    assert checked >= 5


def test_who_can_approve_lists_approvers_of_record_and_their_delegates(
    truth: Truth, env: dict[str, str]
) -> None:
    subject = next(_subjects(truth))
    doc = _json(["who-can", "approve", subject], env)
    expected: set[tuple[str, str, str | None]] = set()
    for e in (x for x in truth.approvers if x.user == subject):
        expected.add((e.other, e.kind, None))
        for d in truth.delegates:
            if (d.user == e.other and "canApprove" in d.flags and d.in_force
                    and e.kind in COVERS[d.kind]):  # fmt: skip
                expected.add((d.other, e.kind, e.other))
    got = {(a["user_id"], a["kind"], a["via_id"]) for a in doc["approvers"]}
    assert got == expected and any(via for _, _, via in got)
    report = _json(["who-can", "approve", subject, "--kind", "report"], env)
    assert {(a["user_id"], a["via_id"]) for a in report["approvers"]} == {
        (u, via) for u, k, via in expected if k == "report"
    }


def test_who_can_role_lists_every_holder_with_scope(truth: Truth, env: dict[str, str]) -> None:
    for code in ("SHD_ROLE_ADMIN", "EXP_PROCESSOR"):
        doc = _json(["who-can", code.lower()], env)
        got = {(h["user_id"], tuple(h["scope"])) for h in doc["holders"]}
        want = {(u, g) for u, roles in truth.roles.items() for c, g in roles if c == code}
        assert got == want and want


def test_unknown_or_ambiguous_user_is_one_sentence_and_exit_2(
    truth: Truth, env: dict[str, str]
) -> None:
    done = run_cli(["access", "nobody@nowhere.example"], env)
    assert done.exit_code == 2 and done.stderr.count("\n") == 1
    assert "No user 'nobody@nowhere.example'" in done.stderr
    done = run_cli(["who-can", "approve", next(iter(truth.identity)), "--kind", "nope"], env)
    assert done.exit_code == 2 and "is not an approver kind" in done.stderr
    done = run_cli(["who-can", "NO_SUCH_ROLE"], env)
    assert done.exit_code == 2 and "No one in snapshot" in done.stderr


def test_access_text_has_every_section(truth: Truth, env: dict[str, str]) -> None:
    subject = next(_subjects(truth))
    done = run_cli(["access", subject, "--as-of", NOW.isoformat()], env)
    assert done.exit_code == 0, done.output
    for title in ("Spend roles", "approves the items of", "items approved by",
                  "acts as delegate for", "delegates acting for them", "findings"):  # fmt: skip
        assert f"\n{title} (" in done.stdout
