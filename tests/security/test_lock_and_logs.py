"""The run lock stops a second discover before it refreshes; log records are redacted for every
handler, not only ours (pytest's caplog, an embedding application's own handler)."""

from __future__ import annotations

import fcntl
import logging
import os
from pathlib import Path

import pytest

from oaa_concur import redact
from oaa_concur.cli.logs import setup_logging
from oaa_concur.simulator import SimulatorConfig, running_simulator
from tests.support.cli import run_cli, sim_env


def test_second_discover_is_stopped_by_the_lock_before_any_refresh(tmp_path: Path) -> None:
    state = tmp_path / "state"
    state.mkdir(mode=0o700)
    fd = os.open(state / "oaa-concur.lock", os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # "the first run" holds the lock
    config = SimulatorConfig(users=5, seed=2, rotate_refresh_tokens=True)
    try:
        with running_simulator(config) as sim:
            result = run_cli(["discover", "--no-push"], sim_env(sim, state))
            refreshes = sim.state.tokens.refreshes
    finally:
        os.close(fd)
    assert result.exit_code == 3, result.output  # ExitCode.LOCKED
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("error: another oaa-concur run holds the lock")
    assert "wait for it to finish" in last and "stale" not in last
    assert refreshes == 0  # it did not race the first run's token refresh
    assert not (state / "credentials.json").exists()
    assert not (state / "snapshots.sqlite").exists()


@pytest.mark.parametrize(
    "logger",
    [
        "httpx",
        "httpcore.http11",
        "oaaclient.client",
        "urllib3.connectionpool",
        "oaa_concur.concur.auth",
    ],
)
def test_every_handler_sees_redacted_records(logger: str, caplog: pytest.LogCaptureFixture) -> None:
    secret = "tok-for-every-handler-8c1f2a"
    seen: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            seen.append(self.format(record))

    own = Collect()
    logging.getLogger().addHandler(own)  # added BEFORE setup_logging's handler, like caplog
    try:
        caplog.set_level(logging.DEBUG)
        setup_logging(verbosity=2)
        redact.register(secret)
        log = logging.getLogger(logger)
        log.debug("sending refresh_token=%s", secret)
        try:
            raise RuntimeError(f"failed with {secret}")
        except RuntimeError:
            log.exception("request failed")
    finally:
        logging.getLogger().removeHandler(own)
    assert len(seen) == 2 and all(secret not in line for line in seen)
    assert secret not in caplog.text
    assert "[REDACTED]" in caplog.text
