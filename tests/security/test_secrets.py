"""No secret anywhere: verbose runs with push, then every output, log record and file is searched.

The simulator rotates the refresh token on every refresh and its clock runs fast, so access
tokens expire mid-run (401 -> refresh -> resend): several refresh, access and id tokens are
issued, and ``TokenService.issued`` keeps every one of them, rotated-away ones included.
"""

from __future__ import annotations

import itertools
import logging
import stat
import time
from collections.abc import Callable
from pathlib import Path

import orjson
import pytest
from click.testing import Result

from oaa_concur.simulator import SimulatorConfig, running_simulator
from tests.fakes.veza import FakeVeza
from tests.support.cli import run_cli, sim_env

LOGGERS = ("", "oaa_concur", "httpx", "httpcore", "oaaclient", "urllib3", "asyncio")


def fast_clock(step: float = 1.0) -> Callable[[], float]:
    """Simulator time that moves ``step`` seconds each time it is read (thread-safe enough:
    ``next`` on itertools.count is atomic under the GIL)."""
    start, ticks = time.time(), itertools.count()
    return lambda: start + step * next(ticks)


def _runs(tmp_path: Path) -> list[list[str]]:
    out = tmp_path / "out"
    return [
        ["discover", "-vv", "--concurrency", "1", "--save-json", str(out / "payload-text.json")],
        [
            "discover",
            "-vv",
            "--concurrency",
            "1",
            "--log-format",
            "json",
            "--save-json",
            str(out / "payload-json.json"),
        ],
        ["auth", "check", "-vv"],
        ["report", "-vv", "--format", "html", "--out", str(out / "report.html")],
        ["report", "-vv", "--format", "csv", "--out", str(out / "report.csv")],
        ["report", "-vv", "--format", "json", "--out", str(out / "report.json")],
        ["report", "--format", "json", "--out", "-"],  # to stdout
        ["snapshots", "-vv"],
        ["diff", "-vv"],
    ]


def _found(secrets: dict[str, str], text: str | bytes, where: str) -> list[str]:
    data = text.encode() if isinstance(text, str) else text
    return [f"{label} in {where}" for label, value in secrets.items() if value.encode() in data]


def test_no_secret_in_any_output_log_or_file(
    tmp_path: Path, fake_veza: FakeVeza, caplog: pytest.LogCaptureFixture
) -> None:
    for name in LOGGERS:
        caplog.set_level(logging.DEBUG, logger=name)
    state = tmp_path / "state"
    config = SimulatorConfig(
        users=650,
        seed=9,
        rotate_refresh_tokens=True,
        access_token_ttl=3,
        # 0.4 s per clock read: a token lives ~7 reads, so each run needs
        # a 401-driven refresh, yet a refreshed token outlives its resend
        # even when the two streams interleave (1.0 s was flaky under load)
        clock=fast_clock(step=0.4),
    )
    results: list[tuple[list[str], Result]] = []
    with running_simulator(config) as sim:
        env = sim_env(sim, state, fake_veza)
        for args in _runs(tmp_path):
            results.append((args, run_cli(args, env)))
        issued = list(sim.state.tokens.issued)
        refreshes = sim.state.tokens.refreshes
    for args, result in results:
        assert result.exit_code == 0, (args, result.output)
    assert len(fake_veza.pushes) == 2
    assert refreshes >= 5, refreshes  # 3 runs + at least two 401-driven refreshes
    secrets = {f"token #{i}": t for i, t in enumerate(issued)}
    secrets |= {"client secret": sim.client_secret, "Veza API key": fake_veza.api_key}
    assert len(secrets) >= 2 * refreshes + 2

    leaks: list[str] = []
    for args, result in results:
        leaks += _found(secrets, result.stdout, f"stdout of {args[0]}")
        leaks += _found(secrets, result.stderr, f"stderr of {args[0]}")
    leaks += _found(secrets, caplog.text, "captured log text")
    for record in caplog.records:
        leaks += _found(secrets, record.getMessage(), f"log record {record.name}")
        leaks += _found(secrets, record.exc_text or "", f"log traceback {record.name}")
    for push in fake_veza.pushes:
        leaks += _found(secrets, orjson.dumps(push["body"]), "the body pushed to Veza")

    current = orjson.loads((state / "credentials.json").read_bytes())["refresh_token"]
    files = sorted(p for p in tmp_path.rglob("*") if p.is_file())
    assert {p.name for p in files} >= {
        "credentials.json",
        "snapshots.sqlite",
        "payload-text.json",
        "report.html",
        "report.csv",
    }
    for path in files:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path  # secrets or personal data
        data = path.read_bytes()
        if path.name in ("credentials.json", "credentials.json.bak"):
            # The one legitimate home of the CURRENT refresh token, and of nothing else.
            assert current.encode() in data
            leaks += _found({k: v for k, v in secrets.items() if v != current}, data, path.name)
        else:
            leaks += _found(secrets, data, str(path.relative_to(tmp_path)))
    assert not leaks, leaks
