"""diff in sections, in SQL over the store: what changed between two snapshots, and the
`diff` command with its summary line, JSON with named fields and --fail-on."""

from __future__ import annotations

import dataclasses
import io
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from oaa_concur.cli import main
from oaa_concur.models import ApprovalLimit, ApproverEdge, DiscoveryResult, RoleGrant, User
from oaa_concur.review.diff import open_diff
from oaa_concur.review.rules import default_rules
from oaa_concur.review.snapshot import SnapshotStore
from tests.review.tenant import NOW, tenant


def _changed() -> DiscoveryResult:
    result = tenant()
    users = [u for u in result.users if u.id != "u-heidi"]
    users = [dataclasses.replace(u, active=False) if u.id == "u-carol" else u for u in users]
    users = [dataclasses.replace(u, termination_date=NOW) if u.id == "u-ken" else u for u in users]
    users.append(User(id="u-new", display_name="Nora New", active=True))
    spend = dict(result.spend)
    alice = spend["u-alice"]
    spend["u-alice"] = dataclasses.replace(
        alice,
        roles=(RoleGrant("EXP_APPROVER"), RoleGrant("EXP_PROCESSOR", ("R&D", "QA"))),
        delegates=alice.delegates[:1],
    )
    spend["u-ken"] = dataclasses.replace(
        spend["u-ken"],
        approvers=(
            ApproverEdge("u-ken", "u-judy", "report"),
            ApproverEdge("u-ken", "u-alice", "cashAdvance"),
        ),
    )
    return dataclasses.replace(result, users=users, spend=spend)


def _at(result: DiscoveryResult, when: datetime) -> DiscoveryResult:
    """``result`` as if discovered at ``when``."""
    assert result.stats is not None
    return dataclasses.replace(result, stats=dataclasses.replace(result.stats, started_at=when))


def _sections(tmp_path: Path, old: DiscoveryResult, new: DiscoveryResult) -> dict[str, Any]:
    store = SnapshotStore(tmp_path / "s")
    a, b = store.record(old), store.record(new)
    out = io.StringIO()
    with open_diff(store, a, b, default_rules()) as d:
        d.write_json(out)
    doc: dict[str, Any] = json.loads(out.getvalue())
    return doc


def test_diff_lists_each_change_in_its_section(tmp_path: Path) -> None:
    doc = _sections(tmp_path, tenant(), _changed())
    s = doc["sections"]
    assert [p["user_id"] for p in s["people_added"]] == ["u-new"]
    assert s["people_removed"] == [
        {"user_id": "u-heidi", "user": "Heidi Gone", "active": False, "spend_roles": 0}
    ]
    assert [(c["user_id"], c["field"], c["old"], c["new"]) for c in s["status_changes"]] == [
        ("u-carol", "active", "true", "false"),
        ("u-ken", "termination_date", None, "2025-06-15"),
    ]
    # EXP_PROCESSOR is not privileged in the catalogue: a change of scope is a role lost and
    # one gained; heidi's grants are not repeated (she is in people_removed).
    gained = [(g["user_id"], g["role_code"], g["role_groups"]) for g in s["grants_gained"]]
    lost = [(g["user_id"], g["role_code"], g["role_groups"]) for g in s["grants_lost"]]
    assert gained == [("u-alice", "EXP_PROCESSOR", ["R&D", "QA"])]
    assert lost == [("u-alice", "EXP_PROCESSOR", ["R&D-QA-Exp"])]
    assert all(g["user_id"] != "u-heidi" for g in s["privileged_grants_lost"])
    assert [
        (e["user_id"], e["approver_id"], e["kind"], e["primary"]) for e in s["approvers_added"]
    ] == [("u-ken", "u-judy", "report", False)]
    assert [(e["approver_id"], e["approver"]) for e in s["approvers_removed"]] == [
        ("u-bob", "Bob Leaver")
    ]
    # Dropping alice's expired (leo) and scheduled (frank) delegations changes no access.
    assert s["delegates_added"] == s["delegates_removed"] == []
    assert doc["summary"] == {k: len(v) for k, v in s.items()}
    assert not any(_sections(tmp_path / "same", tenant(), tenant())["summary"].values())


def test_diff_delegations_in_force_when_each_run_was_made(tmp_path: Path) -> None:
    """The same data read on 2025-05-15 and on 2025-07-15: leo's window (May) closed, frank's
    (July) opened: one delegation removed, one added, as the payload of each run had them."""
    may, july = (
        _at(tenant(), datetime(2025, 5, 15, tzinfo=UTC)),
        _at(tenant(), NOW.replace(month=7)),
    )
    s = _sections(tmp_path, may, july)["sections"]
    assert [
        (e["user_id"], e["delegate_id"], e["kind"], e["permissions"])
        for e in s["delegates_removed"]
    ] == [("u-alice", "u-leo", "expense", ["canApprove"])]
    assert [(e["delegate_id"], e["permissions"]) for e in s["delegates_added"]] == [
        ("u-frank", ["canApprove", "canViewReceipt"])
    ]


def test_diff_approval_limits_report_access_and_bi_manager(tmp_path: Path) -> None:
    before = tenant()
    alice = before.spend["u-alice"]
    spend = dict(before.spend)
    spend["u-alice"] = dataclasses.replace(
        alice,
        approval_limits=(
            alice.approval_limits[0],
            ApprovalLimit("u-alice", "authorizedApprover", "request", 900.0, "EUR", "", 1),
        ),
        processor_report_access=None,
        bi_manager_id=None,
    )
    s = _sections(tmp_path, before, dataclasses.replace(before, spend=spend))["sections"]
    assert [x["limit"] for x in s["limits_added"]] == [
        "authorizedApprover: request up to 900 EUR in group Global, level 1"
    ]
    assert [x["limit"] for x in s["limits_removed"]] == [
        "costObjectApprover: report up to 250.5 USD in group R&D, level 2, with exception authority"
    ]
    assert [(c["field"], c["old"], c["new"]) for c in s["status_changes"]] == [
        ("processor_report_access", "RESTRICTED", None),
        ("bi_manager_id", "u-judy", None),
    ]


def _risky() -> DiscoveryResult:
    """A new SHD_ROLE_ADMIN (privileged) for judy, who becomes an SoD conflict with her
    approver role; ken stays active past a termination date the old run did not have."""
    result = _changed()
    spend = dict(result.spend)
    judy = spend["u-judy"]
    spend["u-judy"] = dataclasses.replace(
        judy, roles=(*judy.roles, RoleGrant("SHD_ROLE_ADMIN"), RoleGrant("EXP_APPROVER"))
    )
    return _at(dataclasses.replace(result, spend=spend), NOW.replace(month=7))


def test_diff_command_sections_summary_and_fail_on(tmp_path: Path) -> None:
    store = SnapshotStore(tmp_path)
    first = store.record(tenant())
    second = store.record(_risky())
    runner = CliRunner()
    out = runner.invoke(main, ["diff", "--state-dir", str(tmp_path)])
    assert out.exit_code == 0, out.output
    lines = out.output.splitlines()
    assert lines[0] == f"snapshot {first} -> {second}"
    assert lines[1].startswith("people +1 -1, status changes 2, privileged grants +1 -0")
    assert "new SoD conflicts 1, new terminated-but-active 1" in lines[1]
    assert (
        "== People added (1) ==" in lines and "+ Nora New (u-new), active, 0 Spend roles" in lines
    )
    privileged = lines.index("== Privileged grants gained (1) ==")
    assert lines[privileged + 1] == "+ Judy Self (u-judy): SHD_ROLE_ADMIN [company-wide]"
    assert privileged < lines.index("== Roles gained (1) ==")
    assert "- Bob Leaver (u-bob) approves Ken Delegate (u-ken) (report, not primary)" in lines
    assert not any("u-heidi" in line and "grant" in line.lower() for line in lines)
    for choice in ("privileged-grant", "sod-conflict", "terminated-active"):
        failed = runner.invoke(main, ["diff", "--fail-on", choice, "--state-dir", str(tmp_path)])
        assert failed.exit_code == 5, (choice, failed.output)
        assert f"1 {choice}" in failed.output
    calm = runner.invoke(
        main,
        [
            "diff",
            str(second),
            str(second),
            "--fail-on",
            "privileged-grant",
            "--state-dir",
            str(tmp_path),
        ],
    )
    assert calm.exit_code == 0, calm.output
    doc = json.loads(
        runner.invoke(
            main,
            ["diff", str(second), str(first), "--format", "json", "--state-dir", str(tmp_path)],
        ).output
    )
    assert (doc["old"], doc["new"]) == (second, first)
    assert [p["user_id"] for p in doc["sections"]["people_added"]] == ["u-heidi"]
    assert doc["sections"]["privileged_grants_lost"][0]["role_code"] == "SHD_ROLE_ADMIN"


def test_diff_needs_two_snapshots(tmp_path: Path) -> None:
    runner = CliRunner()
    out = runner.invoke(main, ["diff", "--state-dir", str(tmp_path)])
    assert out.exit_code == 2
    assert "run `oaa-concur discover` or `oaa-concur demo` first" in out.output
    SnapshotStore(tmp_path).record(tenant())
    out = runner.invoke(main, ["diff", "--state-dir", str(tmp_path)])
    assert out.exit_code == 2 and "is the only one" in out.output
    out = runner.invoke(main, ["diff", "5", "1", "--state-dir", str(tmp_path)])
    assert out.exit_code == 2 and "no snapshot 5" in out.output
