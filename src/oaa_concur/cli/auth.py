"""CLI commands ``auth exchange`` and ``auth check``: set up and verify the Concur credentials.

Parse, call ``concur.session``, print: the wiring and the token logic live in the library.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import click

from oaa_concur.cli.options import common_options, runtime_of, settings_from
from oaa_concur.concur.auth import client_credentials
from oaa_concur.concur.scopes import REQUIRED_SCOPES, missing_scopes, require_spend_scope
from oaa_concur.concur.session import TokenStatus, check_refresh_token, exchange_request_token
from oaa_concur.config import Secrets
from oaa_concur.errors import ConfigError
from oaa_concur.redact import register as register_secret
from oaa_concur.safetext import one_line


def _expiry(epoch: int | None, now: float) -> str:
    if epoch is None:
        return "unknown (Concur did not say)"
    days = (epoch - now) / 86400
    when = datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%d %H:%M UTC")
    return f"{when} (in {days:.0f} days)"


def _print_scopes(granted: tuple[str, ...]) -> None:
    """One line per required scope: granted, or MISSING with its cost."""
    missing = missing_scopes(granted)
    for scope in REQUIRED_SCOPES:
        if scope in missing:
            click.echo(f"  {scope:36} MISSING: {missing[scope]}")
        else:
            click.echo(f"  {scope:36} granted")
    extra = sorted(set(granted) - REQUIRED_SCOPES.keys())
    if extra:
        click.echo(f"  also granted: {' '.join(extra)}")


def _summary(status: TokenStatus, now: float) -> None:
    """What the token answer said; its strings are Concur's, so stripped of control chars."""
    click.echo(f"geolocation:          {status.geolocation}")
    click.echo(one_line(f"company UUID:         {status.company_uuid or 'unknown'}"))
    click.echo(f"refresh token expiry: {_expiry(status.refresh_expires_at, now)}")
    click.echo(f"credentials file:     {status.credentials_path}")
    click.echo("scopes:")
    _print_scopes(tuple(one_line(scope) for scope in status.scopes))


def _request_token(secrets: Secrets) -> str:
    token = secrets.request_token or click.prompt(
        "Company Request Token", hide_input=True, default="", show_default=False
    )
    token = token.strip()
    if not token:
        raise ConfigError(
            "No Company Request Token was given",
            "set CONCUR_REQUEST_TOKEN or type it at the prompt",
        )
    register_secret(token)
    return token


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
        """Exchange a Company Request Token (valid 24 h) for a stored refresh token."""
        settings = settings_from(kwargs)
        secrets = Secrets.from_env()
        client_credentials(secrets)  # say what is missing before prompting for the token
        token = _request_token(secrets)
        runtime = runtime_of()
        status = exchange_request_token(settings, secrets, company_uuid.strip(), token, runtime)
        click.echo("exchange succeeded; the refresh token is stored.")
        _summary(status, runtime.clock())
        if print_refresh_token:
            click.echo(f"refresh token:        {status.refresh_token}")

    @group.command("check")
    @common_options
    def check(**kwargs: Any) -> None:
        """Refresh once and show geolocation, company, scopes and refresh-token expiry."""
        settings = settings_from(kwargs)
        runtime = runtime_of()
        status = check_refresh_token(settings, Secrets.from_env(), runtime)
        click.echo("The Concur credentials work.")
        _summary(status, runtime.clock())
        require_spend_scope(status.scopes)
        missing = len(missing_scopes(status.scopes))
        if missing:
            click.echo(
                f"{missing} required scope(s) missing: ask SAP Concur to grant them to the app."
            )


def register(root: click.Group) -> None:
    @root.group("auth")
    def auth() -> None:
        """Set up (exchange) and verify (check) the Concur credentials."""

    register_commands(auth)
