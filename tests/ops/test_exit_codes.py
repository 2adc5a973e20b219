"""Each outcome a scheduler treats differently has its own exit code (errors.ExitCode, the
README's table), through the real CLI against the real simulator and the fake Veza; in JSON
mode the last stderr line is the error as a JSON record with that code and its outcome."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from oaa_concur.errors import ExitCode
from oaa_concur.review.snapshot import SnapshotStore
from oaa_concur.simulator import SimulatorConfig, running_simulator
from tests.fakes.clock import FakeTime
from tests.fakes.outcomes import last_line
from tests.fakes.veza import FakeVeza
from tests.ops.holder import lock_held_elsewhere
from tests.ops.lines import json_lines, last_error
from tests.support.cli import run_cli, sim_env

JSON = ["--log-format", "json"]


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_the_codes_are_distinct_and_leave_the_shell_codes_alone() -> None:
    codes = [int(code) for code in ExitCode]
    assert len(set(codes)) == len(codes)
    assert int(ExitCode.FAILED) == 1 and int(ExitCode.CONFIG) == 2  # kept from design.md §2.3
    assert not {126, 127, 128, 129} & set(codes)
    assert ExitCode.LOCKED.outcome == "locked" and int(ExitCode.INTERRUPTED) == 130


def test_another_run_holding_the_lock_is_exit_3_naming_its_pid(state: Path) -> None:
    config = SimulatorConfig(users=5, seed=2, rotate_refresh_tokens=True)
    with running_simulator(config) as sim, lock_held_elsewhere(state) as pid:
        env = sim_env(sim, state)
        text = run_cli(["discover", "--no-push"], env)
        logged = run_cli(["discover", "--no-push", *JSON], env)
        refreshes = sim.state.tokens.refreshes
    assert text.exit_code == int(ExitCode.LOCKED) == 3, text.output
    line = last_line(text.stderr)
    assert line.startswith("error: another oaa-concur run holds the lock ")
    assert f"(pid {pid} on " in line and "stale" not in line
    assert "do not delete the lock file" in line
    assert refreshes == 0 and not (state / "snapshots.sqlite").exists()
    record = last_error(logged)
    assert record["exit_code"] == 3 and record["outcome"] == "locked"
    assert record["error"] == "LockedError" and f"pid {pid}" in record["message"]


def test_a_lock_left_by_a_finished_run_is_no_obstacle(state: Path) -> None:
    """An flock dies with its process: the lock file stays, nothing is stale."""
    with running_simulator(SimulatorConfig(users=5)) as sim:
        with lock_held_elsewhere(state):
            pass  # that run ended (it could as well have been killed)
        assert (state / "oaa-concur.lock").exists()
        result = run_cli(["discover", "--no-push"], sim_env(sim, state))
    assert result.exit_code == 0, result.output


def test_concur_down_is_exit_1_with_the_host_in_the_record(state: Path) -> None:
    port = _closed_port()
    fake = FakeTime()
    with running_simulator(SimulatorConfig(users=1)) as sim:
        env = {**sim_env(sim, state), "CONCUR_URL": f"http://127.0.0.1:{port}"}
        result = run_cli(["discover", "--no-push", *JSON], env, fake.runtime())
    assert result.exit_code == ExitCode.FAILED
    record = last_error(result)
    assert record["outcome"] == "failed" and f"127.0.0.1:{port}" in record["message"]
    retries = [r for r in json_lines(result.stderr) if r.get("event") == "retry"]
    assert [r["attempt"] for r in retries] == [1, 2, 3, 4, 5]
    assert all(r["host"] == f"127.0.0.1:{port}" for r in retries)


def test_a_configuration_error_is_exit_2(state: Path, tmp_path: Path) -> None:
    config = tmp_path / "oaa.toml"
    config.write_text("max-shrnk = 0.2\n")
    with running_simulator(SimulatorConfig(users=1)) as sim:
        result = run_cli(
            ["discover", "--no-push", "--config", str(config), *JSON], sim_env(sim, state)
        )
    assert result.exit_code == ExitCode.CONFIG
    record = last_error(result)
    assert record["outcome"] == "config" and "'max-shrnk'" in record["message"]
    assert "did you mean 'max-shrink'?" in record["message"]


def test_a_refused_shrink_is_exit_4(state: Path, fake_veza: FakeVeza) -> None:
    with running_simulator(SimulatorConfig(users=100, seed=4)) as sim:
        assert run_cli(["discover"], sim_env(sim, state, fake_veza)).exit_code == 0
    (state / "credentials.json").unlink()  # a new simulator: its own refresh tokens
    with running_simulator(SimulatorConfig(users=80, seed=4)) as sim:
        result = run_cli(["discover", *JSON], sim_env(sim, state, fake_veza))
    assert result.exit_code == int(ExitCode.REFUSED) == 4, result.output
    record = last_error(result)
    assert record["outcome"] == "refused" and record["error"] == "PushRefused"
    assert "--allow-shrink" in record["message"] and len(fake_veza.pushes) == 1


@pytest.mark.parametrize("mode", ["text", "json"])
def test_a_failing_fail_on_is_exit_5(state: Path, mode: str) -> None:
    with running_simulator(SimulatorConfig(users=60, seed=3)) as sim:
        assert run_cli(["discover", "--no-push"], sim_env(sim, state)).exit_code == 0
    args = ["report", "--format", "json", "--out", str(state.parent / "r.json")]
    env = {"OAA_CONCUR_STATE_DIR": str(state)}
    assert run_cli(args, env).exit_code == 0  # findings alone never fail
    result = run_cli([*args, "--fail-on", "info", "--log-format", mode], env)
    assert result.exit_code == int(ExitCode.FINDINGS) == 5, result.output
    if mode == "json":
        records = json_lines(result.stderr)
        assert records[0]["event"] == "result" and records[0]["message"] == "report written"
        assert last_error(result)["outcome"] == "findings"
    else:
        assert "findings at or above info" in last_line(result.stderr)
    assert len(SnapshotStore(state).list()) == 1
