"""Discovery benchmark: the real CLI against the simulator in its own process (issues 6, 12, 13).

For each tenant size and injected latency it starts ``oaa-concur simulator`` (concurrency
limit 8, as Concur-like back pressure), runs ``oaa-concur discover --no-push`` against it in a
fresh state directory, and prints a table: requests made against the minimum and the
allowance, wall time, the latency bound and the ratio of the time latency added (over the
zero-latency run of the same size and concurrency) to that bound, users per second, and the
connector's peak memory (its own max RSS, read with ``os.wait4`` so the simulator's memory is
not counted). ``--concurrency 1`` runs beside each as the sequential baseline.

Two models of Concur's server time (design.md §6):

* flat, ``--latency-ms L`` per request: bound ``max(ceil(N/1000) x L, SpendPages x L / 8)``,
  the single Identity chain or the Spend pages eight at a time;
* per record, ``--latency-per-record-ms R`` (issue 13: a 1,000-user page costs 1,000 R, a
  100-record page 100 R), the rows of ``--per-record-users``: the work-conserving bound
  ``(sum of all pages' server time) / 8`` over the pages a run needs at least (every
  Identity user once, every Spend record once, as the seeded tenant has them).

``allowed`` is the request target, ``1.05 x (ceil(N/1000) + ceil(N/100))`` plus one per
Identity partition (``partitions``, from the run's log) and one count request.

``--push`` runs end to end instead (issue 12): a fake Veza in its own process
(``python -m tests.fakes.veza``: TLS, the ``:parts`` protocol, parts spooled to disk, the
assembled payload checked as a stream, parse jobs) and ``oaa-concur discover`` with the push
and the parse-status wait; the table adds the payload's bytes, the parts pushed and the users
Veza counted in the payload.

Usage::

    .venv/bin/python bench/discover.py                     # the flat grid and per-record rows
    .venv/bin/python bench/discover.py --users 10000 --latency-ms 0 50 --per-record-users
    .venv/bin/python bench/discover.py --users --per-record-users 20000 100000
    .venv/bin/python bench/discover.py --push --users 100000 300000 1000000 --latency-ms 0 \
        --concurrency 8 --per-record-users
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
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

from oaa_concur.simulator.tenant import Tenant

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
CLI = [sys.executable, "-m", "oaa_concur"]
SIM_CONCURRENCY_LIMIT = 8
SEED = 7


@dataclass
class Run:
    users: int
    latency_ms: int
    concurrency: int
    seconds: float
    requests: int
    token_requests: int
    identity_pages: int
    spend_pages: int
    peak_rss_mib: float
    minimum_requests: int
    veza: dict[str, Any] = field(default_factory=dict)
    """The fake Veza's push summary (``--push``): bytes, parts, users it counted."""
    per_record_ms: float = 0.0
    partitions: int = 0
    """Identity partitions the run read (0: one cursor), from its log."""

    @property
    def allowed_requests(self) -> float:
        return 1.05 * self.minimum_requests + self.partitions + 1


def start_simulator(
    users: int, latency_ms: int, workdir: Path, per_record_ms: float = 0.0
) -> tuple[subprocess.Popen[bytes], dict[str, str]]:
    """Start the simulator in its own process; return it and the env lines it wrote."""
    # A fresh file per simulator: an old one would be read before the new server listens.
    env_file = Path(tempfile.mkdtemp(dir=workdir)) / "sim.env"
    proc = subprocess.Popen(
        [
            *CLI,
            "simulator",
            "--port",
            "0",
            "--users",
            str(users),
            "--seed",
            str(SEED),
            "--latency-ms",
            str(latency_ms),
            "--latency-per-record-ms",
            str(per_record_ms),
            "--concurrency-limit",
            str(SIM_CONCURRENCY_LIMIT),
            "--env-file",
            str(env_file),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120
    while not env_file.exists() or not env_file.read_text().strip():
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise SystemExit("the simulator did not start")
        time.sleep(0.05)
    values = dict(line.split("=", 1) for line in env_file.read_text().split() if "=" in line)
    return proc, values


@contextmanager
def fake_veza(workdir: Path) -> Iterator[dict[str, str]]:
    """A fake Veza in its own process; yields its url, CA file and API key."""
    info = Path(tempfile.mkdtemp(dir=workdir)) / "veza.json"
    spool = Path(tempfile.mkdtemp(dir=workdir))
    args = [sys.executable, "-m", "tests.fakes.veza", "--info", str(info), "--spool", str(spool)]
    proc = subprocess.Popen(args, cwd=ROOT, stdout=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while not info.exists():
            if proc.poll() is not None or time.monotonic() > deadline:
                raise SystemExit("the fake Veza did not start")
            time.sleep(0.05)
        yield json.loads(info.read_text())
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def veza_summary(veza: dict[str, str]) -> dict[str, Any]:
    answer = requests.get(
        f"{veza['url']}/_fake/summary",
        headers={"authorization": f"Bearer {veza['api_key']}"},
        verify=veza["ca"],
        timeout=30,
    )
    answer.raise_for_status()
    summary: dict[str, Any] = answer.json()
    return summary


def run_discover(
    sim_env: dict[str, str], concurrency: int, workdir: Path, veza: dict[str, str] | None = None
) -> tuple[float, dict[str, float], float]:
    """Run ``discover`` once (``--no-push`` without ``veza``); return wall seconds, the summary
    fields, peak RSS MiB."""
    state = Path(tempfile.mkdtemp(dir=workdir))
    env = {**os.environ, **sim_env, "OAA_CONCUR_STATE_DIR": str(state)}
    args = [*CLI, "discover", "--log-format", "json", "--concurrency", str(concurrency)]
    if veza is None:
        args.append("--no-push")
    else:
        env |= {
            "VEZA_URL": veza["url"],
            "VEZA_API_KEY": veza["api_key"],
            "REQUESTS_CA_BUNDLE": veza["ca"],
        }
    log = state / "discover.log"
    started = time.monotonic()
    with log.open("wb") as out:
        # the logs on stderr and the summary record on stdout, both JSON lines, in one file
        proc = subprocess.Popen(args, env=env, stdout=out, stderr=subprocess.STDOUT)
        # wait4 reaps this child alone, so ru_maxrss is the connector's, not the simulator's
        _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.monotonic() - started
    stderr = log.read_text(encoding="utf-8", errors="replace")
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"discover failed: {stderr[-2000:]}")
    fields = {**_summary_fields(stderr), "identity_partitions": _partitions(stderr)}
    return seconds, fields, usage.ru_maxrss / 1024


def _summary_fields(stderr: str) -> dict[str, float]:
    for line in reversed(stderr.splitlines()):
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if isinstance(entry, dict) and entry.get("message") == "run complete":
            return {k: v for k, v in entry.items() if isinstance(v, int | float)}
    raise SystemExit("discover printed no 'run complete' line")


def _partitions(stderr: str) -> int:
    """How many Identity partitions the run read: the ``identity_partitions`` of its log."""
    for line in stderr.splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if isinstance(entry, dict) and isinstance(entry.get("identity_partitions"), int):
            return int(entry["identity_partitions"])
    return 0


def measure(
    users: int,
    latency_ms: int,
    concurrency: int,
    workdir: Path,
    per_record_ms: float = 0.0,
    push: bool = False,
) -> Run:
    proc, sim_env = start_simulator(users, latency_ms, workdir, per_record_ms)
    summary: dict[str, Any] = {}
    try:
        if push:
            with fake_veza(workdir) as veza:
                seconds, fields, rss = run_discover(sim_env, concurrency, workdir, veza)
                summary = veza_summary(veza)
        else:
            seconds, fields, rss = run_discover(sim_env, concurrency, workdir)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    return Run(
        users=users,
        latency_ms=latency_ms,
        concurrency=concurrency,
        seconds=seconds,
        requests=int(fields.get("requests", 0)),
        token_requests=int(fields.get("token_requests", 0)),
        identity_pages=int(fields.get("identity_pages", 0)),
        spend_pages=int(fields.get("spend_pages", 0)),
        peak_rss_mib=rss,
        minimum_requests=math.ceil(users / 1000) + math.ceil(users / 100),
        veza=summary["pushes"][-1] if summary.get("pushes") else {},
        per_record_ms=per_record_ms,
        partitions=int(fields.get("identity_partitions", 0)),
    )


def latency_bound(run: Run) -> float:
    """The module docstring's bound: flat, from the single chain's ``ceil(N/1000)`` pages
    (partitions do not lower it); per record, from the records the run needs at least."""
    lat, per_record = run.latency_ms / 1000, run.per_record_ms / 1000
    identity_pages = math.ceil(run.users / 1000)
    if per_record == 0:
        return max(identity_pages * lat, run.spend_pages * lat / SIM_CONCURRENCY_LIMIT)
    spend_records = Tenant(run.users, SEED).spend_total
    pages = identity_pages + math.ceil(spend_records / 100)
    work = (run.users + spend_records) * per_record + pages * lat
    return work / SIM_CONCURRENCY_LIMIT


def print_table(runs: list[Run]) -> None:
    base = {
        (r.users, r.concurrency): r.seconds for r in runs if r.latency_ms == r.per_record_ms == 0
    }
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
        "partitions",
        "over %",
        "wall s",
        "bound s",
        "added/bound",
        "users/s",
        "peak MiB",
        "payload MB",
        "parts",
        "Veza users",
    )
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for r in runs:
        api_requests = r.requests - r.token_requests
        over = 100 * (api_requests - r.minimum_requests) / r.minimum_requests
        bound = latency_bound(r)
        zero = base.get((r.users, r.concurrency))
        ratio = (r.seconds - zero) / bound if bound and zero is not None else float("nan")
        idle = r.latency_ms == r.per_record_ms == 0
        rate = r.users / r.seconds if idle else float("nan")
        cells = (
            r.users,
            r.latency_ms,
            f"{r.per_record_ms:g}",
            r.concurrency,
            f"{r.requests} ({r.token_requests} token)",
            r.minimum_requests,
            f"{r.allowed_requests:.0f}",
            r.partitions,
            f"{over:+.1f}",
            f"{r.seconds:.2f}",
            f"{bound:.2f}",
            f"{ratio:.2f}",
            f"{rate:,.0f}",
            f"{r.peak_rss_mib:.0f}",
            f"{r.veza['bytes'] / 1e6:,.0f}" if r.veza else "-",
            r.veza.get("parts", "-"),
            r.veza.get("users", "-"),
        )
        print("| " + " | ".join(str(c) for c in cells) + " |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, nargs="*", default=[10_000, 100_000])
    parser.add_argument("--latency-ms", type=int, nargs="+", default=[0, 50])
    parser.add_argument("--concurrency", type=int, nargs="+", default=[8, 1])
    parser.add_argument("--per-record-users", type=int, nargs="*", default=[20_000, 100_000])
    parser.add_argument("--latency-per-record-ms", type=float, nargs="+", default=[0.5])
    parser.add_argument(
        "--push", action="store_true", help="end to end: push to a fake Veza and wait for it"
    )
    args = parser.parse_args()
    runs: list[Run] = []
    with tempfile.TemporaryDirectory(prefix="oaa-concur-bench-") as tmp:
        for users, latency, conc, per_record in cases(args):
            run = measure(users, latency, conc, Path(tmp), per_record, args.push)
            print(
                f"  {users} users, {latency} ms + {per_record:g} ms/record, concurrency {conc}: "
                f"{run.seconds:.2f} s",
                file=sys.stderr,
            )
            runs.append(run)
    print_table(runs)


def cases(args: argparse.Namespace) -> list[tuple[int, int, int, float]]:
    """(users, latency ms, concurrency, ms per record): the flat grid, then the per-record
    rows at concurrency 8 with the zero-latency run each needs (if the grid has none)."""
    found = [
        (users, latency, conc, 0.0)
        for users in args.users
        for latency in sorted(args.latency_ms)
        for conc in args.concurrency
    ]
    for users in args.per_record_users:
        wanted = [(users, 0, 8, 0.0)] + [(users, 0, 8, r) for r in args.latency_per_record_ms]
        found += [case for case in wanted if case not in found]
    return found


if __name__ == "__main__":
    main()
