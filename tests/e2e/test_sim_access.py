"""Issue 10 end to end against the simulator: the whole CLI, its payload, report and diff
checked against the records the simulator serves (its own truth, read back from its tenant).

The oracle below is written from the docs, not from the client: a reference names a user by
``value`` (kept if Identity lists it) or by ``employeeNumber`` (Identity's); a delegation is
access only inside its ``temporaryDelegation`` window; every ``can*`` flag, the approver's
``primary``, ``biManager``, ``processorReportAccess`` and the ApproverLimit configs (all of
them: the list is asked with ``attributes``) arrive. The simulator draws these traits for a few
percent of users and pins each edge case to a small index, so one seeded tenant has them all.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections import defaultdict
from pathlib import Path
from typing import Any

import orjson
import pytest

from oaa_concur.concur.parse import DELEGATE_FLAGS
from oaa_concur.concur.spend import LIST_PATH
from oaa_concur.oaa.build import snake
from oaa_concur.review.snapshot import SnapshotStore
from oaa_concur.simulator import RunningSimulator, SimulatorConfig
from oaa_concur.simulator.config import Deprecation
from tests.conftest import SimulatorFactory
from tests.fakes.clock import FakeTime
from tests.support.cli import run_cli, sim_env

NOW = dt.datetime(2025, 6, 15, 12, tzinfo=dt.UTC)
LATER = dt.datetime(2081, 1, 1, tzinfo=dt.UTC)  # the simulator's current windows end 2080+
SPEND = "urn:ietf:params:scim:schemas:extension:spend:2.0:"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
SIMULATOR = SimulatorConfig(users=400, seed=10)
Props = dict[str, dict[str, Any]]


class Truth:
    """What the served records say, per the docs (module docstring)."""

    def __init__(self, sim: RunningSimulator) -> None:
        tenant = sim.tenant
        identity = [tenant.identity_user(i) for i in range(tenant.users)]
        self.ids = {u["id"] for u in identity}
        numbers: dict[str, list[str]] = defaultdict(list)
        for user in identity:
            number = user.get(ENTERPRISE, {}).get("employeeNumber")
            if number:
                numbers[number].append(user["id"])
        self.numbers = numbers
        self.spend = [
            r
            for r in (tenant.spend_user_at(p, True) for p in range(tenant.spend_total))
            if r["id"] in self.ids
        ]

    def resolve(self, ref: Any) -> str | None:
        ref = ref if isinstance(ref, dict) else {}
        if ref.get("value"):
            return ref["value"] if ref["value"] in self.ids else None
        found = self.numbers.get(ref.get("employeeNumber") or "", [])
        return found[0] if len(found) == 1 else None

    def properties(self, now: dt.datetime) -> Props:
        out: Props = defaultdict(dict)
        for record in self.spend:
            self._approvers(record, out[record["id"]])
            self._delegates(record, out[record["id"]], now)
            self._user(record, out[record["id"]])
        return out

    def _approvers(self, record: dict[str, Any], props: dict[str, Any]) -> None:
        for kind, items in record.get(SPEND + "Approver", {}).items():
            for item in items:
                uid = self.resolve(item["approver"])
                if uid is not None:
                    _add(props, f"{snake(kind)}_approvers", uid)
                    if item.get("primary", True):
                        _add(props, f"{snake(kind)}_approvers_primary", uid)

    def _delegates(self, record: dict[str, Any], props: dict[str, Any], now: dt.datetime) -> None:
        for kind, items in record.get(SPEND + "Delegate", {}).items():
            for item in items:
                uid = self.resolve(item["delegate"])
                if uid is None or not _in_window(item.get("temporaryDelegation"), now):
                    continue
                _add(props, f"{snake(kind)}_delegates", uid)
                for flag in DELEGATE_FLAGS:
                    if item.get(flag) is True:
                        _add(props, f"{snake(kind)}_delegates_{snake(flag)}", uid)

    def _user(self, record: dict[str, Any], props: dict[str, Any]) -> None:
        bi = record.get(SPEND + "User", {}).get("biManager")
        if bi is not None and self.resolve(bi) is not None:
            props["bi_manager_id"] = self.resolve(bi)
        access = record.get(SPEND + "UserPreference", {}).get("processorReportAccess")
        if access is not None:
            props["processor_report_access"] = access
        limits = record.get(SPEND + "ApproverLimit", {})
        for holder, key in (
            ("authorizedApprover", "authorized_approver_types"),
            ("costObjectApprover", "cost_object_approver_types"),
        ):
            for config in limits.get(holder, []):
                _add(props, key, config["approvalType"])
                _add(props, "approval_limit_groups", config["approvalGroup"] or "Global")

    def dangling(self) -> int:
        """References that name nobody, as the docs define them."""
        refs = []
        for record in self.spend:
            refs += [
                i["approver"]
                for items in record.get(SPEND + "Approver", {}).values()
                for i in items
            ]
            refs += [
                i["delegate"]
                for items in record.get(SPEND + "Delegate", {}).values()
                for i in items
            ]
            bi = record.get(SPEND + "User", {}).get("biManager")
            refs += [bi] if bi is not None else []
        return sum(1 for ref in refs if self.resolve(ref) is None)


def _add(props: dict[str, Any], name: str, value: str) -> None:
    props[name] = sorted({*props.get(name, []), value})


def _in_window(window: dict[str, str] | None, now: dt.datetime) -> bool:
    if not window:
        return True
    start = window.get("temporaryDelegationFromDate")
    end = window.get("temporaryDelegationToDate")
    after_start = start is None or dt.datetime.fromisoformat(start) <= now
    return after_start and (end is None or now <= dt.datetime.fromisoformat(end))


ACCESS = re.compile(
    r"_approvers|_delegates|^bi_manager_id$|^processor_report_access$|"
    r"^authorized_approver_types$|^cost_object_approver_types$|^approval_limit_groups$"
)


def _discover(sim: RunningSimulator, state: Path, out: Path, now: dt.datetime) -> dict[str, Any]:
    runtime = FakeTime(start=now.timestamp()).runtime()
    done = run_cli(["discover", "--no-push", "--save-json", str(out)], sim_env(sim, state), runtime)
    assert done.exit_code == 0, done.output
    return dict(orjson.loads(out.read_bytes()))


def _payload_access(payload: dict[str, Any]) -> Props:
    users = payload["applications"][0]["local_users"]
    found: Props = {}
    for user in users:
        props = {k: v for k, v in user.get("custom_properties", {}).items() if ACCESS.search(k)}
        if props:
            found[user["id"]] = props
    return found


@pytest.mark.parametrize("now", [NOW, LATER], ids=["2025", "2081"])
def test_every_access_field_arrives_as_the_docs_define_it(
    sim: RunningSimulator, tmp_path: Path, now: dt.datetime
) -> None:
    """Approvers of every kind (primary apart), delegations of every kind in force at the
    run's moment with each can* flag, references by employeeNumber resolved, dangling ones
    never published, biManager, processorReportAccess and every ApproverLimit group."""
    truth = Truth(sim)
    payload = _discover(sim, tmp_path / "state", tmp_path / "p.json", now)
    expected = {uid: props for uid, props in truth.properties(now).items() if props}
    assert _payload_access(payload) == expected


def test_the_tenant_shows_every_case(sim: RunningSimulator) -> None:
    """The oracle is not vacuous: the seeded tenant holds each kind of case."""
    truth = Truth(sim)
    now, later = truth.properties(NOW), truth.properties(LATER)
    names = {name for props in now.values() for name in props}
    assert {f"{k}_approvers_primary" for k in ("report", "request")} <= names
    assert any(n.endswith("_delegates_can_use_bi") for n in names)
    assert {"bi_manager_id", "processor_report_access", "approval_limit_groups"} <= names
    assert truth.dangling() > 0
    assert now != later  # some windows are open in 2025 and not in 2081, or the reverse
    numbers_only = [
        i
        for r in truth.spend
        for items in r.get(SPEND + "Approver", {}).values()
        for i in items
        if "value" not in i["approver"]
    ]
    assert numbers_only and not all(
        i["primary"]
        for r in truth.spend
        for items in r.get(SPEND + "Approver", {}).values()
        for i in items
    )


def test_report_lists_unknown_references_and_out_of_window_delegations(
    sim: RunningSimulator, tmp_path: Path
) -> None:
    truth = Truth(sim)
    state = tmp_path / "state"
    _discover(sim, state, tmp_path / "p.json", NOW)
    out = tmp_path / "r.json"
    done = run_cli(
        ["report", "--format", "json", "--out", str(out)],
        sim_env(sim, state),
        FakeTime(start=NOW.timestamp()).runtime(),
    )
    assert done.exit_code == 0, done.output
    report = json.loads(out.read_text(encoding="utf-8"))
    relations = [r for r in report["unknown_references"] if r["relation"] != "manager"]
    assert len(relations) == truth.dangling()
    issues = [i for i in report["data_issues"] if i["kind"] == "unknown_reference"]
    assert len(issues) == len(report["unknown_references"])
    states = {d["state"] for d in report["delegations_out_of_window"]}
    assert states == {"expired", "scheduled"}
    assert all(d["starts"] and d["ends"] for d in report["delegations_out_of_window"])
    assert {r["meaning"] for r in report["processor_report_access"]} >= {
        "all reports including returned reports",
        "only reports pending processor step and beyond",
    }
    assert any(x["group"] != "Global" for x in report["approval_limits"])  # via attributes


def test_diff_shows_delegations_whose_window_opened_or_closed(
    sim: RunningSimulator, tmp_path: Path
) -> None:
    truth = Truth(sim)
    state = tmp_path / "state"
    _discover(sim, state, tmp_path / "a.json", NOW)
    (state / "credentials.json").unlink()
    _discover(sim, state, tmp_path / "b.json", LATER)
    done = run_cli(["diff", "--format", "json"], sim_env(sim, state))
    assert done.exit_code == 0, done.output
    changes = json.loads(done.output)
    before, after = truth.properties(NOW), truth.properties(LATER)

    def delegations(props: Props) -> set[tuple[str, str, str]]:
        return {
            (uid, name.removesuffix("_delegates"), d)
            for uid, p in props.items()
            for name, ids in p.items()
            if name.endswith("_delegates")
            for d in ids
        }

    sections = changes["sections"]
    added = {
        (e["user_id"], snake(e["kind"]), e["delegate_id"]) for e in sections["delegates_added"]
    }
    removed = {
        (e["user_id"], snake(e["kind"]), e["delegate_id"]) for e in sections["delegates_removed"]
    }
    assert added == delegations(after) - delegations(before)
    assert removed == delegations(before) - delegations(after)
    assert added or removed


def test_deprecated_spend_endpoint_one_warning_for_many_pages(
    simulators: SimulatorFactory, tmp_path: Path
) -> None:
    config = SimulatorConfig(
        users=450,
        seed=2,
        deprecations=(Deprecation(LIST_PATH, "/profile/spend/v4.2/Users", dt.date(2027, 3, 1)),),
    )
    sim = simulators(config)
    done = run_cli(["discover", "--no-push"], sim_env(sim, tmp_path / "state"))
    assert done.exit_code == 0, done.output
    warned = [w for w in done.stderr.splitlines() if "is deprecated" in w]
    assert len(warned) == 1 and sim.state.faults["deprecated"] >= 5  # five Spend pages
    assert (
        f"GET {LIST_PATH} is deprecated (use '/profile/spend/v4.2/Users', sunset 2027-03-01)"
        in done.stdout
    )


def test_snapshot_keeps_what_the_payload_leaves_out(sim: RunningSimulator, tmp_path: Path) -> None:
    state = tmp_path / "state"
    _discover(sim, state, tmp_path / "p.json", NOW)
    store = SnapshotStore(state)
    result = store.load(store.resolve(None).id)
    windows = [d for p in result.spend.values() for d in p.delegates if d.temporary]
    assert {d.state(NOW) for d in windows} == {"in_force", "expired", "scheduled"}
    assert any(p.approval_limits for p in result.spend.values())
    assert result.unknown_references and result.as_of == NOW


def test_a_403_that_names_no_expired_token_is_not_retried(
    simulators: SimulatorFactory, tmp_path: Path
) -> None:
    """Only a 403 saying the OAuth token expired or was revoked earns a refresh and a resend
    (http-status-codes.markdown); the simulator's scope refusal says neither: the run fails
    closed at once, one sentence, nothing recorded."""
    config = SimulatorConfig(users=30, seed=4, fail_page=("spend", 1), fail_status=403)
    sim = simulators(config)
    state = tmp_path / "state"
    done = run_cli(["discover", "--no-push"], sim_env(sim, state), FakeTime().runtime())
    assert done.exit_code == 1
    assert done.stderr.strip().splitlines()[-1].startswith("error: ")
    assert sim.state.faults["fail_page"] == 1 and sim.state.requests["token"] == 1
    assert SnapshotStore(state).list() == []
