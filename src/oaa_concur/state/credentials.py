"""The credentials file in the state directory (design.md §2.2, §3.2).

``credentials.json`` (mode 0600, in a 0700 directory) holds the newest refresh token, its
expiry (epoch seconds), the geolocation, the client id, the company UUID, the granted scopes
and the sha256 fingerprint of the refresh token it was *seeded* from (never a token itself
outside ``refresh_token``). Every write is atomic (temp file in the same directory, fsync,
rename) and mirrors the newest good file into ``credentials.json.bak``.

Seeding rule: if ``CONCUR_REFRESH_TOKEN`` is the token the file was seeded from (or the file's
current token), the file's newer token wins, because Concur may have rotated it since; if it is
any other token, the user supplied a new one and it wins (the file is re-seeded on the next
save).
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import orjson

from oaa_concur import redact
from oaa_concur.errors import ConfigError
from oaa_concur.state.files import (
    check_private_dir,
    ensure_private_dir,
    read_private,
    write_private,
)

LOG = logging.getLogger(__name__)
FILE_NAME = "credentials.json"


def fingerprint(token: str) -> str:
    """sha256 hex of a token: lets the file remember which token seeded it without storing it."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class StoredCredentials:
    """What the credentials file holds. ``refresh_token`` is the only secret."""

    refresh_token: str
    refresh_expires_at: int | None = None
    geolocation: str | None = None
    client_id: str | None = None
    company_uuid: str | None = None
    scopes: tuple[str, ...] = ()
    seed_fingerprint: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> bytes:
        data = asdict(self)
        data["scopes"] = list(self.scopes)
        extra = data.pop("extra")
        return orjson.dumps({**extra, **data, "version": 1}, option=orjson.OPT_INDENT_2)

    @classmethod
    def from_json(cls, raw: bytes) -> StoredCredentials:
        """Parse the file; raise ValueError when it is not what we wrote."""
        data = orjson.loads(raw)
        if not isinstance(data, dict) or not isinstance(data.get("refresh_token"), str):
            raise ValueError("no refresh_token")  # noqa: TRY004 - callers catch ValueError
        known = {k: data.pop(k) for k in list(data) if k in _FIELDS}
        data.pop("version", None)
        expires = known.get("refresh_expires_at")
        if expires is not None and not isinstance(expires, int):
            raise ValueError("refresh_expires_at is not an integer")
        scopes = known.get("scopes") or []
        if not isinstance(scopes, list) or not all(isinstance(s, str) for s in scopes):
            raise ValueError("scopes is not a list of strings")
        for key in ("geolocation", "client_id", "company_uuid", "seed_fingerprint"):
            if known.get(key) is not None and not isinstance(known[key], str):
                raise ValueError(f"{key} is not a string")
        known["scopes"] = tuple(scopes)
        return cls(**known, extra=data)


_FIELDS = {
    "refresh_token",
    "refresh_expires_at",
    "geolocation",
    "client_id",
    "company_uuid",
    "scopes",
    "seed_fingerprint",
}


class CredentialStore:
    """Reads and atomically writes ``<state_dir>/credentials.json``."""

    def __init__(self, state_dir: Path) -> None:
        self.state_dir = state_dir
        self.path = state_dir / FILE_NAME
        self.backup_path = state_dir / (FILE_NAME + ".bak")

    def load(self) -> StoredCredentials | None:
        """The stored credentials, None if there is no file; ConfigError if unsafe or corrupted.

        Refused before reading: a state directory or file owned by another user or writable by
        group or others, a file readable by others, and a symlink (``files.read_private``).
        """
        if not self.state_dir.exists():
            return None
        check_private_dir(self.state_dir)
        raw = read_private(self.path, "credentials file")
        if raw is None:
            return None
        try:
            creds = StoredCredentials.from_json(raw)
        except (ValueError, TypeError) as exc:
            raise self._corrupted(exc) from None
        redact.register(creds.refresh_token)
        return creds

    def _corrupted(self, exc: Exception) -> ConfigError:
        if self.backup_path.exists():
            hint = (
                f"a backup of the last good file is kept at {self.backup_path}: restore it "
                f"with `cp {self.backup_path} {self.path}` or run `oaa-concur auth exchange`"
            )
        else:
            hint = "delete it and run `oaa-concur auth exchange` (no backup exists)"
        reason = type(exc).__name__ if "token" in str(exc).lower() else str(exc)
        return ConfigError(f"The credentials file {self.path} is corrupted ({reason})", hint)

    def save(self, creds: StoredCredentials) -> None:
        """Write atomically (temp file, fsync, rename), then mirror the new file into the backup.

        The backup holds the newest good file, not the one before it: with rotation the
        previous refresh token is already dead, so only a copy of the current one can be
        restored after the file is corrupted. A corrupted file is never copied (load refuses).
        """
        redact.register(creds.refresh_token)
        ensure_private_dir(self.state_dir)
        data = creds.to_json()
        write_private(self.path, data)
        write_private(self.backup_path, data)

    def resolve(self, env_token: str | None) -> tuple[str, StoredCredentials | None, str]:
        """Pick the refresh token to use: (token, stored or None, seed fingerprint for saves).

        The stored record is returned only when its token is the one chosen, so its
        geolocation can be trusted for the first refresh.
        """
        stored = self.load()
        if env_token:
            redact.register(env_token)
        if stored is not None and (
            env_token is None
            or fingerprint(env_token) == stored.seed_fingerprint
            or env_token == stored.refresh_token
        ):
            return (
                stored.refresh_token,
                stored,
                stored.seed_fingerprint or fingerprint(stored.refresh_token),
            )
        if env_token:
            if stored is not None:
                LOG.info(
                    "CONCUR_REFRESH_TOKEN differs from the token %s was seeded from: "
                    "using the new token",
                    self.path,
                )
            return env_token, None, fingerprint(env_token)
        raise ConfigError(
            "No Concur refresh token: CONCUR_REFRESH_TOKEN is not set and there is no "
            f"credentials file at {self.path}",
            "run `oaa-concur auth exchange --company-uuid UUID` or set CONCUR_REFRESH_TOKEN",
        )
