"""Report benchmark (issues 12 and 14): ``oaa-concur report`` over a large snapshot.

For each tenant size it starts the simulator (seed 7) in its own process, records a snapshot
with ``oaa-concur discover --no-push`` (``bench/discover.py``'s helpers), then runs
``oaa-concur report`` once per format in its own process and prints wall time, peak RSS (the
report process's own max RSS, read with ``os.wait4``) and the file's size. The report streams
from the store, so its memory should not grow with the tenant.

Usage::

    .venv/bin/python bench/report.py                        # 100,000 users, every format
    .venv/bin/python bench/report.py --users 10000 1000000 --formats html csv
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import ModuleType

HERE = Path(__file__).resolve().parent
CLI = [sys.executable, "-m", "oaa_concur"]
FORMATS = ("html", "csv", "xlsx", "json")


def _discover_bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_discover", HERE / "discover.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def snapshot(users: int, workdir: Path) -> tuple[Path, float, float]:
    """A state directory holding one snapshot of ``users`` simulated users; discover's wall
    seconds and peak RSS MiB."""
    bench = _discover_bench()
    proc, sim_env = bench.start_simulator(users, 0, workdir)
    before = set(workdir.iterdir())
    try:
        seconds, _, rss = bench.run_discover(sim_env, 8, workdir)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    states = [p for p in set(workdir.iterdir()) - before if (p / "snapshots.sqlite").exists()]
    return states[0], seconds, rss


def report(state: Path, fmt: str, out: Path, extra: list[str]) -> tuple[float, float, int]:
    """One ``oaa-concur report``: wall seconds, peak RSS MiB, output bytes."""
    args = [*CLI, "report", "--format", fmt, "--out", str(out), "--state-dir", str(state), *extra]
    started = time.monotonic()
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.monotonic() - started
    if os.waitstatus_to_exitcode(status) != 0:
        assert proc.stderr is not None
        raise SystemExit(f"report failed: {proc.stderr.read().decode()[-2000:]}")
    return seconds, usage.ru_maxrss / 1024, out.stat().st_size


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--users", type=int, nargs="+", default=[100_000])
    parser.add_argument("--formats", nargs="+", choices=FORMATS, default=list(FORMATS))
    args = parser.parse_args(argv)
    print("| users | step | wall s | peak RSS MiB | output MB |")
    print("|---:|---|---:|---:|---:|")
    for users in args.users:
        with tempfile.TemporaryDirectory(prefix="oaa-concur-bench-report-") as tmp:
            workdir = Path(tmp)
            state, seconds, rss = snapshot(users, workdir)
            db = (state / "snapshots.sqlite").stat().st_size / 1e6
            print(
                f"| {users:,} | discover --no-push | {seconds:.1f} | {rss:.0f} | {db:.0f} (store) |"
            )
            for fmt in args.formats:
                extra = ["--table", "grants"] if fmt == "csv" else []
                seconds, rss, size = report(state, fmt, workdir / f"report.{fmt}", extra)
                step = f"report --format {fmt}"
                print(f"| {users:,} | {step} | {seconds:.1f} | {rss:.0f} | {size / 1e6:.1f} |")
                sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
