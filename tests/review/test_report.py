"""The report in its three formats, and the `report` / `snapshots` commands."""

from __future__ import annotations

import csv
import io
import json
import re
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from oaa_concur.cli import main
from oaa_concur.review.report import Format, write_report
from oaa_concur.review.rules import load_rules
from oaa_concur.review.snapshot import SnapshotStore
from oaa_concur.review.tables import GRANT_COLUMNS
from tests.review.tenant import EXPECTED, NOW, RULES_FILE, tenant

AS_OF = ["--as-of", NOW.isoformat()]


@pytest.fixture
def rules_path(tmp_path: Path) -> Path:
    path = tmp_path / "rules.toml"
    path.write_text(RULES_FILE)
    return path


def _write(tmp_path: Path, fmt: Format, rules_path: Path | None = None) -> str:
    out = tmp_path / f"report.{fmt}"
    write_report(tenant(), out, fmt, now=NOW, rules=load_rules(rules_path))
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    return out.read_text(encoding="utf-8-sig" if fmt == "csv" else "utf-8")


def test_csv_one_row_per_grant_with_reviewer_columns(tmp_path: Path) -> None:
    rows = list(csv.DictReader(io.StringIO(_write(tmp_path, "csv"))))
    assert tuple(rows[0]) == GRANT_COLUMNS
    assert len(rows) == 13 + 17  # one product entitlement each + the Spend roles
    by_key = {(r["user_id"], r["role_code"]): r for r in rows}
    alice = by_key["u-alice", "EXP_PROCESSOR"]
    assert (alice["scope"], alice["privileged"], alice["manager_name"]) == (
        "role groups: R&D-QA-Exp",
        "no",
        "Judy Self",
    )
    assert alice["findings"].split() == [
        "DELEGATE_SELF_APPROVAL:u-ken:u-alice",
        "SOD-EXP-APPROVE-PROCESS:u-alice",
    ]
    bob = by_key["u-bob", "SHD_PAYROLL_ADMIN"]
    assert (bob["status"], bob["privileged"], bob["role_name"], bob["product"]) == (
        "terminated-active",
        "yes",
        "Payroll Administrator",
        "Expense, Invoice",  # the page lists it in the Expense and Invoice tables
    )
    assert by_key["u-dave", "EXP_CONFIG_ADMIN"]["status"] == "inactive"
    assert by_key["u-erin", "INV_PMT_MANAGER"]["cost_center"] == "'=SUM(A1)"  # no formula
    assert by_key["u-grace", "EXP_USER"]["email"] == ""
    assert {r["review_decision"] for r in rows} == {""}


def test_json_has_the_same_content_for_machines(tmp_path: Path, rules_path: Path) -> None:
    doc = json.loads(_write(tmp_path, "json", rules_path))
    assert {f["id"] for f in doc["findings"]} == set(EXPECTED)
    summary = doc["summary"]
    assert (
        summary["users"],
        summary["active"],
        summary["inactive"],
        summary["terminated_active"],
    ) == (13, 10, 3, 1)  # active: Concur's flag, the 1 terminated-but-active user included
    assert (summary["grants"], summary["privileged_users"], summary["exempted"]) == (30, 4, 1)
    assert summary["findings"] == {"critical": 1, "high": 7, "medium": 4, "low": 3, "info": 7}
    assert doc["charts"]["users_by_status"] == {"active": 9, "inactive": 3, "terminated-active": 1}
    assert doc["charts"]["privileged_holders"]["SHD_ROLE_ADMIN"] == 1
    erin = next(f for f in doc["findings"] if f["id"] == "SOD-INV-VENDOR-PAY:u-erin")
    assert erin["exemption"]["expires"] == "2025-12-31"
    assert [e["active"] for e in doc["exemptions"]] == [True, False]
    assert len(doc["grants"]) == 30 and doc["company"]["name"] == "Acme Test"
    assert doc["data_issues"][0] == {
        "kind": "orphan_spend_record",
        "subject": "u-orphan",
        "detail": "no Identity user",
    }


def test_access_details_in_json_and_html(tmp_path: Path) -> None:
    """Issue 10: delegations outside their window (with dates), unknown references, approval
    limits and processor report access are listed; the run's notes head the report."""
    doc = json.loads(_write(tmp_path, "json"))
    states = {
        (d["delegate_id"], d["state"], d["starts"][:10], d["ends"][:10])
        for d in doc["delegations_out_of_window"]
    }
    assert states == {
        ("u-leo", "expired", "2025-05-01", "2025-06-01"),
        ("u-frank", "scheduled", "2025-07-01", "2025-08-01"),
    }
    [ref] = doc["unknown_references"]
    assert (ref["user"], ref["relation"], ref["target"]) == (
        "Grace Noemail",
        "approver",
        "employeeNumber E404",
    )
    assert [x["text"] for x in doc["approval_limits"]] == [
        "authorizedApprover: report up to 5000 USD in group Global, level 1",
        "costObjectApprover: report up to 250.5 USD in group R&D, level 2, with exception "
        "authority",
    ]
    access = {
        r["user_id"]: (r["report_access"], r["meaning"]) for r in doc["processor_report_access"]
    }
    assert access == {
        "u-alice": ("RESTRICTED", "only reports pending processor step and beyond"),
        "u-mia": ("", "all reports excluding returned reports (Concur's default)"),
    }
    summary = doc["summary"]
    assert (summary["delegations_out_of_window"], summary["unknown_references"]) == (2, 1)
    page = _write(tmp_path, "html")
    for section in ("delegations", "unknown-references", "approval-limits", "processor-access"):
        assert f'<section id="{section}">' in page
    assert "employeeNumber E404" in page and "R&amp;D" in page and "scheduled" in page


def test_html_is_self_contained_and_escaped(tmp_path: Path, rules_path: Path) -> None:
    page = _write(tmp_path, "html", rules_path)
    for forbidden in ("http://", "https://", "<script src", "<link", "url(", "@import", "//cdn"):
        assert forbidden not in page.replace("https://us2.api.concursolutions.com", ""), forbidden
    assert "Content-Security-Policy" in page and "default-src 'none'" in page
    assert "<b>&</b>" not in page and "R&amp;D" in page  # autoescaped where rendered here
    match = re.search(r'id="report-data">(.*?)</script>', page, re.S)
    assert match is not None
    data = match.group(1)
    people = {p[0]: p for p in json.loads(data)["people"]}
    assert "<" not in data and people["u-ivan"][1] == "Ivan <b>&</b> Chains"
    for chart in ("chart-status", "chart-products", "chart-privileged"):
        assert f'id="{chart}"' in page
    assert page.count("<svg") == 3
    assert "TERMINATED_ACTIVE:u-bob" in page and "Interim AP lead" in page


def _cli(tmp_path: Path, *args: str) -> Result:
    return CliRunner().invoke(main, [*args, "--state-dir", str(tmp_path / "state")])


def test_report_without_snapshot_says_what_to_do(tmp_path: Path) -> None:
    out = _cli(tmp_path, "report")
    assert out.exit_code == 2
    assert out.output.strip().splitlines()[-1] == (
        f"error: No snapshot in {tmp_path / 'state'} yet: run `oaa-concur discover` or "
        "`oaa-concur demo` first"
    )


def test_report_command_and_fail_on(tmp_path: Path, rules_path: Path) -> None:
    SnapshotStore(tmp_path / "state").record(tenant())
    target = tmp_path / "out" / "r.html"
    out = _cli(tmp_path, "report", "--out", str(target), *AS_OF)
    assert out.exit_code == 0, out.output  # findings alone never fail the run
    assert "23 findings: 2 critical" in out.output and target.exists()
    out = _cli(
        tmp_path, "report", "--format", "csv", "--out", str(target), "--fail-on", "high", *AS_OF
    )
    assert out.exit_code == 5 and "9 findings at or above high" in out.output  # ExitCode.FINDINGS
    waiver = rules_path.read_text() + (
        '\n[[exemptions]]\nuser = "u-bob"\nrule = "TERMINATED_ACTIVE"\nreason = "HR lag"\n'
        "expires = 2025-06-30\n"
    )
    rules_path.write_text(waiver)
    out = _cli(
        tmp_path,
        "report",
        "--format",
        "json",
        "--out",
        "-",
        "--rules",
        str(rules_path),
        "--fail-on",
        "critical",
        *AS_OF,
    )
    assert out.exit_code == 0, out.output
    assert json.loads(out.output)["summary"]["findings"]["critical"] == 0


def test_report_of_a_given_snapshot_and_bad_options(tmp_path: Path) -> None:
    store = SnapshotStore(tmp_path / "state")
    store.record(tenant())
    out = _cli(tmp_path, "report", "--snapshot", "3")
    assert out.exit_code == 2 and "no snapshot 3" in out.output
    out = _cli(tmp_path, "report", "--as-of", "next week")
    assert out.exit_code == 2 and "--as-of" in out.output
    out = _cli(tmp_path, "report", "--format", "json", "--out", "-", "--snapshot", "1", *AS_OF)
    assert json.loads(out.output)["snapshot"]["id"] == 1


def test_snapshots_command_lists_them(tmp_path: Path) -> None:
    out = _cli(tmp_path, "snapshots")
    assert out.exit_code == 0 and "No snapshots" in out.output
    SnapshotStore(tmp_path / "state").record(tenant())
    out = _cli(tmp_path, "snapshots")
    assert out.exit_code == 0
    row = next(line for line in out.output.splitlines() if "Acme Test" in line)
    assert "2025-06-15 00:00:00" in row and " 13 " in row and " 17 " in row
