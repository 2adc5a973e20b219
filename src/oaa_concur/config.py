"""Settings: command-line option > environment variable > config file (TOML) > default.

Secrets (client secret, refresh token, request token, Veza API key) come only from the
environment or the credentials file; a config file that holds one is refused, so that a
TOML file checked into a repository can never carry a credential (design.md §2.2).
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Literal, get_args

from oaa_concur import redact
from oaa_concur.errors import ConfigError

# "All third-party partners making access token requests are required to use
# https://glz.api.concursolutions.com/oauth2/v0/token" (API release notes 2025-01-09,
# tools-support/release-notes/api/2025-01-09.md). Every later call goes to the geolocation.
DEFAULT_CONCUR_URL = "https://glz.api.concursolutions.com"
DEFAULT_CONCURRENCY = 8
LogFormat = Literal["text", "json"]
LOG_FORMATS: tuple[LogFormat, ...] = get_args(LogFormat)


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
    retention: int | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)


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
}


def default_state_dir(env: Mapping[str, str]) -> Path:
    xdg = env.get("XDG_STATE_HOME")
    base = Path(xdg) if xdg else Path.home() / ".local" / "state"
    return base / "oaa-concur"


def read_config_file(path: Path) -> dict[str, Any]:
    """Parse a TOML config file into option names (``-`` and ``_`` both accepted)."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(
            f"The config file {path} does not exist", "check the --config path"
        ) from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(
            f"The config file {path} is not valid TOML ({exc})", "fix the syntax and run again"
        ) from None
    except OSError as exc:
        raise ConfigError(f"The config file {path} cannot be read ({exc.strerror})") from None
    section = data.get("oaa-concur", data.get("oaa_concur", data))
    if not isinstance(section, dict):
        raise ConfigError(f"The config file {path} must hold a table of settings")
    result = {str(k).replace("-", "_"): v for k, v in section.items()}
    leaked = [key for key in result if redact.is_secret_name(key)]
    if leaked:
        raise ConfigError(
            f"The config file {path} holds a secret ({', '.join(sorted(leaked))})",
            "remove it and pass secrets through the environment (CONCUR_CLIENT_SECRET, "
            "VEZA_API_KEY) or `oaa-concur auth exchange` instead",
        )
    return result


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
    for key, var in _ENV.items():
        if env.get(var):
            layered[key] = env[var]
    layered.update({k: v for k, v in cli.items() if v is not None})
    known = {f.name for f in fields(Settings)}
    unknown = sorted(set(layered) - known)
    extra = {k: layered.pop(k) for k in unknown}
    layered.setdefault("state_dir", default_state_dir(env))
    return _coerce(layered, extra)


def _coerce(values: dict[str, Any], extra: dict[str, Any]) -> Settings:
    try:
        values["state_dir"] = Path(values["state_dir"]).expanduser()
        if values.get("ca_bundle") is not None:
            values["ca_bundle"] = Path(values["ca_bundle"]).expanduser()
        for key in ("concurrency", "retention", "verbose"):
            if values.get(key) is not None:
                values[key] = int(values[key])
        for key in ("max_shrink", "timeout_s"):
            if values.get(key) is not None:
                values[key] = float(values[key])
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"A setting has the wrong type ({exc})", "check its value") from None
    if values.get("concurrency", 8) < 1:
        raise ConfigError("--concurrency must be at least 1")
    if values.get("log_format", "text") not in LOG_FORMATS:
        raise ConfigError("--log-format must be text or json")
    if not 0 <= values.get("max_shrink", 0.1) <= 1:
        raise ConfigError("max_shrink must be a fraction between 0 and 1 (0.10 = 10 %)")
    return Settings(**values, extra=extra)
