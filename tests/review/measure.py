"""Measure snapshot record/load and report sizes on a generated tenant (bench/report.py
measures the report over a simulated one, with peak memory).

Run: ``.venv/bin/python -m tests.review.measure 100000`` (not a test: prints timings only).
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from oaa_concur.review.report import report_snapshot
from oaa_concur.review.rules import default_rules
from oaa_concur.review.snapshot import SnapshotStore
from tests.review.bigtenant import big_tenant
from tests.review.tenant import NOW


def main(n: int) -> None:
    result = big_tenant(n)
    with tempfile.TemporaryDirectory() as tmp:
        store = SnapshotStore(Path(tmp))
        t = time.perf_counter()
        snap = store.record(result)
        print(
            f"record {n} users: {time.perf_counter() - t:.2f} s, "
            f"file {(Path(tmp) / 'snapshots.sqlite').stat().st_size / 1e6:.1f} MB"
        )
        t = time.perf_counter()
        loaded = store.load(snap)
        print(f"load: {time.perf_counter() - t:.2f} s, equal: {loaded == result}")
        for fmt in ("html", "csv", "json"):
            t = time.perf_counter()
            path = Path(tmp) / f"report.{fmt}"
            outcome = report_snapshot(
                store, path, fmt, snapshot_id=snap, rules=default_rules(), now=NOW
            )
            print(
                f"{fmt}: {time.perf_counter() - t:.2f} s, {path.stat().st_size / 1e6:.1f} MB, "
                f"{outcome.summary}"
            )
            if fmt == "html" and len(sys.argv) > 2:
                Path(sys.argv[2]).write_bytes(path.read_bytes())


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000)
