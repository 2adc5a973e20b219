"""Hole 2 of issue 11: the state directory was trusted blindly. Each test prepares a state
directory as an attacker (or a careless umask) would leave it, runs the real CLI against a
hostile Concur on loopback, and shows the one-sentence refusal (exit 2) before anything is sent
or written, or that what is created is private."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import Result

from oaa_concur.errors import ConfigError
from oaa_concur.state.credentials import CredentialStore, StoredCredentials, fingerprint
from oaa_concur.state.files import ensure_private_dir, write_private
from tests.fakes.hostile import REFRESH_TOKEN, Hostile, client_env, hostile_concur, routes
from tests.support.cli import run_cli

COMMANDS = (["discover", "--no-push"], ["auth", "check"], ["report"], ["snapshots"], ["diff"])
as_root = pytest.mark.skipif(os.geteuid() != 0, reason="chown to another user needs root")
OTHER_UID = 65534  # nobody


@pytest.fixture
def concur() -> Iterator[Hostile]:
    with hostile_concur(routes()) as server:
        yield server


def refused(result: Result, expected: str) -> str:
    assert result.exit_code == 2, result.output
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("error: ") and expected in last, last
    return last


def mode(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


def stored(state: Path) -> None:
    CredentialStore(state).save(
        StoredCredentials(refresh_token=REFRESH_TOKEN, seed_fingerprint=fingerprint(REFRESH_TOKEN))
    )


def discovered(state: Path, concur: Hostile) -> None:
    """A state directory after one good run: credentials, a snapshot, the lock file."""
    assert run_cli(["discover", "--no-push"], client_env(concur, str(state))).exit_code == 0
    concur.seen.clear()


@pytest.mark.parametrize("dir_mode", [0o777, 0o770, 0o722, 0o702])
def test_a_state_directory_writable_by_others_is_refused_by_every_command(
    tmp_path: Path, concur: Hostile, dir_mode: int
) -> None:
    state = tmp_path / "state"
    discovered(state, concur)
    before = sorted((p.name, p.stat().st_mtime_ns) for p in state.iterdir())
    state.chmod(dir_mode)
    for args in COMMANDS:
        line = refused(run_cli(args, client_env(concur, str(state))), "writable by other users")
        assert line.endswith(f"chmod 700 {state}"), line
    assert concur.seen == []  # the secret never left
    assert sorted((p.name, p.stat().st_mtime_ns) for p in state.iterdir()) == before


def test_a_readable_but_not_writable_state_directory_is_used(
    tmp_path: Path, concur: Hostile
) -> None:
    state = tmp_path / "state"
    stored(state)
    state.chmod(0o755)
    assert run_cli(["discover", "--no-push"], client_env(concur, str(state))).exit_code == 0


@as_root
def test_a_state_directory_of_another_user_is_refused(tmp_path: Path, concur: Hostile) -> None:
    state = tmp_path / "state"
    discovered(state, concur)
    os.chown(state, OTHER_UID, OTHER_UID)
    for args in COMMANDS:
        refused(run_cli(args, client_env(concur, str(state))), "belongs to another user")
    assert concur.seen == []


@as_root
def test_a_credentials_file_planted_by_another_user_is_refused(
    tmp_path: Path, concur: Hostile
) -> None:
    state = tmp_path / "state"
    stored(state)
    os.chown(state / "credentials.json", OTHER_UID, OTHER_UID)  # still mode 0600
    for args in (["discover", "--no-push"], ["auth", "check"]):
        line = refused(run_cli(args, client_env(concur, str(state))), "belongs to another user")
        assert "credentials file" in line
    assert concur.seen == []


def test_a_group_writable_credentials_file_is_refused(tmp_path: Path, concur: Hostile) -> None:
    state = tmp_path / "state"
    stored(state)
    (state / "credentials.json").chmod(0o620)
    refused(run_cli(["auth", "check"], client_env(concur, str(state))), "writable by other users")
    assert concur.seen == []


def test_a_symlinked_snapshot_store_to_a_missing_path_is_refused_and_creates_nothing(
    tmp_path: Path, concur: Hostile
) -> None:
    state = tmp_path / "state"
    stored(state)
    target = tmp_path / "elsewhere" / "personal-data.sqlite"
    target.parent.mkdir()
    (state / "snapshots.sqlite").symlink_to(target)
    refused(run_cli(["discover", "--no-push"], client_env(concur, str(state))), "symbolic link")
    for args in (["report"], ["snapshots"], ["diff"]):  # read nothing, create nothing
        assert run_cli(args, client_env(concur, str(state))).exit_code in (0, 2)
    assert not target.exists()
    assert concur.seen == []  # refused before the discovery, not after it


def test_a_symlinked_snapshot_store_to_a_planted_database_is_never_opened(
    tmp_path: Path, concur: Hostile
) -> None:
    planted, state = tmp_path / "planted", tmp_path / "state"
    discovered(planted, concur)
    stored(state)
    (state / "snapshots.sqlite").symlink_to(planted / "snapshots.sqlite")
    for args in COMMANDS:
        refused(run_cli(args, client_env(concur, str(state))), "is a symbolic link")
    assert concur.seen == []


@pytest.mark.parametrize(
    "name", ["credentials.json", "oaa-concur.lock", "snapshots.sqlite-journal", "anything"]
)
def test_any_symlink_in_the_state_directory_is_refused_before_a_run(
    tmp_path: Path, concur: Hostile, name: str
) -> None:
    state = tmp_path / "state"
    stored(state)
    target = tmp_path / "target"
    target.write_text("not ours")
    target.chmod(0o644)
    (state / name).unlink(missing_ok=True)
    (state / name).symlink_to(target)
    refused(run_cli(["discover", "--no-push"], client_env(concur, str(state))), "symbolic link")
    assert concur.seen == []
    assert mode(target) == 0o644 and target.read_text() == "not ours"  # never chmod-ed, written


def test_a_symlinked_credentials_file_is_never_read(tmp_path: Path) -> None:
    state = tmp_path / "state"
    real = tmp_path / "planted.json"
    real.write_bytes(
        StoredCredentials(refresh_token="planted-token", geolocation="https://x.example").to_json()
    )
    real.chmod(0o600)
    ensure_private_dir(state)
    (state / "credentials.json").symlink_to(real)
    with pytest.raises(ConfigError, match="is a symbolic link"):
        CredentialStore(state).load()


def test_under_umask_000_every_created_directory_and_file_is_private(
    tmp_path: Path, concur: Hostile
) -> None:
    state = tmp_path / "a" / "b" / "state"
    old = os.umask(0)
    try:
        result = run_cli(["discover", "--no-push"], client_env(concur, str(state)))
    finally:
        os.umask(old)
    assert result.exit_code == 0, result.output
    for directory in (tmp_path / "a", tmp_path / "a" / "b", state):
        assert mode(directory) == 0o700, directory
    files = sorted(state.iterdir())
    assert {p.name for p in files} >= {"credentials.json", "snapshots.sqlite", "oaa-concur.lock"}
    assert all(mode(p) == 0o600 for p in files), [(p.name, oct(mode(p))) for p in files]


def test_write_private_creates_missing_parents_0700_under_any_umask(tmp_path: Path) -> None:
    old = os.umask(0o002)
    try:
        write_private(tmp_path / "x" / "y" / "report.html", "<p>")
    finally:
        os.umask(old)
    assert mode(tmp_path / "x") == mode(tmp_path / "x" / "y") == 0o700
    assert mode(tmp_path / "x" / "y" / "report.html") == 0o600


def test_a_state_directory_that_is_a_symlink_to_a_private_directory_is_the_users_choice(
    tmp_path: Path, concur: Hostile
) -> None:
    real = tmp_path / "real"
    real.mkdir(mode=0o700)
    (tmp_path / "link").symlink_to(real)
    result = run_cli(["discover", "--no-push"], client_env(concur, str(tmp_path / "link")))
    assert result.exit_code == 0, result.output
    assert (real / "snapshots.sqlite").exists()
