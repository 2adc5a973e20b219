"""Measure snapshot record/load, findings and report sizes on a generated tenant.

Run: ``.venv/bin/python -m tests.review.measure 100000`` (not a test: prints timings only).
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from oaa_concur.review.findings import find
from oaa_concur.review.report import build, render
from oaa_concur.review.rules import default_rules
from oaa_concur.review.snapshot import SnapshotStore
from oaa_concur.state.files import write_private
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
        t = time.perf_counter()
        findings = find(result, default_rules(), now=NOW)
        print(f"find: {time.perf_counter() - t:.2f} s, {len(findings)} findings")
        content = build(result, findings, now=NOW, rules=default_rules())
        for fmt in ("html", "csv", "json"):
            t = time.perf_counter()
            path = Path(tmp) / f"report.{fmt}"
            write_private(path, render(content, fmt))
            print(
                f"{fmt}: {time.perf_counter() - t:.2f} s, {path.stat().st_size / 1e6:.1f} MB, "
                f"{len(content.grants)} grants"
            )
            if fmt == "html" and len(sys.argv) > 2:
                Path(sys.argv[2]).write_bytes(path.read_bytes())


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000)
