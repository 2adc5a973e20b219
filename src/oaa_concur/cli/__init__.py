"""The command line: a thin layer that parses options, resolves settings and calls the library.

Each command group lives in its own module (``cli.auth``, ``cli.discover``, ``cli.review``,
``cli.simulator``, ``cli.demo``) and is registered on the root group here. Every
``OaaConcurError`` becomes one redacted sentence on stderr and its exit code; anything else
becomes a short "internal error" line (the traceback only with -v).
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from oaa_concur.cli.logs import setup_logging
from oaa_concur.config import Settings, resolve_settings
from oaa_concur.errors import OaaConcurError
from oaa_concur.redact import redact
from oaa_concur.runtime import DEFAULT, Runtime

F = TypeVar("F", bound=Callable[..., Any])

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
        "--ca-bundle",
        type=click.Path(path_type=Path),
        default=None,
        help="PEM file of CA certificates to trust (private CA, TLS proxy).",
    ),
    click.option("--log-format", type=click.Choice(["text", "json"]), default=None),
    click.option("-v", "--verbose", count=True, help="More logging (-vv includes HTTP)."),
    click.option("--quiet", is_flag=True, default=None, help="Warnings and errors only."),
]
_COMMON_NAMES = {
    "config_path",
    "state_dir",
    "concur_url",
    "veza_url",
    "provider_name",
    "data_source_name",
    "concurrency",
    "ca_bundle",
    "log_format",
    "verbose",
    "quiet",
}


def common_options(func: F) -> F:
    """Add the common options (design.md §2.1) to a command; they arrive as ``settings``."""
    for option in reversed(_COMMON):
        func = option(func)
    return func


def settings_from(kwargs: dict[str, Any], **overrides: Any) -> Settings:
    """Pop the common options out of ``kwargs`` and resolve them into ``Settings``.

    ``overrides`` are command-specific settings (``allow_shrink=...``); None means "not given".
    """
    cli_values = {k: kwargs.pop(k) for k in list(kwargs) if k in _COMMON_NAMES}
    cli_values.update(overrides)
    config_path = cli_values.pop("config_path", None)
    if not cli_values.get("verbose"):
        cli_values.pop("verbose", None)
    settings = resolve_settings(cli_values, config_path=config_path)
    setup_logging(verbosity=settings.verbose, quiet=settings.quiet, log_format=settings.log_format)
    return settings


def runtime_of() -> Runtime:
    """The injected effects: ``obj=Runtime(...)`` of click's test runner, else the defaults."""
    obj = click.get_current_context().find_root().obj
    return obj if isinstance(obj, Runtime) else DEFAULT


def fail(error: BaseException, *, verbose: bool = False) -> None:
    """Print the one-line reason on stderr and exit with the error's code."""
    if isinstance(error, OaaConcurError):
        click.echo(redact(f"error: {error}"), err=True)
        sys.exit(error.exit_code)
    if verbose:
        logging.getLogger("oaa_concur").exception("internal error")
    click.echo(
        redact(
            f"error: internal error ({type(error).__name__}: {error}); "
            "run again with -v and report it."
        ),
        err=True,
    )
    sys.exit(1)


class Root(click.Group):
    """Turns library errors into one line and an exit code for every subcommand."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.exceptions.Abort, click.ClickException):
            raise
        except KeyboardInterrupt:
            click.echo("error: interrupted; nothing was pushed.", err=True)
            sys.exit(130)
        except Exception as exc:
            fail(exc, verbose="-v" in sys.argv or "--verbose" in sys.argv)
            raise  # unreachable: fail() exits


@click.group(cls=Root, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="oaa-concur")
def main() -> None:
    """Discover who can do what in SAP Concur and publish it to Veza."""


def _register() -> None:
    from oaa_concur.cli import auth, demo, discover, review, simulator

    for module in (auth, demo, discover, review, simulator):
        module.register(main)


_register()
