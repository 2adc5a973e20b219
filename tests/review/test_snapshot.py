"""The snapshot store: round trip, listing, retention, migrations, broken files."""

from __future__ import annotations

import dataclasses
import sqlite3
import stat
from pathlib import Path

import pytest

from oaa_concur.errors import ConfigError
from oaa_concur.models import Company, Deprecation, DiscoveryResult
from oaa_concur.review.rows import result_rows
from oaa_concur.review.snapshot import FILE_NAME, SCHEMA_VERSION, SnapshotStore, migrate_to
from tests.review.tenant import NOW, tenant


def _smaller(result: DiscoveryResult, n: int) -> DiscoveryResult:
    users = result.users[:n]
    spend = {k: v for k, v in result.spend.items() if k in {u.id for u in users}}
    return dataclasses.replace(result, users=users, spend=spend, stats=None)


def test_round_trip_keeps_every_field(tmp_path: Path) -> None:
    store = SnapshotStore(tmp_path / "state")
    original = tenant()
    snap_id = store.record(original)
    loaded = store.load(snap_id)
    assert loaded == original
    assert [u.id for u in loaded.users] == [u.id for u in original.users]
    assert (
        loaded.spend["u-alice"].delegates[1].temporary_to
        == original.spend["u-alice"].delegates[1].temporary_to
    )
    assert stat.S_IMODE((tmp_path / "state" / FILE_NAME).stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "state").stat().st_mode) == 0o700


def test_empty_store(tmp_path: Path) -> None:
    store = SnapshotStore(tmp_path)
    assert store.list() == [] and store.latest_id() is None
    assert store.last_pushed_user_count("any-company") is None
    assert not (tmp_path / FILE_NAME).exists()  # reading never creates the file
    with pytest.raises(ConfigError, match="no snapshot 7"):
        store.load(7)


def test_listing_previous_and_counts(tmp_path: Path) -> None:
    store = SnapshotStore(tmp_path)
    first = store.record(tenant())
    second = store.record(_smaller(tenant(), 5))
    infos = store.list()
    assert [i.id for i in infos] == [first, second]
    assert (infos[0].user_count, infos[0].grant_count, infos[0].issue_count) == (13, 17, 3)
    stats = tenant().stats
    assert stats is not None and infos[0].taken_at == stats.started_at
    assert infos[0].duration_s == 1.5
    assert infos[0].company_name == "Acme Test" and infos[1].duration_s is None
    assert store.latest_id() == second and store.previous(second) == first
    assert store.previous(first) is None
    assert store.info(second) == infos[1] and store.info(second).user_count == 5


def test_info_and_resolve_name_the_snapshot_or_say_what_to_do(tmp_path: Path) -> None:
    store = SnapshotStore(tmp_path / "state")
    with pytest.raises(ConfigError, match=r"No snapshot in .* yet: run `oaa-concur discover`"):
        store.resolve(None)
    with pytest.raises(ConfigError, match="no snapshot 1 in"):
        store.info(1)
    first = store.record(tenant())
    second = store.record(_smaller(tenant(), 4))
    assert store.resolve(None).id == second and store.resolve(first) == store.list()[0]
    with pytest.raises(ConfigError, match=r"no snapshot 9 in .*list them with `oaa-concur"):
        store.resolve(9)


def test_pushed_marks_the_shrink_baseline(tmp_path: Path) -> None:
    store = SnapshotStore(tmp_path)
    first = store.record(tenant())
    store.record(_smaller(tenant(), 3))
    company = tenant().company.id
    assert store.last_pushed_user_count(company) is None
    store.mark_pushed(first, NOW)
    assert store.last_pushed_user_count(company) == 13  # the unpushed newer one is not it
    assert store.last_pushed_user_count("another-company") is None  # baselines are per company
    assert store.list()[0].pushed_at == NOW
    with pytest.raises(ConfigError):
        store.mark_pushed(99)


def test_retention_keeps_the_newest(tmp_path: Path) -> None:
    store = SnapshotStore(tmp_path, retention=2)
    ids = [store.record(_smaller(tenant(), n)) for n in (13, 12, 11, 10)]
    assert [i.id for i in store.list()] == ids[2:]
    assert store.load(ids[3]).users == tenant().users[:10]
    with sqlite3.connect(tmp_path / FILE_NAME) as db:
        assert db.execute("SELECT count(DISTINCT snapshot_id) FROM grants").fetchone() == (2,)
    assert SnapshotStore(tmp_path).prune(1) == 1
    with pytest.raises(ConfigError):
        store.prune(0)


# Columns (after snapshot_id) each table had in schema version 1; later ones came by ALTER.
V1_COLUMNS = {"users": 17, "profiles": 3, "grants": 3, "approvers": 4, "delegates": 6, "issues": 3}


def _as_version_1(result: DiscoveryResult) -> DiscoveryResult:
    """What a version-1 snapshot of ``result`` gives back: no field of a later schema."""
    spend = {
        uid: dataclasses.replace(
            p,
            approvers=tuple(
                dataclasses.replace(a, approver_employee_number=None) for a in p.approvers
            ),
            delegates=tuple(
                dataclasses.replace(d, delegate_employee_number=None) for d in p.delegates
            ),
            bi_manager_id=None,
            bi_manager_employee_number=None,
            processor_report_access=None,
            approval_limits=(),
        )
        for uid, p in result.spend.items()
    }
    users = [dataclasses.replace(u, manager_employee_number=None) for u in result.users]
    return dataclasses.replace(result, users=users, spend=spend, stats=None, unknown_references=[])


def test_migrates_a_version_1_store(tmp_path: Path) -> None:
    """A store written by version 1 of the code (its tables, its columns) is migrated to the
    current schema and loads: every later field empty, nothing lost."""
    path = tmp_path / FILE_NAME
    migrate_to(path, 1)
    rows = result_rows(tenant())
    with sqlite3.connect(path) as db:  # what version 1 of the code wrote
        db.execute(
            "INSERT INTO snapshots (taken_at, company_id, company_name, geolocation,"
            " user_count, duration_s, stats) VALUES (?, ?, ?, ?, 13, NULL, NULL)",
            (
                NOW.isoformat(),
                "c0ffee00-0000-4000-8000-000000000001",
                "Acme Test",
                "https://us2.api.concursolutions.com",
            ),
        )
        for table, width in V1_COLUMNS.items():
            for row in rows[table]:
                values = (1, *row[:width])
                db.execute(f"INSERT INTO {table} VALUES ({', '.join('?' * len(values))})", values)
    store = SnapshotStore(tmp_path)
    info = store.list()[0]
    assert (info.grant_count, info.issue_count, info.pushed_at) == (17, 3, None)  # backfilled
    assert store.load(1) == _as_version_1(tenant())
    with sqlite3.connect(path) as db:
        versions = [r[0] for r in db.execute("SELECT version FROM schema_version ORDER BY 1")]
    assert versions == list(range(1, SCHEMA_VERSION + 1))


def test_issue_10_fields_round_trip(tmp_path: Path) -> None:
    """Schema 4: employee numbers of references, biManager, processorReportAccess, approval
    limits, unknown references and the run's deprecation notices come back as recorded."""
    original = tenant()
    assert original.stats is not None
    stats = dataclasses.replace(
        original.stats,
        deprecations=(Deprecation("GET /x", "/y", "2027-01-01", "'/x' is deprecated"),),
        limits_global_only=True,
    )
    original = dataclasses.replace(original, stats=stats)
    store = SnapshotStore(tmp_path)
    loaded = store.load(store.record(original))
    assert loaded == original
    alice = loaded.spend["u-alice"]
    assert alice.processor_report_access == "RESTRICTED" and alice.bi_manager_id == "u-judy"
    assert alice.approval_limits[1].limit == 250.5 and alice.approval_limits[1].exception_authority
    assert alice.delegates[2].delegate_employee_number == "E-FRANK"
    assert loaded.unknown_references[0].employee_number == "E404"
    assert SCHEMA_VERSION >= 4  # later schemas keep these columns


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    store = SnapshotStore(tmp_path)
    store.record(tenant())
    with sqlite3.connect(tmp_path / FILE_NAME) as db:
        db.execute("INSERT INTO schema_version VALUES (?)", (SCHEMA_VERSION + 1,))
    with pytest.raises(ConfigError, match="newer than this oaa-concur understands"):
        store.list()


def test_corrupted_file_is_one_sentence(tmp_path: Path) -> None:
    (tmp_path / FILE_NAME).write_bytes(b"this is not sqlite at all" * 100)
    with pytest.raises(ConfigError) as err:
        SnapshotStore(tmp_path).record(tenant())
    text = str(err.value)
    assert "cannot be read" in text and "move it aside" in text and "\n" not in text
    assert err.value.exit_code == 2


def test_minimal_result_round_trips(tmp_path: Path) -> None:
    bare = DiscoveryResult(
        company=Company("c1", "https://us.api.concursolutions.com"), users=[], spend={}
    )
    store = SnapshotStore(tmp_path)
    assert store.load(store.record(bare)) == bare
