"""The payload streamed from the snapshot store equals oaaclient's ``get_payload()`` of the same
snapshot loaded into memory (the oracle), and a discovery that fails at any page leaves no
payload, no snapshot, no row and no push."""

from __future__ import annotations

import sqlite3
import tempfile
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import given

from oaa_concur import oaa
from oaa_concur.errors import IncompleteDiscovery
from oaa_concur.models import Company, DiscoveryResult, IssueKind, User
from oaa_concur.oaa.stream import save_stored
from oaa_concur.review.snapshot import CHILD_TABLES, FILE_NAME, SnapshotStore
from oaa_concur.simulator import SimulatorConfig
from oaa_concur.sync import SyncOptions, run_sync
from tests.badinput.strategies import SLOW_PROPS
from tests.fakes.clock import FakeTime
from tests.fakes.concur import client_for, in_process
from tests.oaa.test_stream import oracle, typed_tenants


def _from_store(result: DiscoveryResult, directory: Path) -> tuple[Any, list[Any]]:
    store = SnapshotStore(directory / "state")
    snap = store.record(result)
    with store.read(snap) as snapshot:
        written, issues = save_stored(snapshot, result.company, result.as_of, directory / "p.json")
    assert written is not None
    return orjson.loads(written.path.read_bytes()), issues


@given(typed_tenants())
@SLOW_PROPS
def test_any_tenant_streamed_from_the_store(result: DiscoveryResult) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        got, issues = _from_store(result, Path(tmp))
    assert got == oracle(result)
    assert issues == list(oaa.build_application(result).issues)


def test_a_seeded_tenant_end_to_end_from_the_store(tmp_path: Path) -> None:
    concur = in_process(SimulatorConfig(users=400, seed=7))
    settings, secrets = client_for(concur.sim, tmp_path / "state")
    out = tmp_path / "payload.json"
    runtime = FakeTime().runtime(concur.transport)
    outcome = run_sync(settings, secrets, SyncOptions(save_json=out, push=False), runtime=runtime)
    loaded = SnapshotStore(settings.state_dir).load(outcome.snapshot_id)
    assert len(loaded.users) == 400 == outcome.figures.users
    assert orjson.loads(out.read_bytes()) == oracle(loaded)


def test_mapping_issues_are_bounded_per_kind(tmp_path: Path) -> None:
    """1,005 over-long names: 1,000 listed and one count, as discovery's own issues."""
    users = [
        User(id=f"u{i:04d}", display_name="x" * 4097, user_name="x" * 4097) for i in range(1005)
    ]
    result = DiscoveryResult(Company("c", "https://us.api.concursolutions.com"), users, {})
    _, issues = _from_store(result, tmp_path)
    cut = [i for i in issues if i.kind is IssueKind.TRUNCATED_STRING]
    assert len(cut) == 1001 and cut[-1].subject == "*"
    assert cut[-1].detail == "5 more truncated_string issues not listed"


def test_a_discovery_that_fails_at_a_page_leaves_nothing(tmp_path: Path) -> None:
    concur = in_process(SimulatorConfig(users=450, seed=2, fail_page=("spend", 3)))
    settings, secrets = client_for(concur.sim, tmp_path / "state")
    out = tmp_path / "payload.json"
    with pytest.raises(IncompleteDiscovery):
        run_sync(
            settings,
            secrets,
            SyncOptions(save_json=out, push=False),
            runtime=FakeTime().runtime(concur.transport),
        )
    assert not out.exists() and SnapshotStore(settings.state_dir).list() == []
    assert not (settings.state_dir / FILE_NAME).exists()  # the first run: no store left


def test_a_later_failing_discovery_leaves_only_the_earlier_snapshot(tmp_path: Path) -> None:
    state = tmp_path / "state"
    good = in_process(SimulatorConfig(users=100, seed=2))
    settings, secrets = client_for(good.sim, state)
    first = run_sync(
        settings, secrets, SyncOptions(push=False), runtime=FakeTime().runtime(good.transport)
    )
    bad = in_process(SimulatorConfig(users=450, seed=2, fail_page=("identity", 1)))
    settings, secrets = client_for(bad.sim, state)
    with pytest.raises(IncompleteDiscovery):
        run_sync(
            settings, secrets, SyncOptions(push=False), runtime=FakeTime().runtime(bad.transport)
        )
    assert [s.id for s in SnapshotStore(state).list()] == [first.snapshot_id]
    with sqlite3.connect(state / FILE_NAME) as db:
        for table in CHILD_TABLES:
            count = db.execute(
                f"SELECT count(*) FROM {table} WHERE snapshot_id != ?", (first.snapshot_id,)
            ).fetchone()[0]
            assert count == 0, table
        assert db.execute("SELECT count(*) FROM snapshots").fetchone()[0] == 1


def test_dry_run_records_nothing(tmp_path: Path) -> None:
    concur = in_process(SimulatorConfig(users=50, seed=1))
    settings, secrets = client_for(concur.sim, tmp_path / "state")
    options = SyncOptions(save_json=tmp_path / "p.json", push=False, temporary_store=True)
    outcome = run_sync(settings, secrets, options, runtime=FakeTime().runtime(concur.transport))
    assert not outcome.recorded and outcome.figures.users == 50
    assert SnapshotStore(settings.state_dir).list() == []
    assert (tmp_path / "p.json").exists()
