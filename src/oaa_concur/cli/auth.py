"""CLI commands ``auth exchange`` and ``auth check``: set up and verify the Concur credentials.

Parse, call ``concur.session``, print: the wiring and the token logic live in the library.
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from typing import Any

import click

from oaa_concur.cli.options import common_options, runtime_of, settings_from, text_or_json
from oaa_concur.concur.auth import client_credentials
from oaa_concur.concur.scopes import REQUIRED_SCOPES, ScopeReport
from oaa_concur.concur.session import TokenStatus, check_refresh_token, exchange_request_token
from oaa_concur.config import Secrets
from oaa_concur.errors import ConfigError, ExitCode
from oaa_concur.preflight import expiry_result
from oaa_concur.redact import register as register_secret
from oaa_concur.safetext import one_line


def _expiry(epoch: int | None, now: float) -> str:
    if epoch is None:
        return "unknown (Concur did not say)"
    days = (epoch - now) / 86400
    when = datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%d %H:%M UTC")
    return f"{when} (in {days:.0f} days)"


def _print_scopes(report: ScopeReport) -> None:
    """One line per required scope: granted, or MISSING with its cost."""
    for scope in REQUIRED_SCOPES:
        if scope in report.missing:
            click.echo(f"  {scope:36} MISSING: {report.missing[scope]}")
        else:
            click.echo(f"  {scope:36} granted")
    if report.extra:
        click.echo(f"  also granted: {' '.join(report.extra)}")


def _summary(status: TokenStatus, now: float) -> None:
    """What the token answer said; its strings are Concur's, so stripped of control chars."""
    click.echo(f"geolocation:          {status.geolocation}")
    click.echo(one_line(f"company UUID:         {status.company_uuid or 'unknown'}"))
    click.echo(f"refresh token expiry: {_expiry(status.refresh_expires_at, now)}")
    click.echo(f"credentials file:     {status.credentials_path}")
    click.echo("scopes:")
    _print_scopes(ScopeReport.of(tuple(one_line(scope) for scope in status.scopes)))


def _read_request_token() -> str:
    """At a terminal: a hidden prompt. Otherwise one line from stdin (``printf %s "$T" |``),
    never a prompt that cannot hide what is typed (``GetPassWarning``) or waits for nobody."""
    if sys.stdin.isatty():
        typed = click.prompt(
            "Company Request Token", hide_input=True, default="", show_default=False
        )
        return str(typed)
    return sys.stdin.readline()


def _request_token(secrets: Secrets) -> str:
    token = (secrets.request_token or _read_request_token()).strip()
    if not token:
        raise ConfigError(
            "No Company Request Token was given",
            "set CONCUR_REQUEST_TOKEN, pipe the token on stdin or type it at a terminal",
        )
    register_secret(token)
    return token


def verdict(report: ScopeReport) -> str:
    """The one outcome of a working refresh: the credentials work, and the scopes are all
    there, or which are missing and what each costs."""
    if report.verdict == "ok":
        return f"The Concur credentials work and {report.sentence()}."
    return f"The Concur credentials work, but {report.sentence()}: {report.hint()}."


def check_document(status: TokenStatus, report: ScopeReport, now: float) -> dict[str, object]:
    """``auth check --format json``: one object with everything the text shows."""
    expiry = expiry_result(status.refresh_expires_at, now)
    code = ExitCode.CONFIG if report.verdict == "fail" else ExitCode.OK
    worst = "warn" if expiry.status == "warn" and report.verdict == "ok" else report.verdict
    return {
        "status": worst,
        "exit_code": int(code),
        "outcome": code.outcome,
        "message": verdict(report),
        "geolocation": status.geolocation,
        "company_uuid": status.company_uuid,
        "credentials_file": str(status.credentials_path),
        "refresh_token": {"status": expiry.status, "message": expiry.sentence, **expiry.facts},
        "scopes": {
            "required": list(REQUIRED_SCOPES),
            "granted": list(report.granted),
            "missing": dict(report.missing),
            "extra": list(report.extra),
        },
    }


def _tell(status: TokenStatus, now: float, fmt: str) -> None:
    """Print the check (text or one JSON line); a missing Spend scope is exit 2, else 0."""
    report = ScopeReport.of(tuple(one_line(scope) for scope in status.scopes))
    if fmt == "json":
        click.echo(json.dumps(check_document(status, report, now), ensure_ascii=False))
    else:
        _summary(status, now)
        expiry = expiry_result(status.refresh_expires_at, now)
        if expiry.status == "warn":
            click.echo(f"warning: {expiry.sentence}: {expiry.hint}.")
    error = report.error()
    if error is not None:  # stderr, last: the one sentence of a failed check
        raise ConfigError(f"The Concur credentials work, but {error.message}", error.hint)
    if fmt != "json":
        click.echo(verdict(report))


def register_commands(group: click.Group) -> None:
    @group.command("exchange")
    @click.option("--company-uuid", required=True, help="Company UUID shown with the token.")
    @click.option(
        "--print-refresh-token",
        is_flag=True,
        default=False,
        help="Also print the refresh token (it is always stored in the state dir).",
    )
    @common_options
    def exchange(company_uuid: str, print_refresh_token: bool, **kwargs: Any) -> None:
        """Exchange a Company Request Token (valid 24 h) for a stored refresh token.

        The token comes from CONCUR_REQUEST_TOKEN, else a hidden prompt at a terminal, else
        one line on stdin."""
        settings = settings_from(kwargs)
        secrets = Secrets.from_env().register()
        client_credentials(secrets)  # say what is missing before prompting for the token
        token = _request_token(secrets)
        runtime = runtime_of()
        status = exchange_request_token(settings, secrets, company_uuid.strip(), token, runtime)
        click.echo("exchange succeeded; the refresh token is stored.")
        _summary(status, runtime.clock())
        report = ScopeReport.of(status.scopes)
        if report.verdict != "ok":
            click.echo(f"warning: {report.sentence()}: {report.hint()}.")
        if print_refresh_token:
            click.echo(f"refresh token:        {status.refresh_token}")

    @group.command("check")
    @text_or_json("one JSON object on one line")
    @common_options
    def check(fmt: str, **kwargs: Any) -> None:
        """Refresh once; show geolocation, company, scopes (what each missing one costs) and
        refresh-token expiry. Exit 0 when the credentials work (missing scopes other than
        Spend are warnings), 2 without the Spend scope, 1 when the refresh fails."""
        settings = settings_from(kwargs)
        runtime = runtime_of()
        status = check_refresh_token(settings, Secrets.from_env().register(), runtime)
        _tell(status, runtime.clock(), fmt)


def register(root: click.Group) -> None:
    @root.group("auth")
    def auth() -> None:
        """Set up (exchange) and verify (check) the Concur credentials."""

    register_commands(auth)
