"""Malformed config files, environment values and state files, through the real CLI.

Each gives one sentence on the last stderr line and exit 1 or 2: never a traceback, never
"internal error". A corrupted credentials.json keeps the last good token in the backup.
"""

from __future__ import annotations

import os
from pathlib import Path

import orjson
import pytest
from click.testing import Result

from oaa_concur.simulator import RunningSimulator, SimulatorConfig
from tests.support.cli import run_cli, sim_env

SIMULATOR = SimulatorConfig(users=5, seed=3, rotate_refresh_tokens=True)  # the `sim` fixture


def env_for(sim: RunningSimulator, state: Path) -> dict[str, str]:
    """The run's environment with a refresh token of its own (rotation kills shared ones)."""
    return {**sim_env(sim, state), "CONCUR_REFRESH_TOKEN": sim.state.tokens.new_refresh_token()}


def one_sentence(result: Result, codes: tuple[int, ...] = (1, 2)) -> str:
    """The last stderr line, checked: an ``error:`` sentence, a listed exit code, no traceback."""
    assert result.exit_code in codes, (result.exit_code, result.output)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert lines, result.output
    last = lines[-1]
    assert last.startswith("error: ") or last.startswith("Error: "), last
    assert "internal error" not in last and "Traceback" not in result.output, result.output
    return last


CONFIGS = {
    "not TOML": b"concurrency = = 3\n",
    "not UTF-8": b"\xff\xfe\x00garbage",
    "not a table": b'oaa-concur = "yes"\n',
    "holds a secret": b'client_secret = "hunter2hunter2"\n',
    "wrong type": b'concurrency = "many"\n',
    "zero concurrency": b"concurrency = 0\n",
    "list for a number": b"concurrency = [1, 2]\n",
    "bad log format": b'log_format = "xml"\n',
    "bad shrink": b"max_shrink = 7\n",
    "table for a path": b"[oaa-concur]\nca_bundle = { a = 1 }\n",
}


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_malformed_config_file(name: str, sim: RunningSimulator, tmp_path: Path) -> None:
    config = tmp_path / "oaa-concur.toml"
    config.write_bytes(CONFIGS[name])
    result = run_cli(
        ["discover", "--no-push", "--config", str(config)], env_for(sim, tmp_path / "state")
    )
    line = one_sentence(result, (2,))
    assert "hunter2" not in result.output
    assert not (tmp_path / "state" / "snapshots.sqlite").exists()
    assert line


def test_missing_and_directory_config(sim: RunningSimulator, tmp_path: Path) -> None:
    for path in (tmp_path / "nope.toml", tmp_path):
        result = run_cli(["snapshots", "--config", str(path)], env_for(sim, tmp_path / "s"))
        assert str(path) in one_sentence(result, (2,))


ENVS = {  # name: (environment change, what the sentence must name)
    "CONCUR_URL not a URL": ({"CONCUR_URL": "http://"}, "'http://' is not a URL"),
    "CONCUR_URL plain http remote": ({"CONCUR_URL": "http://example.com"}, "over HTTPS"),
    "CONCUR_URL other scheme": ({"CONCUR_URL": "ftp://example.com"}, "over HTTPS"),
    "CONCUR_URL bad port": ({"CONCUR_URL": "https://example.com:99999"}, "is not a URL"),
    "CONCUR_URL spaces": ({"CONCUR_URL": "https://exa mple.com"}, "valid host"),
    "no client secret": ({"CONCUR_CLIENT_SECRET": ""}, "CONCUR_CLIENT_SECRET is not set"),
    "no refresh token": ({"CONCUR_REFRESH_TOKEN": ""}, "CONCUR_REFRESH_TOKEN is not set"),
}


@pytest.mark.parametrize("name", sorted(ENVS))
def test_malformed_environment(name: str, sim: RunningSimulator, tmp_path: Path) -> None:
    change, expected = ENVS[name]
    env = {**env_for(sim, tmp_path / "state"), **change}
    assert expected in one_sentence(run_cli(["discover", "--no-push"], env))


def test_state_dir_is_a_file(sim: RunningSimulator, tmp_path: Path) -> None:
    target = tmp_path / "afile"
    target.write_text("not a directory")
    for args in (["discover", "--no-push"], ["auth", "check"], ["report"]):
        line = one_sentence(run_cli(args, env_for(sim, target)))
        assert str(target) in line, (args, line)


@pytest.mark.parametrize(
    "args",
    [
        ["--concurrency", "0"],
        ["--concurrency", "-3"],
        ["--concurrency", "abc"],
        ["--log-format", "xml"],
        ["--max-shrink", "lots"],
        ["--max-shrink", "2"],
    ],
)
def test_bad_option_values(args: list[str], sim: RunningSimulator, tmp_path: Path) -> None:
    line = one_sentence(run_cli(["discover", "--no-push", *args], env_for(sim, tmp_path)), (2,))
    assert args[0].removeprefix("--").replace("-", "_") in line.replace("-", "_")


def test_http_veza_url_refused(sim: RunningSimulator, tmp_path: Path) -> None:
    env = {**env_for(sim, tmp_path), "VEZA_URL": "http://example.com", "VEZA_API_KEY": "k" * 20}
    line = one_sentence(run_cli(["discover"], env))
    assert "https" in line.lower()


# --- state files ----------------------------------------------------------------------------

BAD_CREDENTIALS = {
    "truncated": b'{"refresh_token": "abc',
    "empty": b"",
    "binary": b"\x00\xff\xfe\x80" * 8,
    "a list": b'["refresh_token"]',
    "a string": b'"refresh_token"',
    "a number": b"42",
    "null token": b'{"refresh_token": null}',
    "token is a number": b'{"refresh_token": 12345678}',
    "scopes wrong": b'{"refresh_token": "abcdefgh", "scopes": "all"}',
    "expiry wrong": b'{"refresh_token": "abcdefgh", "refresh_expires_at": "soon"}',
    "geolocation wrong": b'{"refresh_token": "abcdefgh", "geolocation": ["x"]}',
}


def _good_runs(sim: RunningSimulator, state: Path) -> tuple[dict[str, str], str]:
    """Two successful checks (rotation on): returns the env and the last stored token."""
    env = env_for(sim, state)
    for _ in range(2):
        assert run_cli(["auth", "check"], env).exit_code == 0
    stored = orjson.loads((state / "credentials.json").read_bytes())["refresh_token"]
    return env, stored


@pytest.mark.parametrize("name", sorted(BAD_CREDENTIALS))
def test_corrupted_credentials_keep_the_last_good_token_in_the_backup(
    name: str, sim: RunningSimulator, tmp_path: Path
) -> None:
    state = tmp_path / "state"
    env, last_good = _good_runs(sim, state)
    creds = state / "credentials.json"
    creds.write_bytes(BAD_CREDENTIALS[name])
    backup = state / "credentials.json.bak"
    for args in (["auth", "check"], ["discover", "--no-push"]):
        line = one_sentence(run_cli(args, env), (2,))
        assert "corrupted" in line and str(backup) in line, line
    # Nothing was overwritten and nothing rotated: the backup holds the last good token,
    # still alive at Concur, and restoring it as the message says makes the next run work.
    assert creds.read_bytes() == BAD_CREDENTIALS[name]
    assert orjson.loads(backup.read_bytes())["refresh_token"] == last_good
    assert last_good in sim.state.tokens.refresh_tokens
    os.replace(backup, creds)
    assert run_cli(["auth", "check"], {**env, "CONCUR_REFRESH_TOKEN": ""}).exit_code == 0


def test_backup_holds_exactly_the_previously_stored_token(
    sim: RunningSimulator, tmp_path: Path
) -> None:
    """Three rotations, then the file is cut short: the backup has the token stored last."""
    state = tmp_path / "state"
    env, _ = _good_runs(sim, state)
    assert run_cli(["auth", "check"], env).exit_code == 0
    stored = orjson.loads((state / "credentials.json").read_bytes())["refresh_token"]
    (state / "credentials.json").write_bytes(b'{"refresh_to')
    line = one_sentence(run_cli(["auth", "check"], env), (2,))
    assert "credentials.json.bak" in line and stored not in line
    assert orjson.loads((state / "credentials.json.bak").read_bytes())["refresh_token"] == stored


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o666])
def test_credentials_readable_by_others_refused_with_the_chmod(
    mode: int, sim: RunningSimulator, tmp_path: Path
) -> None:
    state = tmp_path / "state"
    env, _ = _good_runs(sim, state)
    creds = state / "credentials.json"
    creds.chmod(mode)
    line = one_sentence(run_cli(["discover", "--no-push"], env), (2,))
    assert line.endswith(f"chmod 600 {creds}")


def test_credentials_path_is_a_directory(sim: RunningSimulator, tmp_path: Path) -> None:
    state = tmp_path / "state"
    (state / "credentials.json").mkdir(parents=True, mode=0o755)  # its mode must not matter
    line = one_sentence(run_cli(["auth", "check"], env_for(sim, state)))
    assert "is not a regular file" in line and "chmod" not in line


SQLITE = {
    "garbage": b"this is not a database at all" * 100,
    "truncated header": b"SQLite format 3\x00" + b"\x00" * 20,
    "zeros": b"\x00" * 4096,
}


@pytest.mark.parametrize("name", sorted(SQLITE))
def test_corrupted_snapshot_store(name: str, sim: RunningSimulator, tmp_path: Path) -> None:
    state = tmp_path / "state"
    state.mkdir(mode=0o700)
    (state / "snapshots.sqlite").write_bytes(SQLITE[name])
    (state / "snapshots.sqlite").chmod(0o600)
    env = env_for(sim, state)
    for args in (
        ["snapshots"],
        ["report", "--format", "json"],
        ["diff"],
        ["discover", "--no-push"],
    ):
        line = one_sentence(run_cli(args, env))
        assert "snapshots.sqlite" in line, (args, line)


def test_a_real_but_truncated_snapshot_store(sim: RunningSimulator, tmp_path: Path) -> None:
    state = tmp_path / "state"
    env = env_for(sim, state)
    assert run_cli(["discover", "--no-push"], env).exit_code == 0
    db = state / "snapshots.sqlite"
    db.write_bytes(db.read_bytes()[: len(db.read_bytes()) // 2])
    for args in (["snapshots"], ["report", "--format", "csv"]):
        one_sentence(run_cli(args, env))
