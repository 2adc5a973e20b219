"""diff(): what changed between two discoveries, and the `diff` command."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime
from pathlib import Path

from click.testing import CliRunner

from oaa_concur.cli import main
from oaa_concur.models import ApprovalLimit, ApproverEdge, DiscoveryResult, RoleGrant, User
from oaa_concur.review.diff import StatusChange, diff, render_text
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


def test_diff_lists_each_change() -> None:
    d = diff(tenant(), _changed())
    assert d.users_added == ["u-new"] and d.users_removed == ["u-heidi"]
    assert d.status_changes == [
        StatusChange("u-carol", "active", "true", "false"),
        StatusChange("u-ken", "termination_date", None, "2025-06-15"),
    ]
    assert d.grants_gained == [("u-alice", "EXP_PROCESSOR", ("R&D", "QA"))]
    assert d.grants_lost == [
        ("u-alice", "EXP_PROCESSOR", ("R&D-QA-Exp",)),
        ("u-heidi", "ENTITLEMENT_EXPENSE", ()),
    ]
    assert d.approvers_added == [("u-ken", "u-judy", "report", False)]
    assert d.approvers_removed == [("u-ken", "u-bob", "report", False)]
    # Dropping alice's expired (leo) and scheduled (frank) delegations changes no access.
    assert d.delegates_added == d.delegates_removed == []
    assert not d.empty and diff(tenant(), tenant()).empty


def _at(result: DiscoveryResult, when: datetime) -> DiscoveryResult:
    """``result`` as if discovered at ``when``."""
    assert result.stats is not None
    return dataclasses.replace(result, stats=dataclasses.replace(result.stats, started_at=when))


def test_diff_delegations_in_force_when_each_run_was_made() -> None:
    """The same data read on 2025-05-15 and on 2025-07-15: leo's window (May) closed, frank's
    (July) opened: one delegation removed, one added, as the payload of each run had them."""
    may, july = (
        _at(tenant(), datetime(2025, 5, 15, tzinfo=UTC)),
        _at(tenant(), NOW.replace(month=7)),
    )
    d = diff(may, july)
    assert d.delegates_removed == [("u-alice", "u-leo", "expense", ("canApprove",))]
    assert d.delegates_added == [
        ("u-alice", "u-frank", "payment", ("canApprove", "canViewReceipt"))
    ]


def test_diff_approval_limits_report_access_and_bi_manager() -> None:
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
    d = diff(before, dataclasses.replace(before, spend=spend))
    assert d.limits_added == [
        ("u-alice", "authorizedApprover: request up to 900 EUR in group Global, level 1")
    ]
    assert d.limits_removed == [
        (
            "u-alice",
            "costObjectApprover: report up to 250.5 USD in group R&D, level 2, "
            "with exception authority",
        )
    ]
    assert d.status_changes == [
        StatusChange("u-alice", "processor_report_access", "RESTRICTED", None),
        StatusChange("u-alice", "bi_manager_id", "u-judy", None),
    ]
    text = render_text(d, {"u-alice": "Alice Approver"})
    assert "+ approval limit of Alice Approver (u-alice): authorizedApprover: request" in text
    assert "~ Alice Approver (u-alice): processor_report_access RESTRICTED -> None" in text


def test_diff_command_text_and_json(tmp_path: Path) -> None:
    store = SnapshotStore(tmp_path)
    first = store.record(tenant())
    second = store.record(_changed())
    runner = CliRunner()
    out = runner.invoke(main, ["diff", "--state-dir", str(tmp_path)])
    assert out.exit_code == 0, out.output
    assert f"snapshot {first} -> {second}" in out.output
    assert "+ user Nora New (u-new)" in out.output
    assert (
        "- approver Bob Leaver (u-bob) approves Ken Delegate (u-ken) (report, not primary)"
        in out.output
    )
    out = runner.invoke(
        main, ["diff", str(second), str(first), "--format", "json", "--state-dir", str(tmp_path)]
    )
    doc = json.loads(out.output)
    assert (doc["old"], doc["new"], doc["users_added"]) == (second, first, ["u-heidi"])
    assert doc["grants_gained"] == [
        ["u-alice", "EXP_PROCESSOR", ["R&D-QA-Exp"]],
        ["u-heidi", "ENTITLEMENT_EXPENSE", []],
    ]


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
