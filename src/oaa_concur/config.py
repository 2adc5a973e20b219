"""Settings: command-line option > environment variable > config file (TOML) > default.

Secrets (client secret, refresh token, request token, Veza API key) come only from the
environment or the credentials file; a config file that holds one is refused, so that a
TOML file checked into a repository can never carry a credential (design.md §2.2).
"""

from __future__ import annotations

import difflib
import math
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, Literal, get_args

from oaa_concur import redact
from oaa_concur.errors import ConfigError
from oaa_concur.safetext import one_line

# "All third-party partners making access token requests are required to use
# https://glz.api.concursolutions.com/oauth2/v0/token" (API release notes 2025-01-09,
# tools-support/release-notes/api/2025-01-09.md). Every later call goes to the geolocation.
DEFAULT_CONCUR_URL = "https://glz.api.concursolutions.com"
DEFAULT_CONCURRENCY = 8
DEFAULT_RETENTION = 30
"""Snapshots kept by default (the newest 30, and always the last pushed one: the shrink guard's
baseline). About 38 MB each at 50,000 users; 0 keeps every snapshot."""
LogFormat = Literal["text", "json"]
LOG_FORMATS: tuple[LogFormat, ...] = get_args(LogFormat)


MIB = 1024 * 1024
DEFAULT_MAX_RESPONSE_BYTES = 64 * MIB
"""A Concur page of 1,000 Identity users with every attribute is 2-4 MB: 64 MiB is generous."""
DEFAULT_REQUEST_DEADLINE_S = 120.0
"""Wall-clock limit of one request, body included (httpx's timeouts are per read)."""
DEFAULT_MAX_RECORDS = 2_000_000
"""Records one listing may report or return: twice the largest tenant we target (design.md §6:
1,000,000 users), so even a never-ending cursor of full pages stays within twice the memory of
that tenant; a larger company raises it."""


@dataclass(frozen=True)
class Settings:
    """Non-secret settings, resolved once per command."""

    state_dir: Path
    concur_url: str = DEFAULT_CONCUR_URL
    veza_url: str | None = None
    provider_name: str = "Concur"
    data_source_name: str | None = None
    concurrency: int = DEFAULT_CONCURRENCY
    log_format: LogFormat = "text"
    verbose: int = 0
    quiet: bool = False
    ca_bundle: Path | None = None
    allow_shrink: bool = False
    max_shrink: float = 0.10
    timeout_s: float = 60.0
    retention: int = DEFAULT_RETENTION
    """Complete snapshots to keep (the last pushed one is kept besides); 0: keep all."""
    trusted_hosts: tuple[str, ...] = ()
    """Concur hosts trusted besides the documented ones and CONCUR_URL's (design.md §3.1)."""
    max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES
    request_deadline_s: float = DEFAULT_REQUEST_DEADLINE_S
    run_deadline_s: float | None = None
    """Wall-clock limit of all Concur requests of one run; None: no limit but the others."""
    max_records: int = DEFAULT_MAX_RECORDS
    from_config: tuple[str, ...] = ()
    """The settings whose value came from the config file (logged at INFO, ``watched``)."""


@dataclass(frozen=True)
class Secrets:
    """Secrets from the environment only. Each is registered with ``redact`` by the caller."""

    client_id: str | None
    client_secret: str | None
    refresh_token: str | None
    request_token: str | None
    veza_api_key: str | None

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Secrets:
        env = os.environ if env is None else env
        return cls(
            client_id=env.get("CONCUR_CLIENT_ID") or None,
            client_secret=env.get("CONCUR_CLIENT_SECRET") or None,
            refresh_token=env.get("CONCUR_REFRESH_TOKEN") or None,
            request_token=env.get("CONCUR_REQUEST_TOKEN") or None,
            veza_api_key=env.get("VEZA_API_KEY") or None,
        )

    def register(self) -> Secrets:
        """Tell ``oaa_concur.redact`` about every secret so no log or error can show it."""
        for value in (
            self.client_secret,
            self.refresh_token,
            self.request_token,
            self.veza_api_key,
        ):
            redact.register(value)
        return self


_ENV = {
    "concur_url": "CONCUR_URL",
    "veza_url": "VEZA_URL",
    "state_dir": "OAA_CONCUR_STATE_DIR",
    "trusted_hosts": "OAA_CONCUR_TRUSTED_HOSTS",
}

_TEXT, _INT, _NUMBER, _BOOL, _LIST = (str,), (int,), (int, float), (bool,), (list,)
FILE_KEYS: dict[str, tuple[type, ...]] = {
    "state_dir": _TEXT,
    "concur_url": _TEXT,
    "veza_url": _TEXT,
    "provider_name": _TEXT,
    "data_source_name": _TEXT,
    "concurrency": _INT,
    "log_format": _TEXT,
    "verbose": _INT,
    "quiet": _BOOL,
    "ca_bundle": _TEXT,
    "allow_shrink": _BOOL,
    "max_shrink": _NUMBER,
    "timeout_s": _NUMBER,
    "retention": _INT,
    "trusted_hosts": _LIST,
    "max_response_bytes": _INT,
    "request_deadline_s": _NUMBER,
    "run_deadline_s": _NUMBER,
    "max_records": _INT,
}
"""What a config file may set, with the TOML types each key accepts."""
_TYPE_NAMES = {_TEXT: "a string", _INT: "an integer", _NUMBER: "a number", _BOOL: "true or false"}
_TYPE_NAMES[_LIST] = "a list of strings"
WATCHED = (
    "state_dir",
    "concur_url",
    "veza_url",
    "trusted_hosts",
    "ca_bundle",
    "allow_shrink",
    "max_shrink",
    "timeout_s",
    "request_deadline_s",
    "run_deadline_s",
)
"""Settings that decide where secrets come from or go, what is trusted or how long a run may
take: when a config file sets one, the run says so at INFO (``watched``)."""
_SECRET_KEY = re.compile(
    r"secret|token|passw(?:or)?d|passphrase|api_?key|credential|private_?key|authorization|bearer"
)
_TABLES = ("oaa-concur", "oaa_concur")


def default_state_dir(env: Mapping[str, str]) -> Path:
    xdg = env.get("XDG_STATE_HOME")
    base = Path(xdg) if xdg else Path.home() / ".local" / "state"
    return base / "oaa-concur"


def _key(name: object) -> str:
    return str(name).replace("-", "_").lower()


def _spelled(name: str) -> str:
    return name.replace("_", "-")


def _parse_toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(
            f"The config file {path} does not exist", "check the --config path"
        ) from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(
            f"The config file {path} is not valid TOML ({one_line(str(exc))})",
            "fix the syntax and run again",
        ) from None
    except OSError as exc:
        raise ConfigError(f"The config file {path} cannot be read ({exc.strerror})") from None


def secret_keys(data: Any, prefix: str = "") -> list[str]:
    """Every key, at any depth (tables, arrays of tables), whose name looks like a secret."""
    found: list[str] = []
    items = data.items() if isinstance(data, dict) else enumerate(data)
    for name, value in items:
        where = f"{prefix}.{name}" if prefix else str(name)
        if isinstance(name, str) and (
            redact.is_secret_name(name) or _SECRET_KEY.search(_key(name))
        ):
            found.append(where)
        if isinstance(value, dict | list):
            found.extend(secret_keys(value, where))
    return found


def _settings_table(data: dict[str, Any], path: Path) -> dict[str, Any]:
    """The ``[oaa-concur]`` table if there is one (then nothing else may be in the file)."""
    names = [name for name in _TABLES if name in data]
    if not names:
        return data
    section = data[names[0]]
    if not isinstance(section, dict):
        raise ConfigError(f"The config file {path} must hold a table of settings")
    others = sorted(set(data) - {names[0]})
    if others:
        raise ConfigError(
            f"The config file {path} has {others[0]!r} outside the [{names[0]}] table",
            "move every setting into that table",
        )
    return section


def _check_key(name: str, value: Any, path: Path) -> None:
    key = _key(name)
    if key not in FILE_KEYS:
        near = difflib.get_close_matches(key, FILE_KEYS, n=1)
        hint = f"did you mean {_spelled(near[0])!r}?" if near else "see the README for the keys"
        if isinstance(value, dict):  # e.g. [concur]: a table nothing reads
            raise ConfigError(
                f"The config file {path} has an unknown table [{name}]",
                f"settings go at the top level or in an [oaa-concur] table; {hint}",
            )
        raise ConfigError(f"The config file {path} has an unknown setting {name!r}", hint)
    wanted = FILE_KEYS[key]
    ok = isinstance(value, wanted) and not (isinstance(value, bool) and bool not in wanted)
    if ok and wanted is _LIST:
        ok = all(isinstance(item, str) for item in value)
    if not ok:
        raise ConfigError(
            f"The config file {path} sets {name!r} to a {_toml_type(value)}, "
            f"but it must be {_TYPE_NAMES[wanted]}",
            "fix its value",
        )


def _toml_type(value: Any) -> str:
    names = {bool: "boolean", int: "integer", float: "float", str: "string", list: "list"}
    return "table" if isinstance(value, dict) else names.get(type(value), type(value).__name__)


def read_config_file(path: Path) -> dict[str, Any]:
    """Parse a TOML config file into setting names (``-`` and ``_`` both accepted).

    Refused: a key that looks like a secret anywhere in the file (design.md §2.2), an unknown
    key (named, with the nearest known one), a value of the wrong type (named).
    """
    data = _parse_toml(path)
    leaked = secret_keys(data)
    if leaked:
        raise ConfigError(
            f"The config file {path} holds a secret ({', '.join(sorted(leaked))})",
            "remove it and pass secrets through the environment (CONCUR_CLIENT_SECRET, "
            "VEZA_API_KEY) or `oaa-concur auth exchange` instead",
        )
    section = _settings_table(data, path)
    for name, value in section.items():
        _check_key(str(name), value, path)
    return {_key(name): value for name, value in section.items()}


def watched(settings: Settings) -> list[tuple[str, Any]]:
    """The ``WATCHED`` settings the config file set, with their values (for the INFO log)."""
    return [
        (_spelled(name), getattr(settings, name))
        for name in WATCHED
        if name in settings.from_config
    ]


def resolve_settings(
    cli: Mapping[str, Any],
    env: Mapping[str, str] | None = None,
    config_path: Path | None = None,
) -> Settings:
    """Merge the layers. ``cli`` holds only options the user actually gave (no defaults)."""
    env = os.environ if env is None else env
    layered: dict[str, Any] = {}
    if config_path is not None:
        layered.update(read_config_file(config_path))
    from_file = set(layered)
    for key, var in _ENV.items():
        if env.get(var):
            layered[key] = env[var]
            from_file.discard(key)
    given = {k: v for k, v in cli.items() if v is not None and v != ()}
    layered.update(given)
    from_file -= set(given)
    unknown = sorted(set(layered) - {f.name for f in fields(Settings)})
    if unknown:
        raise ConfigError(f"Unknown setting {unknown[0]!r}")  # a bug of the caller, not the user's
    layered.setdefault("state_dir", default_state_dir(env))
    layered["from_config"] = tuple(sorted(from_file))
    return _coerce(layered)


def _hosts(value: Any) -> tuple[str, ...]:
    """Host names from a list (config file, options) or a string (``,`` or space separated)."""
    items = value.replace(",", " ").split() if isinstance(value, str) else value
    return tuple(str(item).strip() for item in items if str(item).strip())


_INTS = ("concurrency", "retention", "verbose", "max_response_bytes", "max_records")
_FLOATS = ("max_shrink", "timeout_s", "request_deadline_s", "run_deadline_s")


def _convert(values: dict[str, Any]) -> None:
    """Turn option and environment strings into the settings' types; the key in the error."""
    converters: dict[str, Any] = {"state_dir": Path, "ca_bundle": Path, "trusted_hosts": _hosts}
    converters.update(dict.fromkeys(_INTS, int))
    converters.update(dict.fromkeys(_FLOATS, float))
    for key, convert in converters.items():
        if values.get(key) is None:
            continue
        try:
            values[key] = convert(values[key])
        except (TypeError, ValueError):
            raise ConfigError(
                f"The setting {_spelled(key)} has the wrong type ({values[key]!r})",
                "check its value",
            ) from None
    for key in ("state_dir", "ca_bundle"):
        if values.get(key) is not None:
            values[key] = values[key].expanduser()


def _positive(values: dict[str, Any], key: str) -> None:
    value = values.get(key)
    if value is not None and not (math.isfinite(value) and value > 0):
        raise ConfigError(f"The setting {_spelled(key)} must be a positive number ({value!r})")


def _coerce(values: dict[str, Any]) -> Settings:
    _convert(values)
    if values.get("concurrency", 8) < 1:
        raise ConfigError("--concurrency must be at least 1")
    if values.get("log_format", "text") not in LOG_FORMATS:
        raise ConfigError("--log-format must be text or json")
    if values.get("retention", DEFAULT_RETENTION) < 0:
        raise ConfigError(
            "--retention must be 0 (keep every snapshot) or more", "give a number of snapshots"
        )
    if not 0 <= values.get("max_shrink", 0.1) <= 1:
        raise ConfigError("max_shrink must be a fraction between 0 and 1 (0.10 = 10 %)")
    for key in ("timeout_s", "request_deadline_s", "run_deadline_s", *_INTS[3:]):
        _positive(values, key)
    return Settings(**values)
