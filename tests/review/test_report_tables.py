"""Issue 14's report tables (grants with severity, HR, snapshot and reviewer columns; approvers;
delegates; findings) in CSV and XLSX, and issue 12's report from the store: the same content as
from the result in memory, and an HTML file that says what it left to the CSV."""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from hypothesis import given
from hypothesis import strategies as st
from openpyxl import load_workbook

from oaa_concur.cli import main
from oaa_concur.review import html, xlsx
from oaa_concur.review.findings import find
from oaa_concur.review.report import Format, cell, defused, report_snapshot, write_report
from oaa_concur.review.rules import load_rules
from oaa_concur.review.snapshot import SnapshotStore
from oaa_concur.review.tables import APPROVER_COLUMNS, COLUMNS, DELEGATE_COLUMNS, GRANT_COLUMNS
from tests.review.bigtenant import big_tenant
from tests.review.tenant import EXPECTED, NOW, RULES_FILE, tenant

AS_OF = ["--as-of", NOW.isoformat()]
REVIEW_COLUMNS = ("review_decision", "review_reviewer", "review_comment")
"""The contract with `oaa-concur review import`: key (snapshot_id, user_id, role_code)."""


@pytest.fixture
def state(tmp_path: Path) -> Path:
    """A state directory holding tenant() as snapshot 1, with a non-ASCII name."""
    result = tenant()
    result.users[0] = replace(result.users[0], display_name="Łukasz Żółć")
    SnapshotStore(tmp_path / "state").record(result)
    (tmp_path / "rules.toml").write_text(RULES_FILE)
    return tmp_path / "state"


def _cli(state: Path, *args: str) -> Result:
    return CliRunner().invoke(main, [*args, "--state-dir", str(state), *AS_OF])


def _csv(state: Path, table: str = "grants") -> tuple[bytes, list[dict[str, str]]]:
    out = state.parent / f"{table}.csv"
    rules = str(state.parent / "rules.toml")
    result = _cli(
        state, "report", "--format", "csv", "--table", table, "--out", str(out), "--rules", rules
    )
    assert result.exit_code == 0, result.output
    raw = out.read_bytes()
    return raw, list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))


def test_grants_csv_has_bom_snapshot_severity_hr_and_reviewer_columns(state: Path) -> None:
    raw, rows = _csv(state)
    assert raw.startswith(b"\xef\xbb\xbf") and "Łukasz Żółć".encode() in raw
    assert tuple(rows[0]) == GRANT_COLUMNS
    assert GRANT_COLUMNS[:2] == ("snapshot_id", "snapshot_time")
    assert GRANT_COLUMNS[-3:] == REVIEW_COLUMNS
    taken = SnapshotStore(state).info(1).taken_at.isoformat()
    assert {(r["snapshot_id"], r["snapshot_time"]) for r in rows} == {("1", taken)}
    assert {r[c] for r in rows for c in REVIEW_COLUMNS} == {""}
    by_key = {(r["user_id"], r["role_code"]): r for r in rows}
    assert len(by_key) == len(rows) == 30  # the import's key is unique
    bob = by_key["u-bob", "SHD_PAYROLL_ADMIN"]
    assert (bob["severity"], bob["termination_date"], bob["status"]) == (
        "critical",
        "2025-05-01",
        "terminated-active",
    )
    alice = by_key["u-alice", "EXP_PROCESSOR"]
    assert (alice["severity"], alice["manager_id"], alice["manager_name"]) == (
        "high",
        "u-judy",
        "Judy Self",
    )
    assert by_key["u-erin", "INV_PMT_MANAGER"]["severity"] == ""  # its one finding is exempted
    assert by_key["u-erin", "INV_PMT_MANAGER"]["cost_center"] == "'=SUM(A1)"
    assert by_key["u-frank", "SHD_ROLE_ADMIN"]["severity"] == "high"  # the waiver expired
    assert by_key["u-frank", "ENTITLEMENT_EXPENSE"]["severity"] == ""  # no finding concerns it
    assert by_key["u-mia", "EXP_APPROVER"]["severity"] == ""  # inactive: no SoD finding
    assert {r["department"] for r in rows} == {""} and {r["employee_number"] for r in rows} == {""}


def test_approver_and_delegate_tables(state: Path) -> None:
    _, approvers = _csv(state, "approvers")
    assert tuple(approvers[0]) == APPROVER_COLUMNS
    edges = {(r["user_id"], r["approver_id"], r["kind"]): r for r in approvers}
    assert set(edges) == {
        ("u-ivan", "u-ghost", "report"),
        ("u-ivan", "u-dave", "cashAdvance"),
        ("u-judy", "u-judy", "report"),
        ("u-ken", "u-bob", "report"),
        ("u-ken", "u-alice", "cashAdvance"),
        ("u-leo", "u-alice", "report"),
    }
    ghost = edges["u-ivan", "u-ghost", "report"]
    assert (ghost["approver_status"], ghost["approver"], ghost["primary"]) == ("unknown", "", "yes")
    assert edges["u-ken", "u-bob", "report"]["approver_status"] == "terminated-active"
    assert edges["u-ken", "u-alice", "cashAdvance"]["approver"] == "Łukasz Żółć"
    _, delegates = _csv(state, "delegates")
    assert tuple(delegates[0]) == DELEGATE_COLUMNS
    states = {(r["delegate_id"], r["state"], r["can_approve"], r["starts"][:10]) for r in delegates}
    assert states == {
        ("u-ken", "in_force", "yes", ""),
        ("u-leo", "expired", "yes", "2025-05-01"),
        ("u-frank", "scheduled", "yes", "2025-07-01"),
    }
    assert {r["user"] for r in delegates} == {"Łukasz Żółć"}


def test_findings_table_and_table_option_errors(state: Path, tmp_path: Path) -> None:
    _, findings = _csv(state, "findings")
    assert {r["id"] for r in findings} == set(EXPECTED)
    erin = next(r for r in findings if r["id"] == "SOD-INV-VENDOR-PAY:u-erin")
    assert erin["exemption"].startswith("exempted until 2025-12-31: Interim AP lead")
    assert [r["severity"] for r in findings][:2] == ["critical", "critical"]
    out = _cli(state, "report", "--format", "html", "--table", "approvers")
    assert out.exit_code == 2
    assert "--table applies to --format csv only" in out.output
    out = _cli(state, "report", "--format", "xlsx", "--out", "-")
    assert out.exit_code == 2 and "cannot be written to stdout" in out.output


def test_default_csv_name_names_the_table(
    state: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    out = _cli(state, "report", "--format", "csv", "--table", "delegates")
    assert out.exit_code == 0, out.output
    assert (tmp_path / "oaa-concur-report-1-delegates.csv").exists()


def test_xlsx_has_one_sheet_per_table(state: Path) -> None:
    out = state.parent / "r.xlsx"
    result = _cli(state, "report", "--format", "xlsx", "--out", str(out))
    assert result.exit_code == 0, result.output
    book = load_workbook(out, read_only=True)
    assert book.sheetnames == ["grants", "approvers", "delegates", "findings"]
    sheets = {name: [list(r) for r in book[name].iter_rows(values_only=True)] for name in COLUMNS}
    for name, columns in COLUMNS.items():
        assert tuple(sheets[name][0]) == columns
    assert [len(sheets[n]) - 1 for n in COLUMNS] == [30, 6, 3, 23]
    grants = [dict(zip(GRANT_COLUMNS, row, strict=True)) for row in sheets["grants"][1:]]
    erin = next(g for g in grants if g["role_code"] == "INV_PMT_MANAGER")
    assert erin["cost_center"] == "'=SUM(A1)"  # text, never a formula
    assert "Łukasz Żółć" in {g["display_name"] for g in grants}


def test_xlsx_continues_a_long_table_on_further_sheets(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(xlsx, "MAX_ROWS", 11)  # a header and 10 rows per sheet
    out = tmp_path / "r.xlsx"
    write_report(tenant(), out, "xlsx", now=NOW)
    book = load_workbook(out, read_only=True)
    assert book.sheetnames[:3] == ["grants", "grants (2)", "grants (3)"]
    counts = [sum(1 for _ in book[n].iter_rows()) for n in book.sheetnames[:3]]
    assert counts == [11, 11, 11]  # 30 rows in 3 sheets, each with its header
    assert next(book["grants (3)"].iter_rows(values_only=True))[0] == "snapshot_id"


def _from_store(state: Path, fmt: Format, rules: Path | None = None) -> str:
    buffer = io.StringIO()
    report_snapshot(SnapshotStore(state), buffer, fmt, rules=load_rules(rules), now=NOW)
    return buffer.getvalue()


@pytest.mark.parametrize("n", [13, 400])
def test_report_from_the_store_equals_the_report_from_memory(tmp_path: Path, n: int) -> None:
    """The streamed walk over SQLite (SQL directory, merged findings) and the walk over the
    result in memory give the same document, findings equal to `find`."""
    result = tenant() if n == 13 else big_tenant(n)
    store = SnapshotStore(tmp_path / "state")
    info = store.info(store.record(result))
    streamed = json.loads(_from_store(tmp_path / "state", "json"))
    buffer = io.StringIO()
    write_report(result, buffer, "json", now=NOW, snapshot=info)
    assert streamed == json.loads(buffer.getvalue())
    assert [f["id"] for f in streamed["findings"]] == [
        f.id for f in find(result, load_rules(None), now=NOW)
    ]
    assert len(streamed["grants"]) == streamed["summary"]["grants"]
    assert len(streamed["approvers"]) == sum(len(p.approvers) for p in result.spend.values())


def _embedded(page: str) -> dict[str, Any]:
    match = re.search(r'id="report-data">(.*?)</script>', page, re.S)
    assert match is not None
    return dict(json.loads(match.group(1)))


def test_html_says_what_it_left_to_the_csv(state: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Beyond its bounds the page holds the people with findings or privileged roles first
    and says, in exact numbers, how many rows of each kind it holds."""
    monkeypatch.setattr(html, "PEOPLE_SHOWN", 3)
    monkeypatch.setattr(html, "FINDINGS_PER_RULE", 1)
    page = _from_store(state, "html")
    data = _embedded(page)
    notable = sorted(
        {
            u
            for f, (_, users, _) in EXPECTED.items()
            if not f.startswith("PRIVILEGED")
            for u in users
        }
        - {"u-ghost", "u-orphan"}
    )
    assert [p[0] for p in data["people"]] == notable[:3] == ["u-alice", "u-bob", "u-carol"]
    grants = len(data["grants"])
    assert grants == 3 + 3 + 2  # alice, bob, carol: an entitlement each and their roles
    assert f"{grants} of 30 grant rows shown; all are in the CSV." in page
    assert "3 of 13 people shown (everyone with an open finding or a privileged role" in page
    shown = data["shown"]["findings"][0]
    assert f"{shown} of 23 findings shown (up to 1 per rule" in page
    assert '<tr data-rule="APPROVER_UNKNOWN">' in page and "1 of 2</td>" in page
    ids = {f[1] for f in data["findings"]}
    assert "DELEGATE_SELF_APPROVAL:u-ken:u-alice" in ids  # names alice, who is shown
    approvals = {(a[0], a[3]) for a in data["approvals"]}
    assert approvals == {("u-ken", "u-bob"), ("u-ken", "u-alice"), ("u-leo", "u-alice")}


def test_html_numbers_and_dates_are_readable(tmp_path: Path) -> None:
    out = tmp_path / "big.html"
    write_report(big_tenant(1200), out, "html", now=NOW)
    page = out.read_text(encoding="utf-8")
    assert '<b id="n-users">1,200</b>' in page
    assert 'Findings as of <time datetime="2025-06-15T12:00:00+00:00">2025-06-15 12:00 UTC' in page
    assert re.search(r"[\d,]+ of [\d,]+ grant rows shown; all are in the CSV\.", page)


def test_html_text_rendered_by_the_template_shows_bidi_controls(tmp_path: Path) -> None:
    """The delegations table is rendered server-side: a reversed name shows as ``\\u202e``."""
    result = tenant()
    result.users = [
        replace(u, display_name="Leo \u202eexe.txt") if u.id == "u-leo" else u for u in result.users
    ]
    out = tmp_path / "r.html"
    write_report(result, out, "html", now=NOW)
    page = out.read_text(encoding="utf-8")
    assert "\u202e" not in page
    section = page.split('<section id="delegations">')[1].split("</section>")[0]
    assert "Leo \\u202eexe.txt" in section


_SPECIAL = (
    "=+-@ \t\r\n\x00\x01\x0b\x1f\x7f\x85\x9f\u00a0\u200b\u200e\u2028\u202e\u2060\u2066\ufeffaŁ1"
)


@given(st.text(alphabet=st.sampled_from(_SPECIAL), max_size=8) | st.text(max_size=8))
def test_the_cell_fast_path_changes_nothing(value: str) -> None:
    """Most cells skip the regexes (a 10,000-user CSV has a million cells): never one that
    needed them."""
    assert cell(value) == defused(value)
