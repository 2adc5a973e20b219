"""Discovery benchmark: the real CLI against the simulator in its own process (issues #6, #13).

For each case (tenant size, server time, client concurrency) it starts ``oaa-concur simulator``
(concurrency limit 8, as Concur-like back pressure), runs ``oaa-concur discover --no-push``
against it in a fresh state directory, and prints a table: requests made against the minimum
and the allowance, wall time, the latency bound and the ratio of the time latency added (over
the zero-latency run of the same size and concurrency) to that bound, users per second, and
the connector's peak memory (its own max RSS, read with ``os.wait4`` so the simulator's memory
is not counted).

Two models of Concur's server time:

* flat (``--latency-ms L``): every request costs L. Bound ``max(ceil(N/1000) x L,
  SpendPages x L / 8)``: the single Identity chain, or the Spend pages eight at a time.
* per record (``--per-record-ms R``, issue 13): a page costs R per record it returns (a
  1,000-user page 1,000 R, a 100-record page 100 R). Bound: the work-conserving
  ``(sum of all pages' server time) / 8``, where the pages are the minimum a run needs (every
  Identity user once, every Spend record once; the seeded tenant says how many).

Allowance: the design's request target, ``1.05 x (ceil(N/1000) + ceil(N/100))`` plus one per
Identity partition and one count request (the partitions a run used are read from its log).

Usage::

    .venv/bin/python bench/discover.py                 # the flat grid and the per-record rows
    .venv/bin/python bench/discover.py --users 10000 --latency-ms 0 50 --per-record-users
    .venv/bin/python bench/discover.py --users --per-record-users 20000 --per-record-ms 0.5
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from oaa_concur.simulator.tenant import Tenant

HERE = Path(__file__).resolve().parent
CLI = [sys.executable, "-m", "oaa_concur"]
SIM_CONCURRENCY_LIMIT = 8
SEED = 7


@dataclass(frozen=True)
class Case:
    users: int
    latency_ms: float
    per_record_ms: float
    concurrency: int

    @property
    def zero(self) -> Case:
        return Case(self.users, 0, 0, self.concurrency)


@dataclass
class Run:
    case: Case
    seconds: float
    requests: int
    token_requests: int
    identity_pages: int
    spend_pages: int
    partitions: int
    peak_rss_mib: float

    @property
    def minimum_requests(self) -> int:
        return math.ceil(self.case.users / 1000) + math.ceil(self.case.users / 100)

    @property
    def allowed_requests(self) -> float:
        return 1.05 * self.minimum_requests + self.partitions + 1


def start_simulator(case: Case, workdir: Path) -> tuple[subprocess.Popen[bytes], dict[str, str]]:
    """Start the simulator in its own process; return it and the env lines it wrote."""
    # A fresh file per simulator: an old one would be read before the new server listens.
    env_file = Path(tempfile.mkdtemp(dir=workdir)) / "sim.env"
    args = [
        *CLI,
        "simulator",
        "--port",
        "0",
        "--users",
        str(case.users),
        "--seed",
        str(SEED),
        "--latency-ms",
        str(case.latency_ms),
        "--latency-per-record-ms",
        str(case.per_record_ms),
        "--concurrency-limit",
        str(SIM_CONCURRENCY_LIMIT),
        "--env-file",
        str(env_file),
    ]
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while not env_file.exists() or not env_file.read_text().strip():
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise SystemExit("the simulator did not start")
        time.sleep(0.05)
    values = dict(line.split("=", 1) for line in env_file.read_text().split() if "=" in line)
    return proc, values


def run_discover(
    sim_env: dict[str, str], concurrency: int, workdir: Path
) -> tuple[float, list[dict[str, object]], float]:
    """Run ``discover --no-push`` once; return wall seconds, its JSON log lines, peak RSS MiB."""
    state = Path(tempfile.mkdtemp(dir=workdir))
    env = {**os.environ, **sim_env, "OAA_CONCUR_STATE_DIR": str(state)}
    args = [
        *CLI,
        "discover",
        "--no-push",
        "--log-format",
        "json",
        "--concurrency",
        str(concurrency),
    ]
    log = state / "discover.log"
    started = time.monotonic()
    with log.open("wb") as err:
        proc = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=err)
        # wait4 reaps this child alone, so ru_maxrss is the connector's, not the simulator's
        _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.monotonic() - started
    stderr = log.read_text(encoding="utf-8", errors="replace")
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"discover failed: {stderr[-2000:]}")
    return seconds, _entries(stderr), usage.ru_maxrss / 1024


def _entries(stderr: str) -> list[dict[str, object]]:
    found = []
    for line in stderr.splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if isinstance(entry, dict):
            found.append(entry)
    return found


def _field(entries: list[dict[str, object]], message: str | None, key: str) -> int:
    """``key`` of the last entry with ``message`` (any message when None) that has it."""
    for entry in reversed(entries):
        value = entry.get(key)
        if (message is None or entry.get("message") == message) and isinstance(value, int):
            return value
    return 0


def measure(case: Case, workdir: Path) -> Run:
    proc, sim_env = start_simulator(case, workdir)
    try:
        seconds, entries, rss = run_discover(sim_env, case.concurrency, workdir)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    if not any(e.get("message") == "run complete" for e in entries):
        raise SystemExit("discover printed no 'run complete' line")
    done = "run complete"
    return Run(
        case=case,
        seconds=seconds,
        requests=_field(entries, done, "requests"),
        token_requests=_field(entries, done, "token_requests"),
        identity_pages=_field(entries, done, "identity_pages"),
        spend_pages=_field(entries, done, "spend_pages"),
        partitions=_field(entries, None, "identity_partitions"),
        peak_rss_mib=rss,
    )


def latency_bound(run: Run, spend_records: int) -> float:
    """The bound of the module docstring for the run's case (seconds)."""
    case = run.case
    flat, per_record = case.latency_ms / 1000, case.per_record_ms / 1000
    identity_pages = math.ceil(case.users / 1000)
    if per_record == 0:
        return max(identity_pages * flat, run.spend_pages * flat / SIM_CONCURRENCY_LIMIT)
    pages = identity_pages + math.ceil(spend_records / 100)
    work = (case.users + spend_records) * per_record + pages * flat
    return work / SIM_CONCURRENCY_LIMIT


def print_table(runs: list[Run]) -> None:
    base = {r.case: r.seconds for r in runs if r.case == r.case.zero}
    spend = {n: Tenant(n, SEED).spend_total for n in {r.case.users for r in runs}}
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}, {platform.platform()}, load {os.getloadavg()[0]:.2f}"
    )
    head = (
        "users",
        "lat ms",
        "rec ms",
        "conc",
        "requests",
        "min",
        "allowed",
        "parts",
        "wall s",
        "bound s",
        "added/bound",
        "users/s",
        "peak MiB",
    )
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for r in runs:
        print("| " + " | ".join(_cells(r, base.get(r.case.zero), spend[r.case.users])) + " |")


def _cells(r: Run, zero: float | None, spend_records: int) -> list[str]:
    bound = latency_bound(r, spend_records)
    ratio = (r.seconds - zero) / bound if bound and zero is not None else float("nan")
    idle = r.case == r.case.zero
    return [
        str(r.case.users),
        f"{r.case.latency_ms:g}",
        f"{r.case.per_record_ms:g}",
        str(r.case.concurrency),
        f"{r.requests} ({r.token_requests} token)",
        str(r.minimum_requests),
        f"{r.allowed_requests:.0f}",
        str(r.partitions),
        f"{r.seconds:.2f}",
        f"{bound:.2f}",
        f"{ratio:.2f}",
        f"{r.case.users / r.seconds:,.0f}" if idle else "nan",
        f"{r.peak_rss_mib:.0f}",
    ]


def cases(args: argparse.Namespace) -> list[Case]:
    """The flat grid, the per-record rows, and the zero-latency run each of them needs."""
    wanted = [
        Case(n, lat, 0, conc)
        for n in args.users
        for lat in sorted(args.latency_ms)
        for conc in args.concurrency
    ]
    wanted += [
        Case(n, 0, rec, args.per_record_concurrency)
        for n in args.per_record_users
        for rec in args.per_record_ms
    ]
    ordered: list[Case] = []
    for case in wanted:
        for needed in (case.zero, case):
            if needed not in ordered:
                ordered.append(needed)
    return sorted(
        ordered, key=lambda c: (c.users, c.concurrency != 8, c.latency_ms, c.per_record_ms)
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, nargs="*", default=[10_000, 100_000])
    parser.add_argument("--latency-ms", type=float, nargs="+", default=[0, 50])
    parser.add_argument("--concurrency", type=int, nargs="+", default=[8, 1])
    parser.add_argument("--per-record-users", type=int, nargs="*", default=[20_000, 100_000])
    parser.add_argument("--per-record-ms", type=float, nargs="+", default=[0.5])
    parser.add_argument("--per-record-concurrency", type=int, default=8)
    args = parser.parse_args()
    runs: list[Run] = []
    with tempfile.TemporaryDirectory(prefix="oaa-concur-bench-") as tmp:
        for case in cases(args):
            run = measure(case, Path(tmp))
            print(f"  {case}: {run.seconds:.2f} s", file=sys.stderr)
            runs.append(run)
    print_table(runs)


if __name__ == "__main__":
    main()
