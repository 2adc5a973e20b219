"""Veza faults through ``oaa-concur discover``: 5xx (retried, then exit 1), 4xx with details
(not retried, the details in the sentence), and a Veza that never answers (timeout, bounded)."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from oaa_concur.oaa.probe import PROBE_POLICY
from oaa_concur.review.snapshot import SnapshotStore
from oaa_concur.simulator import SimulatorConfig, running_simulator
from tests.fakes.clock import FakeTime, full_backoff
from tests.fakes.outcomes import last_line
from tests.fakes.veza import FakeVeza
from tests.support.cli import run_cli, sim_env

ATTEMPTS = 5  # oaa.push's default policy
BACKOFF = [1.0, 2.0, 4.0, 8.0]  # its un-jittered backoff


@pytest.fixture
def time() -> FakeTime:
    return FakeTime(rand=full_backoff)


def _discover(
    state: Path, veza: FakeVeza, time: FakeTime, *args: str, env: dict[str, str] | None = None
) -> tuple[int, str]:
    with running_simulator(SimulatorConfig(users=40, seed=3)) as sim:
        full_env = {**sim_env(sim, state, veza), **(env or {})}
        result = run_cli(["discover", *args], full_env, time.runtime())
    assert veza.api_key not in result.output and sim.refresh_token not in result.output
    return result.exit_code, last_line(result.stderr) if result.exit_code else result.stdout


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_veza_5xx_is_retried_then_pushed(
    state: Path, fake_veza: FakeVeza, time: FakeTime, status: int
) -> None:
    fake_veza.fail_next(2, status)
    code, out = _discover(state, fake_veza, time)
    assert code == 0 and "pushed to Veza" in out
    assert len(fake_veza.pushes) == 1 and time.slept_sync == BACKOFF[:2]
    [snapshot] = SnapshotStore(state).list()
    assert snapshot.pushed_at is not None


def test_veza_5xx_every_time_exits_1_and_the_snapshot_is_not_marked_pushed(
    state: Path, fake_veza: FakeVeza, time: FakeTime
) -> None:
    fake_veza.fail_next(100, 503)
    code, last = _discover(state, fake_veza, time)
    assert code == 1
    assert last == (
        f"error: Veza failed the push with HTTP 503 after {ATTEMPTS} attempts: "
        "try again later; if it persists, contact Veza support"
    )
    assert fake_veza.pushes == [] and time.slept_sync == BACKOFF
    [snapshot] = SnapshotStore(state).list()
    assert snapshot.pushed_at is None  # not a baseline for the next run's shrink guard


def test_veza_4xx_with_details_is_not_retried_and_names_them(
    state: Path, fake_veza: FakeVeza, time: FakeTime
) -> None:
    fake_veza.fail_next(
        1,
        400,
        message="invalid payload",
        details=[{"message": "local_users[3].custom_properties.start_date: invalid timestamp"}],
    )
    code, last = _discover(state, fake_veza, time)
    assert code == 1 and last.startswith("error: Veza rejected the push (HTTP 400): ")
    assert "invalid payload" in last and "start_date: invalid timestamp" in last
    assert fake_veza.pushes == [] and time.slept_sync == []


@pytest.fixture
def silent_veza() -> Iterator[str]:
    """A TCP listener that accepts connections (kernel backlog) and never answers."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(64)
        yield f"https://127.0.0.1:{sock.getsockname()[1]}"


def test_veza_not_answering_times_out_and_fails_in_bounded_time(
    tmp_path: Path, state: Path, fake_veza: FakeVeza, time: FakeTime, silent_veza: str
) -> None:
    """``timeout_s`` (here 0.2 s from the config file) bounds every Veza request too; the
    preflight's connection test (``oaa.probe.PROBE_POLICY``: two attempts) meets the silent
    Veza before the first Concur request, so nothing is discovered or recorded (issue 15)."""
    config = tmp_path / "oaa-concur.toml"
    config.write_text("timeout_s = 0.2\n", encoding="utf-8")
    code, last = _discover(
        state, fake_veza, time, "--config", str(config), env={"VEZA_URL": silent_veza}
    )
    assert code == 1
    attempts = PROBE_POLICY.max_attempts
    assert last == (
        f"error: cannot reach Veza at {silent_veza} after {attempts} attempts: "
        "check VEZA_URL and the network/proxy"
    )
    assert time.slept_sync == BACKOFF[: attempts - 1] and fake_veza.requests == []
    assert SnapshotStore(state).list() == []
