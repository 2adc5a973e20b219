"""The command line: a thin layer that parses options, resolves settings and calls the library.

Each command group lives in its own module (``cli.auth``, ``cli.discover``, ``cli.review``,
``cli.query``, ``cli.simulator``, ``cli.demo``) and is registered on the root group here; the
options they share live in ``cli.options``, which imports nothing from this package. Every
``OaaConcurError`` becomes one redacted sentence on stderr and its exit code (design.md §2.3),
on one line without control characters whatever Concur put in it (``safetext.one_line``);
anything else becomes a short "internal error" line, with the traceback when the command was
given ``-v`` or more.
"""

from __future__ import annotations

import logging
import sys
from typing import Any

import click

from oaa_concur.cli.options import verbosity
from oaa_concur.errors import OaaConcurError
from oaa_concur.redact import redact
from oaa_concur.safetext import one_line


def fail(error: BaseException, *, verbose: bool = False) -> None:
    """Print the one-line reason on stderr and exit with the error's code."""
    if isinstance(error, OaaConcurError):
        click.echo(_sentence(f"error: {error}"), err=True)
        sys.exit(error.exit_code)
    if verbose:
        logging.getLogger("oaa_concur").exception("internal error")
    click.echo(
        _sentence(
            f"error: internal error ({type(error).__name__}: {error}); "
            "run again with -v and report it."
        ),
        err=True,
    )
    sys.exit(1)


def _sentence(text: str) -> str:
    return redact(one_line(text))


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
            fail(exc, verbose=verbosity(ctx) >= 1)
            raise  # unreachable: fail() exits


@click.group(cls=Root, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="oaa-concur")
def main() -> None:
    """Discover who can do what in SAP Concur and publish it to Veza."""


def _register() -> None:
    from oaa_concur.cli import auth, demo, discover, query, review, simulator

    for module in (auth, demo, discover, query, review, simulator):
        module.register(main)


_register()
