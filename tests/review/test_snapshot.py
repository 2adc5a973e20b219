"""The snapshot store: round trip, listing, retention, migrations, broken files."""

from __future__ import annotations

import dataclasses
import sqlite3
import stat
from pathlib import Path

import pytest

from oaa_concur.errors import ConfigError
from oaa_concur.models import Company, DiscoveryResult
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
    assert (infos[0].user_count, infos[0].grant_count, infos[0].issue_count) == (13, 17, 2)
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


def test_migrates_a_version_1_store(tmp_path: Path) -> None:
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
        for table, table_rows in rows.items():
            for row in table_rows:
                db.execute(
                    f"INSERT INTO {table} VALUES ({', '.join('?' * (len(row) + 1))})", (1, *row)
                )
    store = SnapshotStore(tmp_path)
    info = store.list()[0]
    assert (info.grant_count, info.issue_count, info.pushed_at) == (17, 2, None)  # backfilled
    assert store.load(1) == dataclasses.replace(tenant(), stats=None)
    with sqlite3.connect(path) as db:
        versions = [r[0] for r in db.execute("SELECT version FROM schema_version ORDER BY 1")]
    assert versions == list(range(1, SCHEMA_VERSION + 1))


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
