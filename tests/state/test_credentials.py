"""The credentials file: mode 0600, atomic writes with a backup, seeding rule, refusals, lock."""

from __future__ import annotations

import fcntl
import os
import stat
from pathlib import Path

import pytest

from oaa_concur.errors import ConfigError, LockedError
from oaa_concur.state.credentials import CredentialStore, StoredCredentials, fingerprint
from oaa_concur.state.lock import state_lock


def _creds(token: str, seed: str | None = None) -> StoredCredentials:
    return StoredCredentials(
        refresh_token=token,
        refresh_expires_at=1_900_000_000,
        geolocation="https://eu2.api.concursolutions.com",
        client_id="c",
        company_uuid="co",
        scopes=("openid",),
        seed_fingerprint=fingerprint(seed or token),
    )


def test_save_load_roundtrip_mode_0600_dir_0700(tmp_path: Path) -> None:
    store = CredentialStore(tmp_path / "state" / "nested")
    store.save(_creds("tok-1-abcdef"))
    assert stat.S_IMODE(store.path.stat().st_mode) == 0o600
    assert stat.S_IMODE(store.state_dir.stat().st_mode) == 0o700
    assert store.load() == _creds("tok-1-abcdef")
    assert "tok-1-abcdef" not in (store.load().seed_fingerprint or "")  # type: ignore[union-attr]


def test_backup_mirrors_the_newest_good_file(tmp_path: Path) -> None:
    store = CredentialStore(tmp_path)
    store.save(_creds("tok-1-abcdef"))
    store.save(_creds("tok-2-abcdef", seed="tok-1-abcdef"))
    backup = StoredCredentials.from_json(store.backup_path.read_bytes())
    assert backup.refresh_token == "tok-2-abcdef"  # tok-1 may already be dead (rotation)
    assert stat.S_IMODE(store.backup_path.stat().st_mode) == 0o600
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_seed_token_in_env_uses_newer_file_token(tmp_path: Path) -> None:
    store = CredentialStore(tmp_path)
    store.save(_creds("rotated-2", seed="original-0"))
    token, stored, seed = store.resolve("original-0")
    assert token == "rotated-2" and stored is not None and seed == fingerprint("original-0")


def test_new_token_in_env_wins(tmp_path: Path) -> None:
    store = CredentialStore(tmp_path)
    store.save(_creds("rotated-2", seed="original-0"))
    token, stored, seed = store.resolve("brand-new-1")
    assert token == "brand-new-1" and stored is None and seed == fingerprint("brand-new-1")


def test_no_env_uses_file_and_nothing_at_all_is_config_error(tmp_path: Path) -> None:
    store = CredentialStore(tmp_path)
    with pytest.raises(ConfigError, match="auth exchange"):
        store.resolve(None)
    store.save(_creds("rotated-2", seed="original-0"))
    assert store.resolve(None)[0] == "rotated-2"


def test_group_readable_file_refused_with_chmod_hint(tmp_path: Path) -> None:
    store = CredentialStore(tmp_path)
    store.save(_creds("tok-1-abcdef"))
    store.path.chmod(0o644)
    with pytest.raises(ConfigError) as info:
        store.load()
    assert info.value.hint == f"chmod 600 {store.path}"
    assert info.value.exit_code == 2


def test_corrupted_file_reported_and_backup_kept(tmp_path: Path) -> None:
    store = CredentialStore(tmp_path)
    store.save(_creds("tok-1-abcdef"))
    store.save(_creds("tok-2-abcdef"))
    fd = os.open(store.path, os.O_WRONLY | os.O_TRUNC)
    os.write(fd, b'{"refresh_token": "tok-2-abc')
    os.close(fd)
    with pytest.raises(ConfigError, match="corrupted") as info:
        store.load()
    assert str(store.backup_path) in str(info.value)
    assert "tok-2" not in str(info.value)
    backup = StoredCredentials.from_json(store.backup_path.read_bytes())
    assert backup.refresh_token == "tok-2-abcdef"  # the last good token survives the corruption


def test_lock_refuses_second_holder(tmp_path: Path) -> None:
    (tmp_path / "oaa-concur.lock").touch()
    fd = os.open(tmp_path / "oaa-concur.lock", os.O_RDWR)
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    try:
        with (
            pytest.raises(LockedError, match="another oaa-concur run holds the lock"),
            state_lock(tmp_path),
        ):
            pass
    finally:
        os.close(fd)
    with state_lock(tmp_path):  # free again once the other holder let go
        pass


def test_lock_is_not_reentrant(tmp_path: Path) -> None:
    """Nothing holds it twice: a second hold, even in the same process, is another run."""
    with (
        state_lock(tmp_path),
        pytest.raises(LockedError, match="another oaa-concur run holds the lock"),
        state_lock(tmp_path),
    ):
        pass
    with state_lock(tmp_path):  # released by the first holder
        pass
