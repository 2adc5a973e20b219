"""CLI commands ``auth exchange`` and ``auth check``: set up and verify the Concur credentials."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from typing import Any

import click

from oaa_concur.cli.options import common_options, settings_from
from oaa_concur.concur.auth import TokenGrant, TokenManager, client_credentials
from oaa_concur.concur.http import HttpClient
from oaa_concur.concur.scopes import REQUIRED_SCOPES, SPEND_SCOPE
from oaa_concur.config import Secrets, Settings
from oaa_concur.errors import ConcurError, ConfigError
from oaa_concur.models import RunStats
from oaa_concur.redact import register as register_secret
from oaa_concur.state.credentials import CredentialStore
from oaa_concur.state.lock import state_lock


async def _with_tokens(
    settings: Settings,
    secrets: Secrets,
    action: str,
    company_uuid: str | None = None,
    request_token: str | None = None,
) -> tuple[TokenGrant, TokenManager]:
    client_id, client_secret = client_credentials(secrets)
    http = HttpClient(
        RunStats(started_at=datetime.now(UTC)),
        timeout_s=settings.timeout_s,
        ca_bundle=settings.ca_bundle,
    )
    try:
        tokens = TokenManager(
            http,
            CredentialStore(settings.state_dir),
            client_id=client_id,
            client_secret=client_secret,
            landing_url=settings.concur_url,
        )
        if action == "exchange":
            assert company_uuid is not None and request_token is not None
            grant = await tokens.exchange(company_uuid, request_token)
        else:
            tokens.use_refresh_token(secrets.refresh_token)
            grant = await tokens.refresh()
        return grant, tokens
    finally:
        await http.aclose()


def _expiry(epoch: int | None) -> str:
    if epoch is None:
        return "unknown (Concur did not say)"
    days = (epoch - time.time()) / 86400
    when = datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%d %H:%M UTC")
    return f"{when} (in {days:.0f} days)"


def _print_scopes(granted: tuple[str, ...]) -> int:
    """One line per required scope: granted, or MISSING with its cost. Returns how many miss."""
    have = set(granted)
    missing = 0
    for scope, cost in REQUIRED_SCOPES.items():
        if scope in have:
            click.echo(f"  {scope:36} granted")
        else:
            missing += 1
            click.echo(f"  {scope:36} MISSING: {cost}")
    extra = sorted(have - REQUIRED_SCOPES.keys())
    if extra:
        click.echo(f"  also granted: {' '.join(extra)}")
    return missing


def _summary(grant: TokenGrant, tokens: TokenManager) -> int:
    company = grant.company_uuid or (tokens.stored.company_uuid if tokens.stored else None)
    click.echo(f"geolocation:          {tokens.geolocation}")
    click.echo(f"company UUID:         {company or 'unknown'}")
    expires = tokens.stored.refresh_expires_at if tokens.stored else None
    click.echo(f"refresh token expiry: {_expiry(expires)}")
    click.echo(f"credentials file:     {tokens.store.path}")
    click.echo("scopes:")
    return _print_scopes(grant.scopes)


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
        client_credentials(secrets)
        token = _request_token(secrets)
        with state_lock(settings.state_dir):
            grant, tokens = asyncio.run(
                _with_tokens(settings, secrets, "exchange", company_uuid.strip(), token)
            )
        click.echo("exchange succeeded; the refresh token is stored.")
        _summary(grant, tokens)
        if print_refresh_token and tokens.stored is not None:
            click.echo(f"refresh token:        {tokens.stored.refresh_token}")

    @group.command("check")
    @common_options
    def check(**kwargs: Any) -> None:
        """Refresh once and show geolocation, company, scopes and refresh-token expiry."""
        settings = settings_from(kwargs)
        secrets = Secrets.from_env()
        with state_lock(settings.state_dir):
            grant, tokens = asyncio.run(_with_tokens(settings, secrets, "refresh"))
        click.echo("The Concur credentials work.")
        missing = _summary(grant, tokens)
        if SPEND_SCOPE not in grant.scopes:
            raise ConcurError(
                f"The Concur app lacks the scope {SPEND_SCOPE}, so discovery "
                "cannot read Spend roles",
                "ask SAP Concur to grant it to the app, then run `oaa-concur auth exchange` again",
            )
        if missing:
            click.echo(
                f"{missing} required scope(s) missing: ask SAP Concur to grant them to the app."
            )


def register(root: click.Group) -> None:
    @root.group("auth")
    def auth() -> None:
        """Set up (exchange) and verify (check) the Concur credentials."""

    register_commands(auth)
