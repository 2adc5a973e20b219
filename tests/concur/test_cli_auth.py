"""`oaa-concur auth exchange|check` through the real CLI, against the real simulator."""

from __future__ import annotations

import fcntl
import os
import stat
from pathlib import Path

from click.testing import CliRunner, Result

from oaa_concur.cli import main
from oaa_concur.simulator import (
    DEFAULT_SCOPES,
    RunningSimulator,
    SimulatorConfig,
    running_simulator,
)
from tests.fakes.clock import FakeTime
from tests.fakes.concur import in_process

ENV_KEYS = (
    "CONCUR_URL",
    "CONCUR_CLIENT_ID",
    "CONCUR_CLIENT_SECRET",
    "CONCUR_REFRESH_TOKEN",
    "CONCUR_REQUEST_TOKEN",
    "OAA_CONCUR_STATE_DIR",
)


def run(sim: RunningSimulator, state: Path, *args: str, **env: str | None) -> Result:
    values: dict[str, str | None] = dict.fromkeys(ENV_KEYS)
    values.update(sim.env())
    values["OAA_CONCUR_STATE_DIR"] = str(state)
    values.update(env)
    return CliRunner().invoke(main, ["auth", *args], env=values)


SIMULATOR = SimulatorConfig(users=5, split_geolocation=True)  # `sim` (tests/conftest.py)


def test_exchange_stores_0600_and_prints_no_token(sim: RunningSimulator, tmp_path: Path) -> None:
    result = run(
        sim,
        tmp_path,
        "exchange",
        "--company-uuid",
        sim.company_uuid,
        CONCUR_REQUEST_TOKEN=sim.request_token,
        CONCUR_REFRESH_TOKEN=None,
    )
    assert result.exit_code == 0, result.output
    creds = tmp_path / "credentials.json"
    assert stat.S_IMODE(creds.stat().st_mode) == 0o600
    stored = creds.read_text()
    token = __import__("json").loads(stored)["refresh_token"]
    assert token not in result.output and sim.request_token not in result.output
    assert sim.api_url in result.output and "refresh token expiry" in result.output
    assert "spend.user.general.read" in result.output and "MISSING" not in result.output

    check = run(sim, tmp_path, "check", CONCUR_REFRESH_TOKEN=None)
    assert check.exit_code == 0, check.output
    assert sim.company_uuid in check.output
    assert check.output.count(" granted\n") == 7


def test_exchange_print_refresh_token(sim: RunningSimulator, tmp_path: Path) -> None:
    result = run(
        sim,
        tmp_path,
        "exchange",
        "--company-uuid",
        sim.company_uuid,
        "--print-refresh-token",
        CONCUR_REQUEST_TOKEN=sim.request_token,
    )
    assert result.exit_code == 0, result.output
    token = __import__("json").loads((tmp_path / "credentials.json").read_text())["refresh_token"]
    assert f"refresh token:        {token}" in result.output


def test_exchange_prompts_when_no_env_token(sim: RunningSimulator, tmp_path: Path) -> None:
    values: dict[str, str | None] = dict.fromkeys(ENV_KEYS)
    values.update(sim.env(), OAA_CONCUR_STATE_DIR=str(tmp_path))
    result = CliRunner().invoke(
        main,
        ["auth", "exchange", "--company-uuid", sim.company_uuid],
        env=values,
        input=sim.request_token + "\n",
    )
    assert result.exit_code == 0, result.output
    assert sim.request_token not in result.output


def test_exchange_without_terminal_or_variable_is_one_sentence(
    sim: RunningSimulator, tmp_path: Path
) -> None:
    """No CONCUR_REQUEST_TOKEN and stdin not a terminal (cron, CI): no prompt that cannot hide
    the input (GetPassWarning), no "Aborted!": one sentence, exit 2, nothing stored."""
    values: dict[str, str | None] = dict.fromkeys(ENV_KEYS)
    values.update(sim.env(), OAA_CONCUR_STATE_DIR=str(tmp_path))
    result = CliRunner().invoke(
        main, ["auth", "exchange", "--company-uuid", sim.company_uuid], env=values, input=""
    )
    assert result.exit_code == 2, result.output
    assert result.stderr.strip().splitlines() == [
        "error: No Company Request Token was given: set CONCUR_REQUEST_TOKEN, pipe the token "
        "on stdin or type it at a terminal"
    ]
    assert "Aborted" not in result.output and "Warning" not in result.output
    assert not (tmp_path / "credentials.json").exists()


def test_exchange_bad_request_token(sim: RunningSimulator, tmp_path: Path) -> None:
    result = run(
        sim,
        tmp_path,
        "exchange",
        "--company-uuid",
        sim.company_uuid,
        CONCUR_REQUEST_TOKEN="at-not-a-real-token",
    )
    assert result.exit_code == 1
    assert "Company Request Token was refused" in result.output
    assert "at-not-a-real-token" not in result.output
    assert not (tmp_path / "credentials.json").exists()


def test_check_twice_with_rotation_and_original_env_token(tmp_path: Path) -> None:
    config = SimulatorConfig(
        users=1, rotate_refresh_tokens=True, split_geolocation=True, access_token_ttl=2
    )
    with running_simulator(config) as rotating:
        first = run(rotating, tmp_path, "check")
        second = run(rotating, tmp_path, "check")
        other = run(rotating, tmp_path / "elsewhere", "check")
    assert first.exit_code == second.exit_code == 0, second.output
    assert rotating.api_url in second.output
    # Strict rotation: the original token died at the first refresh, so a state directory
    # that never saw the rotated token cannot refresh any more.
    assert other.exit_code == 1 and "expired or was revoked" in other.output


def test_missing_client_secret_is_config_error(sim: RunningSimulator, tmp_path: Path) -> None:
    result = run(sim, tmp_path, "check", CONCUR_CLIENT_SECRET=None)
    assert result.exit_code == 2
    assert "CONCUR_CLIENT_SECRET is not set" in result.output


def test_bad_secret(sim: RunningSimulator, tmp_path: Path) -> None:
    result = run(sim, tmp_path, "check", CONCUR_CLIENT_SECRET="nope-nope-nope")
    assert result.exit_code == 1
    assert "client id or secret" in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_expired_refresh_token(tmp_path: Path) -> None:
    with running_simulator(SimulatorConfig(users=1, refresh_token_ttl=-1)) as expired:
        result = run(expired, tmp_path, "check")
    assert result.exit_code == 1
    assert "refresh token has expired or was revoked" in result.output
    assert "auth exchange" in result.output


def test_check_missing_scopes(tmp_path: Path) -> None:
    no_email = tuple(s for s in DEFAULT_SCOPES if s != "identity.user.coresensitive.read")
    with running_simulator(SimulatorConfig(users=1, scopes=no_email)) as limited:
        result = run(limited, tmp_path, "check")
    assert result.exit_code == 0, result.output
    assert "identity.user.coresensitive.read     MISSING" in result.output
    assert "cannot be linked to the IdP" in result.output

    no_spend = tuple(s for s in DEFAULT_SCOPES if s != "spend.user.general.read")
    with running_simulator(SimulatorConfig(users=1, scopes=no_spend)) as limited:
        result = run(limited, tmp_path / "b", "check")
    assert result.exit_code == 2, result.output  # the Concur app's configuration must change
    assert "The Concur credentials work." not in result.output
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("error: The Concur credentials work, but the app lacks the scope ")
    assert "spend.user.general.read, so discovery cannot read Spend roles" in last


def test_lock_refuses_second_run(sim: RunningSimulator, tmp_path: Path) -> None:
    lock = tmp_path / "oaa-concur.lock"
    lock.touch()
    fd = os.open(lock, os.O_RDWR)
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    try:
        result = run(sim, tmp_path, "check")
    finally:
        os.close(fd)
    assert result.exit_code == 3  # ExitCode.LOCKED
    assert "another oaa-concur run holds the lock" in result.output


def test_world_readable_credentials_refused(sim: RunningSimulator, tmp_path: Path) -> None:
    assert run(sim, tmp_path, "check").exit_code == 0
    creds = tmp_path / "credentials.json"
    creds.chmod(0o644)
    result = run(sim, tmp_path, "check")
    assert result.exit_code == 2
    assert result.output.strip().endswith(f"chmod 600 {creds}")


def test_corrupted_credentials_reported_backup_kept(sim: RunningSimulator, tmp_path: Path) -> None:
    assert run(sim, tmp_path, "check").exit_code == 0
    assert run(sim, tmp_path, "check").exit_code == 0  # second save keeps a backup
    creds = tmp_path / "credentials.json"
    creds.write_text('{"refresh_token": ')
    result = run(sim, tmp_path, "check")
    assert result.exit_code == 2
    assert "corrupted" in result.output and "credentials.json.bak" in result.output
    assert (tmp_path / "credentials.json.bak").exists()


def test_auth_check_uses_the_injected_runtime(tmp_path: Path) -> None:
    """``auth`` wires the client through ``concur_session`` like discovery: click's ``obj``
    reaches it, here a simulator in process (no socket) and a fake clock for the expiry."""
    concur = in_process(SimulatorConfig(users=3, split_geolocation=True))
    values: dict[str, str | None] = dict.fromkeys(ENV_KEYS)
    values.update(concur.sim.env(), OAA_CONCUR_STATE_DIR=str(tmp_path))
    time = FakeTime(start=concur.sim.state.tokens.clock() - 10 * 86400)
    result = CliRunner().invoke(
        main, ["auth", "check"], env=values, obj=time.runtime(concur.transport)
    )
    assert result.exit_code == 0, result.output
    assert concur.sim.state.requests["token"] == 2  # landing (code 16), then the data center
    assert f"geolocation:          {concur.sim.api_url}" in result.output
    assert "(in 193 days)" in result.output  # 183 days from Concur's now, 10 days before it
