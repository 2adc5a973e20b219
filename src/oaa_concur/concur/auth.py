"""Concur OAuth2 for a company token: exchange, refresh, rotation, geolocation (concur-api.md §2).

* Exchange: ``grant_type=password`` + ``credtype=authtoken`` turns the 24 h Company Request
  Token into a refresh token (§2.2). Refresh: ``grant_type=refresh_token`` (§2.3).
* Every token response's ``refresh_token`` (absent -> keep the old one), ``refresh_expires_in``
  (a STRING holding ABSOLUTE epoch seconds) and ``geolocation`` are saved to the credentials file
  before the access token is used, so a rotated token is never lost (design.md §3.2).
* After the first token response every call goes to its ``geolocation``; an OAuth error with
  code 16 ("lives elsewhere") that carries a geolocation is retried there once (§2.5).
* Every geolocation (token answer, code-16 answer, credentials file) must be a trusted host
  (``http.TrustedHosts``, design.md §3.1) before anything is sent there. A token answer naming
  an untrusted one still has its rotated refresh token saved (with the old, trusted
  geolocation) before the run ends with ``UntrustedHost``; a change of data center against
  the stored geolocation is logged as a warning.
* The access token is refreshed ahead of its expiry and once after a 401, never twice at once.
"""

from __future__ import annotations

import asyncio
import base64
import logging
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

import orjson

from oaa_concur import redact
from oaa_concur.concur.hosts import TrustedHosts, UntrustedHost, normalise_base
from oaa_concur.concur.http import HttpClient
from oaa_concur.concur.oauth_errors import oauth_error
from oaa_concur.config import Secrets
from oaa_concur.errors import ClientError, ConcurAuthError, ConcurError, ConfigError
from oaa_concur.runtime import Clock
from oaa_concur.state.credentials import CredentialStore, StoredCredentials, fingerprint

LOG = logging.getLogger(__name__)
TOKEN_PATH = "/oauth2/v0/token"
WARN_DAYS = 30
_EPOCH_2001 = 1_000_000_000  # below this a "refresh_expires_in" must be a duration, not an epoch


@dataclass(frozen=True, slots=True)
class TokenGrant:
    """A parsed token response. ``refresh_token`` None means Concur did not send one;
    ``geolocation`` is as Concur sent it (normalised when it is a URL), not yet trusted."""

    access_token: str
    expires_in: float
    refresh_token: str | None
    refresh_expires_at: int | None
    geolocation: str | None
    scopes: tuple[str, ...]
    company_uuid: str | None


def jwt_payload(token: str) -> dict[str, Any]:
    """The payload of a JWT, decoded WITHOUT verification (only to learn sub and scopes)."""
    try:
        part = token.split(".")[1]
        data = orjson.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
    except (IndexError, ValueError, orjson.JSONDecodeError):
        return {}
    return data if isinstance(data, dict) else {}


def _number(value: Any) -> float | None:
    """Concur sends ``expires_in`` and ``refresh_expires_in`` as strings (§2.4)."""
    if isinstance(value, bool):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _scopes(body: dict[str, Any], claims: dict[str, Any]) -> tuple[str, ...]:
    scope = body.get("scope")
    if isinstance(scope, str) and scope.strip():
        return tuple(scope.replace(",", " ").split())
    listed = claims.get("concur.scopes") or claims.get("scope")
    if isinstance(listed, str):
        return tuple(listed.split())
    if isinstance(listed, list):
        return tuple(s for s in listed if isinstance(s, str))
    return ()


def _geolocation(value: Any) -> str | None:
    """Scheme + host of a geolocation when it is a URL, else the text (refused later)."""
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        return normalise_base(value)
    except ConfigError:
        return value.strip()


def parse_token_response(body: dict[str, Any], now: float) -> TokenGrant:
    """Parse a 200 from /oauth2/v0/token; ConcurError if it has no access token."""
    access = body.get("access_token")
    if not isinstance(access, str) or not access:
        raise ConcurError(
            "Concur's token response had no access_token",
            "try again; if it persists, report it with the correlation id",
        )
    redact.register(access)
    refresh = body.get("refresh_token")
    refresh = refresh if isinstance(refresh, str) and refresh else None
    redact.register(refresh)
    redact.register(body.get("id_token") if isinstance(body.get("id_token"), str) else None)
    expiry = _number(body.get("refresh_expires_in"))
    if expiry is not None and expiry < _EPOCH_2001:
        expiry = now + expiry  # defensive: a duration where the docs promise an epoch
    claims = jwt_payload(access)
    sub = claims.get("sub") or jwt_payload(str(body.get("id_token", ""))).get("sub")
    return TokenGrant(
        access_token=access,
        expires_in=_number(body.get("expires_in")) or 3600.0,
        refresh_token=refresh,
        refresh_expires_at=int(expiry) if expiry is not None else None,
        geolocation=_geolocation(body.get("geolocation")),
        scopes=_scopes(body, claims),
        company_uuid=sub if isinstance(sub, str) else None,
    )


def _same_base(a: str, b: str) -> bool | None:
    """Whether two geolocations name the same base (None: one is not a URL)."""
    try:
        return normalise_base(a) == normalise_base(b)
    except ConfigError:
        return None


class TokenManager:
    """Holds the access token; refreshes ahead of expiry and after a 401; saves every rotation."""

    def __init__(
        self,
        http: HttpClient,
        store: CredentialStore,
        *,
        client_id: str,
        client_secret: str,
        landing_url: str,
        trust: TrustedHosts,
        clock: Clock,
    ) -> None:
        redact.register(client_secret)
        self.http = http
        self.trust = trust
        self.store = store
        self.client_id = client_id
        self._secret = client_secret
        self._clock = clock
        self._geolocation = trust.check(landing_url, "CONCUR_URL")
        self._stored: StoredCredentials | None = None
        self._refresh: str | None = None
        self._seed: str | None = None
        self._access: str | None = None
        self._deadline = 0.0
        self._lock = asyncio.Lock()

    @property
    def geolocation(self) -> str:
        """Where the next call goes: the newest token response's geolocation."""
        return self._geolocation

    def use_refresh_token(self, env_token: str | None) -> None:
        """Choose the refresh token by the fingerprint rule (credentials.py) before refreshing."""
        token, stored, seed = self.store.resolve(env_token)
        self._refresh, self._stored, self._seed = token, stored, seed
        if stored is not None and stored.geolocation:
            origin = f"the credentials file {self.store.path}"
            self._geolocation = self.trust.check(stored.geolocation, origin)

    async def exchange(self, company_uuid: str, request_token: str) -> TokenGrant:
        """Company Request Token -> refresh token (password grant, ``credtype=authtoken``)."""
        redact.register(request_token)
        form = {
            "grant_type": "password",
            "username": company_uuid,
            "password": request_token,
            "credtype": "authtoken",
        }
        self._seed = None
        return await self._grant(form, "exchange")

    async def refresh(self) -> TokenGrant:
        """One refresh grant at the current geolocation (the first step of every run)."""
        if self._refresh is None:
            raise ConcurAuthError(
                "No refresh token was loaded", "run `oaa-concur auth exchange` first"
            )
        form = {"grant_type": "refresh_token", "refresh_token": self._refresh}
        return await self._grant(form, "refresh")

    async def access_token(self) -> str:
        """A valid access token, refreshed first when it is missing or about to expire."""
        if self._access is None or self._clock() >= self._deadline:
            async with self._lock:
                if self._access is None or self._clock() >= self._deadline:
                    await self.refresh()
        assert self._access is not None
        return self._access

    async def on_unauthorized(self, used_token: str) -> None:
        """A 401 with ``used_token``: refresh once, unless another task already has."""
        async with self._lock:
            if self._access == used_token:
                await self.refresh()

    async def _grant(self, form: dict[str, str], grant: str) -> TokenGrant:
        body = {**form, "client_id": self.client_id, "client_secret": self._secret}
        try:
            response = await self._post(self._geolocation, body)
        except ClientError as error:
            elsewhere = self._elsewhere(error)
            if elsewhere is None:
                raise oauth_error(error, grant) from None
            LOG.info("Concur says the company lives at %s; retrying the %s there", elsewhere, grant)
            try:
                response = await self._post(elsewhere, body)
            except ClientError as again:
                raise oauth_error(again, grant) from None
        return self._accept(parse_token_response(response, self._clock()))

    def _elsewhere(self, error: ClientError) -> str | None:
        """The geolocation of an OAuth code-16 error ("user lives elsewhere"), if it has one."""
        body = error.body or {}
        geo = body.get("geolocation")
        if body.get("code") in (16, "16") and isinstance(geo, str) and geo:
            target = self.trust.check(geo, "an OAuth code-16 answer")
            return target if target != self._geolocation else None
        return None

    async def _post(self, host: str, form: dict[str, str]) -> dict[str, Any]:
        self.http.stats.token_requests += 1
        response = await self.http.request(
            "POST", host + TOKEN_PATH, form=form, what="POST " + TOKEN_PATH
        )
        return response.body

    def _accept(self, grant: TokenGrant) -> TokenGrant:
        """Persist first, then use: a crash after this line cannot lose a rotated token, and
        neither can a refused geolocation (the token is saved with the trusted one we have)."""
        target, refused = self._judge(grant.geolocation)
        self._warn_moved(target)
        self._persist(grant, target)
        if refused is not None:
            raise refused
        self._refresh = grant.refresh_token or self._refresh
        self._geolocation = target
        self._access = grant.access_token
        margin = min(60.0, grant.expires_in / 2)
        self._deadline = self._clock() + grant.expires_in - margin
        self._warn_expiry(grant)
        return grant

    def _judge(self, geolocation: str | None) -> tuple[str, UntrustedHost | None]:
        """Where calls go next, and the refusal to raise once the token is saved."""
        if geolocation is None:
            return self._geolocation, None
        try:
            return self.trust.check(geolocation, "Concur's token answer"), None
        except UntrustedHost as refused:
            return self._geolocation, refused

    def _warn_moved(self, target: str) -> None:
        before = self._stored.geolocation if self._stored is not None else None
        if before and _same_base(before, target) is False:
            LOG.warning(
                "Concur moved the company from %s to %s: calls go to the new data center",
                before,
                target,
            )

    def _persist(self, grant: TokenGrant, geolocation: str) -> None:
        refresh = grant.refresh_token or self._refresh
        if refresh is None:
            raise ConcurAuthError(
                "Concur's exchange answer had no refresh_token",
                "generate a new Company Request Token and run it again",
            )
        old = self._stored
        creds = StoredCredentials(
            refresh_token=refresh,
            refresh_expires_at=grant.refresh_expires_at
            or (old.refresh_expires_at if old else None),
            geolocation=geolocation,
            client_id=self.client_id,
            company_uuid=grant.company_uuid or (old.company_uuid if old else None),
            scopes=grant.scopes or (old.scopes if old else ()),
            seed_fingerprint=self._seed or fingerprint(refresh),
        )
        if old is not None:
            creds = replace(creds, extra=old.extra)
        self.store.save(creds)
        self._stored = creds
        self._seed = creds.seed_fingerprint

    def _warn_expiry(self, grant: TokenGrant) -> None:
        expires = grant.refresh_expires_at
        if expires is None:
            return
        days = (expires - self._clock()) / 86400
        if days < WARN_DAYS:
            when = datetime.fromtimestamp(expires, UTC).strftime("%Y-%m-%d")
            LOG.warning(
                "The Concur refresh token expires on %s (in %.0f days): generate a new "
                "Company Request Token and run `oaa-concur auth exchange` before then",
                when,
                max(days, 0),
            )

    @property
    def stored(self) -> StoredCredentials | None:
        return self._stored


def client_credentials(secrets: Secrets) -> tuple[str, str]:
    """The OAuth app's id and secret from the environment; ConfigError naming what is missing."""
    for name, value in (
        ("CONCUR_CLIENT_ID", secrets.client_id),
        ("CONCUR_CLIENT_SECRET", secrets.client_secret),
    ):
        if not value:
            raise ConfigError(
                f"{name} is not set", f"export {name} with the value of your Concur app"
            )
    assert secrets.client_id is not None and secrets.client_secret is not None
    redact.register(secrets.client_secret)
    return secrets.client_id, secrets.client_secret
