"""The one place that wires the Concur client, and the two ``auth`` steps built on it.

``concur_session`` holds the state-directory lock (two runs never refresh one token at once,
design.md §3.2), builds the HttpClient from the settings and the ``Runtime`` (with the trusted
hosts and the bounds of issue 11) and the TokenManager over the credentials file, and closes
the client at the end. Discovery and
``auth exchange``/``auth check`` all open one.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from oaa_concur import redact
from oaa_concur.concur.auth import TokenGrant, TokenManager, client_credentials
from oaa_concur.concur.hosts import TrustedHosts
from oaa_concur.concur.http import CONCUR_POLICY, Bounds, ConcurApi, HttpClient
from oaa_concur.config import Secrets, Settings
from oaa_concur.models import RunStats
from oaa_concur.retry import RetryPolicy
from oaa_concur.runtime import DEFAULT, Runtime
from oaa_concur.state.credentials import CredentialStore
from oaa_concur.state.lock import state_lock


@dataclass(frozen=True)
class ConcurSession:
    """A wired client: ``api`` for Identity and Spend calls, ``tokens`` for the grants."""

    http: HttpClient
    tokens: TokenManager
    api: ConcurApi
    stats: RunStats


def bounds_of(settings: Settings) -> Bounds:
    """The response bounds the settings ask for (defaults in ``oaa_concur.config``)."""
    return Bounds(
        max_response_bytes=settings.max_response_bytes,
        request_deadline_s=settings.request_deadline_s,
        run_deadline_s=settings.run_deadline_s,
    )


@asynccontextmanager
async def concur_session(
    settings: Settings,
    secrets: Secrets,
    runtime: Runtime = DEFAULT,
    *,
    policy: RetryPolicy = CONCUR_POLICY,
) -> AsyncIterator[ConcurSession]:
    """Lock the state directory and open the client; ConfigError if the app's id or secret is
    missing, LockedError if another run holds the lock (nothing is sent then)."""
    client_id, client_secret = client_credentials(secrets)
    trust = TrustedHosts.of(settings.concur_url, settings.trusted_hosts)
    stats = RunStats(started_at=datetime.now(UTC))
    with state_lock(settings.state_dir):
        http = HttpClient(
            stats,
            runtime,
            trust=trust,
            bounds=bounds_of(settings),
            timeout_s=settings.timeout_s,
            ca_bundle=settings.ca_bundle,
            policy=policy,
            max_connections=settings.concurrency + 2,
        )
        try:
            tokens = TokenManager(
                http,
                CredentialStore(settings.state_dir),
                client_id=client_id,
                client_secret=client_secret,
                landing_url=settings.concur_url,
                trust=trust,
                clock=runtime.clock,
            )
            yield ConcurSession(http, tokens, ConcurApi(http, tokens), stats)
        finally:
            await http.aclose()


@dataclass(frozen=True)
class TokenStatus:
    """What a successful exchange or refresh established (what ``auth`` prints)."""

    geolocation: str
    company_uuid: str | None
    refresh_expires_at: int | None
    """Epoch seconds, None when Concur did not say."""
    credentials_path: Path
    scopes: tuple[str, ...]
    refresh_token: str = field(repr=False)


def _status(grant: TokenGrant, tokens: TokenManager) -> TokenStatus:
    stored = tokens.stored
    assert stored is not None  # a grant is accepted only once it is stored
    return TokenStatus(
        geolocation=tokens.geolocation,
        company_uuid=grant.company_uuid or stored.company_uuid,
        refresh_expires_at=stored.refresh_expires_at,
        credentials_path=tokens.store.path,
        scopes=grant.scopes,
        refresh_token=stored.refresh_token,
    )


def exchange_request_token(
    settings: Settings,
    secrets: Secrets,
    company_uuid: str,
    request_token: str,
    runtime: Runtime = DEFAULT,
) -> TokenStatus:
    """Company Request Token -> a stored refresh token (concur-api.md §2.2)."""
    redact.register(request_token)

    async def main() -> TokenStatus:
        async with concur_session(settings, secrets, runtime) as session:
            grant = await session.tokens.exchange(company_uuid, request_token)
            return _status(grant, session.tokens)

    return asyncio.run(main())


def check_refresh_token(
    settings: Settings, secrets: Secrets, runtime: Runtime = DEFAULT
) -> TokenStatus:
    """One refresh with the refresh token chosen by the fingerprint rule (concur-api.md §2.3)."""

    async def main() -> TokenStatus:
        async with concur_session(settings, secrets, runtime) as session:
            session.tokens.use_refresh_token(secrets.refresh_token)
            grant = await session.tokens.refresh()
            return _status(grant, session.tokens)

    return asyncio.run(main())
