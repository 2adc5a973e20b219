"""Decisions, closed loop, through the real CLI: a review file is imported (every row
checked, nothing half-imported), a later snapshot has some revocations carried out in Concur
and some not, and the evidence export says which, with reviewers and dates."""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io
import json
from pathlib import Path
from typing import Any

import pytest

from oaa_concur.models import Company, DiscoveryResult
from oaa_concur.review.decisions import outcomes
from oaa_concur.review.snapshot import SnapshotStore
from oaa_concur.simulator import RunningSimulator, SimulatorConfig
from tests.fakes.clock import FakeTime
from tests.support.cli import run_cli, sim_env

NOW = dt.datetime(2025, 6, 15, 12, tzinfo=dt.UTC)
SIMULATOR = SimulatorConfig(users=120, seed=3)
HEADER = ["snapshot_id", "user_id", "display_name", "role_code", "role_groups",
          "review_decision", "review_reviewer", "review_comment"]  # fmt: skip


def _grants(store: SnapshotStore, snap: int) -> list[tuple[str, str]]:
    """(user, role) of active users holding two or more Spend roles, from the snapshot."""
    result = store.load(snap)
    active = {u.id for u in result.users if u.active}
    return [
        (p.user_id, g.role_code)
        for p in result.spend.values()
        if p.user_id in active and len(p.roles) >= 2
        for g in p.roles
    ]


def _write(path: Path, snap: int, rows: list[tuple[Any, ...]]) -> None:
    """A review CSV as the report writes it: BOM, one row per grant, reviewer columns."""
    with path.open("w", encoding="utf-8-sig", newline="") as f:
        w = csv.writer(f)
        w.writerow(HEADER)
        for user, role, decision, reviewer in rows:
            w.writerow([snap, user, "Łukasz", role, "", decision, reviewer, "Q2 review"])


def _later(result: DiscoveryResult, drop: tuple[str, str], deactivate: str) -> DiscoveryResult:
    """The tenant a month later: one grant removed in Concur, one user deactivated."""
    spend = dict(result.spend)
    p = spend[drop[0]]
    spend[drop[0]] = dataclasses.replace(
        p, roles=tuple(g for g in p.roles if g.role_code != drop[1])
    )
    users = [
        dataclasses.replace(u, active=False) if u.id == deactivate else u for u in result.users
    ]
    assert result.stats is not None
    stats = dataclasses.replace(result.stats, started_at=NOW + dt.timedelta(days=30))
    return dataclasses.replace(result, users=users, spend=spend, stats=stats)


def test_decision_round_trip(sim: RunningSimulator, tmp_path: Path) -> None:
    state = tmp_path / "state"
    env = sim_env(sim, state)
    done = run_cli(["discover", "--no-push"], env, FakeTime(start=NOW.timestamp()).runtime())
    assert done.exit_code == 0, done.output
    store = SnapshotStore(state)
    first = store.resolve(None).id
    grants = _grants(store, first)
    users = list(dict.fromkeys(u for u, _ in grants))
    a, b, c = (next(g for g in grants if g[0] == u) for u in users[:3])
    keep = next(g for g in grants if g[0] == users[3])
    review = tmp_path / "review.csv"

    # every bad row is reported with its line, and nothing is recorded
    _write(review, first, [(*a, "revoke", "rita"), (*b, "maybe", "rita"), (*c, "revoke", ""),
                           (a[0], "NO_SUCH_ROLE", "keep", "rita"), (*keep, "", "")])  # fmt: skip
    bad = run_cli(["review", "import", str(review)], env)
    assert bad.exit_code == 2, bad.output
    lines = bad.stderr.strip().splitlines()
    assert [line.split(": ")[0] for line in lines[:3]] == [f"{review}:{n}" for n in (3, 4, 5)]
    assert "'maybe' is not keep or revoke" in lines[0] and "review_reviewer is empty" in lines[1]
    assert "has no grant 'NO_SUCH_ROLE'" in lines[2]
    assert lines[-1].startswith("error: 3 rows of") and len(lines) == 4
    assert list(outcomes(store)) == []

    _write(review, first, [(*a, "revoke", "rita"), (*b, "Revoke", "rita"), (*c, "revoke", "sam"),
                           (*keep, "keep", "sam"), (users[4], grants[-1][1], "", "")])  # fmt: skip
    ok = run_cli(["review", "import", str(review)], env)
    assert ok.exit_code == 0, ok.output
    assert "recorded 4 decisions (1 rows without a decision)" in ok.stderr
    assert {o.status for o in outcomes(store)} == {"not_checked"}

    second = store.record(_later(store.load(first), drop=a, deactivate=b[0]))
    evidence = run_cli(["review", "evidence"], env)
    assert evidence.exit_code == 0, evidence.output
    rows = {(r["user_id"], r["role_code"]): r for r in csv.DictReader(io.StringIO(evidence.stdout))}
    assert (rows[a]["outcome"], rows[a]["outcome_detail"]) == ("carried_out", "grant removed")
    assert (rows[b]["outcome"], rows[b]["outcome_detail"]) == ("carried_out", "user inactive")
    assert (rows[c]["outcome"], rows[c]["outcome_detail"]) == ("not_carried_out", "still granted")
    assert rows[keep]["decision"] == "keep" and rows[keep]["outcome"] == ""
    assert {r["checked_snapshot_id"] for k, r in rows.items() if k != keep} == {str(second)}
    assert (rows[a]["reviewer"], rows[c]["reviewer"], rows[a]["comment"]) == (
        "rita",
        "sam",
        "Q2 review",
    )
    assert rows[a]["snapshot_taken_at"] == NOW.isoformat() and rows[a]["source"] == "review.csv:2"
    out = tmp_path / "evidence.json"
    assert (
        run_cli(["review", "evidence", "--format", "json", "--out", str(out)], env).exit_code == 0
    )
    doc = json.loads(out.read_text(encoding="utf-8"))
    assert len(doc["decisions"]) == 4
    assert sum(d["outcome"] == "carried_out" for d in doc["decisions"]) == 2

    # the next report shows every revoke and whether the newest snapshot confirms it
    report = tmp_path / "report.json"
    assert run_cli(["report", "--format", "json", "--out", str(report)], env).exit_code == 0
    shown = json.loads(report.read_text(encoding="utf-8"))["decisions"]
    assert (shown["revokes"], shown["carried_out"], shown["not_carried_out"]) == (3, 2, 1)
    assert (shown["shown"][0]["user_id"], shown["shown"][0]["outcome"]) == (c[0], "not_carried_out")
    page = tmp_path / "report.html"
    assert run_cli(["report", "--format", "html", "--out", str(page)], env).exit_code == 0
    html = page.read_text(encoding="utf-8")
    assert "3 revokes recorded: 2 carried out in Concur, 1 not carried out" in html


def test_xlsx_review_imports_like_the_csv(sim: RunningSimulator, tmp_path: Path) -> None:
    openpyxl = pytest.importorskip("openpyxl")
    state = tmp_path / "state"
    env = sim_env(sim, state)
    assert (
        run_cli(["discover", "--no-push"], env, FakeTime(start=NOW.timestamp()).runtime()).exit_code
        == 0
    )
    store = SnapshotStore(state)
    snap = store.resolve(None).id
    user, role = _grants(store, snap)[0]
    book = openpyxl.Workbook()
    book.active.title = "summary"
    book.active.append(["snapshot", snap])
    sheet = book.create_sheet("grants")
    sheet.append(HEADER)
    sheet.append([snap, user, "x", role, "", "revoke", "rita", None])
    path = tmp_path / "review.xlsx"
    book.save(path)
    assert run_cli(["review", "import", str(path)], env).exit_code == 0
    assert [(o.decision.user_id, o.decision.role_code, o.status) for o in outcomes(store)] == [
        (user, role, "not_checked")
    ]


def test_import_refuses_a_file_that_is_not_a_review(tmp_path: Path) -> None:
    SnapshotStore(tmp_path / "s").record(DiscoveryResult(Company("c", "us"), [], {}))
    path = tmp_path / "other.csv"
    path.write_text("a,b\n1,2\n", encoding="utf-8")
    done = run_cli(["review", "import", str(path), "--state-dir", str(tmp_path / "s")], {})
    assert done.exit_code == 2 and "has no column snapshot_id" in done.stderr
    missing = run_cli(
        ["review", "import", str(tmp_path / "nope.csv"), "--state-dir", str(tmp_path / "s")], {}
    )
    assert missing.exit_code == 2 and "There is no file" in missing.stderr


def test_the_report_s_own_xlsx_round_trips(sim: RunningSimulator, tmp_path: Path) -> None:
    """The contract between the report and the import: the workbook ``report --format xlsx``
    writes, with a reviewer's revoke typed into its grants sheet, imports as that decision."""
    openpyxl = pytest.importorskip("openpyxl")
    state = tmp_path / "state"
    env = sim_env(sim, state)
    assert run_cli(["discover", "--no-push"], env).exit_code == 0
    workbook = tmp_path / "review.xlsx"
    assert run_cli(["report", "--format", "xlsx", "--out", str(workbook)], env).exit_code == 0
    book = openpyxl.load_workbook(workbook)
    sheet = book["grants"]
    header = [c.value for c in sheet[1]]
    row = 2
    col = {name: header.index(name) + 1 for name in header}
    sheet.cell(row, col["review_decision"], "revoke")
    sheet.cell(row, col["review_reviewer"], "rita")
    user = sheet.cell(row, col["user_id"]).value
    role = sheet.cell(row, col["role_code"]).value
    book.save(workbook)
    done = run_cli(["review", "import", str(workbook)], env)
    assert done.exit_code == 0, done.stderr
    assert "recorded 1 decisions" in done.stderr
    store = SnapshotStore(state)
    assert [
        (o.decision.user_id, o.decision.role_code, o.decision.reviewer) for o in outcomes(store)
    ] == [(user, role, "rita")]


def test_a_corrupt_xlsx_is_one_sentence(tmp_path: Path) -> None:
    SnapshotStore(tmp_path / "s").record(DiscoveryResult(Company("c", "us"), [], {}))
    path = tmp_path / "review.xlsx"
    path.write_bytes(b"PK\x03\x04 not really a workbook")
    done = run_cli(["review", "import", str(path), "--state-dir", str(tmp_path / "s")], {})
    assert done.exit_code == 2
    assert "is not a readable XLSX workbook" in done.stderr
    assert "Traceback" not in done.stderr
