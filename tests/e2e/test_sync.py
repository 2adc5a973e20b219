"""``run_sync``: the orchestrator adds what the OAA mapping found to what it records (§3.7)."""

from __future__ import annotations

from pathlib import Path

from oaa_concur.config import Secrets, Settings
from oaa_concur.models import IssueKind
from oaa_concur.review.snapshot import SnapshotStore
from oaa_concur.simulator import RunningSimulator, SimulatorConfig
from oaa_concur.simulator.catalog import UNKNOWN_ROLE
from oaa_concur.sync import SyncOptions, run_sync
from tests.support.cli import run_cli, sim_env

# The simulator gives user #5 a role code the catalogue does not know: only the OAA mapping
# notices it (discovery keeps role codes as Concur sends them).
SIMULATOR = SimulatorConfig(users=25, seed=11)


def test_the_mapping_issues_are_in_the_outcome_and_the_snapshot(
    sim: RunningSimulator, state: Path, tmp_path: Path
) -> None:
    settings = Settings(state_dir=state, concur_url=sim.url, concurrency=2)
    secrets = Secrets.from_env(sim.env())
    options = SyncOptions(save_json=tmp_path / "payload.json", push=False)
    outcome = run_sync(settings, secrets, options)
    unknown = [i for i in outcome.issues if i.kind is IssueKind.UNKNOWN_ROLE_CODE]
    assert [i.subject for i in unknown] == [UNKNOWN_ROLE]
    store = SnapshotStore(state)
    assert store.load(outcome.snapshot_id).issues == outcome.issues
    assert store.info(outcome.snapshot_id).issue_count == len(outcome.issues)
    assert (outcome.pushed, outcome.warnings) == (False, [])
    assert (tmp_path / "payload.json").exists()


def test_the_summary_line_counts_them(sim: RunningSimulator, state: Path) -> None:
    result = run_cli(["discover", "--no-push"], sim_env(sim, state))
    assert result.exit_code == 0, result.output
    [info] = SnapshotStore(state).list()
    assert f"{info.issue_count} data issues" in result.stdout
    assert any(i.kind is IssueKind.UNKNOWN_ROLE_CODE for i in SnapshotStore(state).load(1).issues)
