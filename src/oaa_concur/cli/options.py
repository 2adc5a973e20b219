"""The options every command shares (design.md §2.1), and what the CLI learns from them.

Commands decorate themselves with ``common_options`` and turn what they received into
``Settings`` with ``settings_from``, which also sets up logging and remembers the verbosity on
click's context, so that the root group can decide from the *parsed* options (``-v``,
``-vv``, ``--verbose``) whether an internal error shows its traceback.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from oaa_concur.cli.logs import LOG, setup_logging
from oaa_concur.config import LOG_FORMATS, Settings, resolve_settings, watched
from oaa_concur.errors import ConfigError
from oaa_concur.runtime import DEFAULT, Runtime

if TYPE_CHECKING:
    from oaa_concur.review.snapshot import SnapshotStore

F = TypeVar("F", bound=Callable[..., Any])
_VERBOSITY = "oaa_concur.verbosity"
_LOG_FORMAT = "oaa_concur.log_format"

_COMMON = [
    click.option(
        "--config",
        "config_path",
        type=click.Path(path_type=Path),
        default=None,
        help="TOML config file (no secrets allowed in it).",
    ),
    click.option(
        "--state-dir",
        type=click.Path(path_type=Path),
        default=None,
        help="State directory (credentials, snapshots, lock). Env OAA_CONCUR_STATE_DIR.",
    ),
    click.option(
        "--concur-url", default=None, help="Host for the first token request. Env CONCUR_URL."
    ),
    click.option("--veza-url", default=None, help="Veza tenant URL. Env VEZA_URL."),
    click.option("--provider-name", default=None, help="Veza provider name (default Concur)."),
    click.option(
        "--data-source-name",
        default=None,
        help="Veza data source name (default 'Concur - <company UUID>').",
    ),
    click.option(
        "--concurrency", type=int, default=None, help="Parallel Concur requests (default 8)."
    ),
    click.option(
        "--trust-host",
        "trusted_hosts",
        multiple=True,
        metavar="HOST",
        help="Also trust this Concur host (repeatable). Env OAA_CONCUR_TRUSTED_HOSTS.",
    ),
    click.option(
        "--ca-bundle",
        type=click.Path(path_type=Path),
        default=None,
        help="PEM file of CA certificates to trust (private CA, TLS proxy).",
    ),
    click.option("--log-format", type=click.Choice(LOG_FORMATS), default=None),
    click.option("-v", "--verbose", count=True, help="More logging (-vv includes HTTP)."),
    click.option("--quiet", is_flag=True, default=None, help="Warnings and errors only."),
]
_COMMON_NAMES = frozenset(
    {
        "config_path",
        "state_dir",
        "concur_url",
        "veza_url",
        "provider_name",
        "data_source_name",
        "concurrency",
        "trusted_hosts",
        "ca_bundle",
        "log_format",
        "verbose",
        "quiet",
    }
)


def common_options(func: F) -> F:
    """Add the common options (design.md §2.1) to a command; ``settings_from`` reads them."""
    for option in reversed(_COMMON):
        func = option(func)
    return func


def settings_from(kwargs: dict[str, Any], **overrides: Any) -> Settings:
    """Pop the common options out of ``kwargs`` and resolve them into ``Settings``.

    ``overrides`` are command-specific settings (``allow_shrink=...``); None means "not given".
    The verbosity is remembered before anything can fail, then logging is set up.
    """
    cli_values = {k: kwargs.pop(k) for k in list(kwargs) if k in _COMMON_NAMES}
    cli_values.update(overrides)
    config_path = cli_values.pop("config_path", None)
    remember_verbosity(cli_values.get("verbose") or 0)
    remember_log_format(cli_values.get("log_format") or "text")
    if not cli_values.get("verbose"):
        cli_values.pop("verbose", None)
    settings = resolve_settings(cli_values, config_path=config_path)
    remember_verbosity(settings.verbose)
    remember_log_format(settings.log_format)
    setup_logging(verbosity=settings.verbose, quiet=settings.quiet, log_format=settings.log_format)
    for name, value in watched(settings):
        LOG.info("the config file %s sets %s = %r", config_path, name, value)
    return settings


def remember_verbosity(verbosity: int) -> None:
    """Note the command's verbosity for the root group's error handler (``verbosity``)."""
    click.get_current_context().meta[_VERBOSITY] = verbosity


def remember_log_format(log_format: str) -> None:
    """Note the log format for the root group: in JSON mode its error line is JSON too."""
    click.get_current_context().meta[_LOG_FORMAT] = log_format


def json_mode(ctx: click.Context) -> bool:
    """Whether the running command asked for JSON lines (``--log-format json``, its
    environment or config file), as far as it got before failing."""
    return ctx.meta.get(_LOG_FORMAT) == "json"


def verbosity(ctx: click.Context) -> int:
    """The verbosity the running command was given: 0 until it parsed its options."""
    value = ctx.meta.get(_VERBOSITY, 0)
    return value if isinstance(value, int) else 0


def runtime_of() -> Runtime:
    """The injected effects: ``obj=Runtime(...)`` of click's test runner, else the defaults."""
    obj = click.get_current_context().find_root().obj
    return obj if isinstance(obj, Runtime) else DEFAULT


def as_of_time(text: str | None) -> datetime:
    """``--as-of``: an ISO date or datetime (UTC when no offset); default now."""
    if text is None:
        return datetime.now(UTC)
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise ConfigError(
            f"--as-of {text!r} is not an ISO date or datetime",
            "use e.g. 2025-06-30 or 2025-06-30T12:00:00+00:00",
        ) from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def text_or_json(what: str) -> Callable[[F], F]:
    """``--format text|json`` (default text) of the commands with a machine-readable answer;
    ``what`` says what the JSON holds."""
    return click.option(
        "--format",
        "fmt",
        type=click.Choice(("text", "json")),
        default="text",
        show_default=True,
        help=f"json: {what}.",
    )


def open_store(settings: Settings) -> SnapshotStore:
    """The state directory's snapshot store; a state directory that is a file is one
    sentence (imported here: the commands without a store do not load it)."""
    from oaa_concur.review.snapshot import SnapshotStore

    if settings.state_dir.exists() and not settings.state_dir.is_dir():
        raise ConfigError(
            f"{settings.state_dir} is not a directory",
            "point OAA_CONCUR_STATE_DIR or --state-dir at a directory",
        )
    return SnapshotStore(settings.state_dir, retention=settings.retention)
