"""The command line: a thin layer that parses options, resolves settings and calls the library.

Each command group lives in its own module (``cli.auth``, ``cli.check``, ``cli.discover``,
``cli.review``, ``cli.query``, ``cli.simulator``, ``cli.demo``) and is registered on the root
group here; the options they share live in ``cli.options``, which imports nothing from this
package. Every ``OaaConcurError`` becomes one redacted sentence on stderr and its exit code
(design.md §2.3, ``errors.ExitCode``), on one line without control characters whatever Concur
put in it (``safetext.one_line``); in JSON mode that line is a JSON record (``cli.output``), and
so is a usage error when ``--log-format json`` was on the command line. Anything else becomes a
short "internal error" line, with the traceback when the command was given ``-v`` or more.
"""

from __future__ import annotations

import logging
import os
import sys
from typing import Any, NoReturn

import click

from oaa_concur.cli.options import json_mode, verbosity
from oaa_concur.cli.output import error_line
from oaa_concur.errors import ExitCode, OaaConcurError

_RAW_ARGS = "oaa_concur.raw_args"


def fail(error: BaseException, *, verbose: bool = False, as_json: bool = False) -> NoReturn:
    """Print the one-line reason on stderr and exit with the error's code."""
    if isinstance(error, OaaConcurError):
        error_line(
            str(error),
            error.exit_code,
            json_mode=as_json,
            error=type(error).__name__,
            hint=error.hint,
        )
        sys.exit(error.exit_code)
    if verbose:
        logging.getLogger("oaa_concur").exception("internal error")
    error_line(
        f"internal error ({type(error).__name__}: {error}); run again with -v and report it.",
        ExitCode.FAILED,
        json_mode=as_json,
        error=type(error).__name__,
    )
    sys.exit(ExitCode.FAILED)


def _json_asked(ctx: click.Context) -> bool:
    """JSON mode as resolved, else as written on the command line (before it was parsed)."""
    if json_mode(ctx):
        return True
    args = [str(a) for a in ctx.meta.get(_RAW_ARGS, ())]
    pairs = zip(args, [*args[1:], ""], strict=True)
    return "--log-format=json" in args or ("--log-format", "json") in pairs


class Root(click.Group):
    """Turns library errors into one line and an exit code for every subcommand."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        ctx.meta[_RAW_ARGS] = tuple(args)
        return super().parse_args(ctx, args)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except click.exceptions.Exit:
            raise
        except click.ClickException as exc:
            if not _json_asked(ctx):
                raise
            error_line(exc.format_message(), exc.exit_code, json_mode=True, error="UsageError")
            sys.exit(exc.exit_code)
        except BrokenPipeError:
            # the reader went away (``oaa-concur who-can ... | head``): nothing is wrong, and
            # the interpreter must not complain again when it flushes stdout at exit
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            sys.exit(ExitCode.OK)
        except (KeyboardInterrupt, click.exceptions.Abort):
            error_line(
                "interrupted; nothing was pushed.",
                ExitCode.INTERRUPTED,
                json_mode=_json_asked(ctx),
                error="Interrupted",
            )
            sys.exit(ExitCode.INTERRUPTED)
        except Exception as exc:
            fail(exc, verbose=verbosity(ctx) >= 1, as_json=_json_asked(ctx))


@click.group(cls=Root, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="oaa-concur")
def main() -> None:
    """Discover who can do what in SAP Concur and publish it to Veza."""


def _register() -> None:
    from oaa_concur.cli import auth, check, demo, discover, query, review, simulator

    for module in (auth, check, demo, discover, query, review, simulator):
        module.register(main)


_register()
