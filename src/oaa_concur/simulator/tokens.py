"""OAuth 2.0 token service of the simulator: Concur's company-token flow (concur-api.md §2).

Grants: ``password`` with ``credtype=authtoken`` (the Company Request Token exchange,
``company-auth.markdown``), ``refresh_token`` and, when allowed, ``client_credentials``
(``apidoc.markdown`` "Client Credentials grant": an access token and no refresh token). Every
refusal is one of the documented codes (``oauth_codes``); request-level checks come first
(``token_checks``).
"""

from __future__ import annotations

import base64
import secrets
import threading
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import orjson

from oaa_concur.simulator.oauth_codes import OAuthError
from oaa_concur.simulator.token_checks import (
    TokenPolicy,
    check_client,
    check_format,
    check_password_fields,
    check_policy,
)

REQUEST_TOKEN_TTL = 24 * 3600  # a Company Request Token lives 24 h, reusable (§2.2)


@dataclass
class AccessGrant:
    """What an access token allows, and until when."""

    scopes: frozenset[str]
    expires_at: float


@dataclass
class RefreshGrant:
    scopes: tuple[str, ...]
    expires_at: float


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class TokenService:
    """Issues and checks tokens for one app and one company, using the injected clock."""

    def __init__(
        self,
        *,
        company_uuid: str,
        scopes: tuple[str, ...],
        clock: Callable[[], float],
        access_ttl: int,
        refresh_ttl: int,
        rotate: bool,
        revoke_after: int | None,
        omit_refresh: bool = False,
        policy: TokenPolicy | None = None,
    ) -> None:
        self.client_id = str(uuid.uuid4())
        self.client_secret = secrets.token_urlsafe(24)
        self.company_uuid = company_uuid
        self.scopes = scopes
        self.clock = clock
        self.access_ttl, self.refresh_ttl = access_ttl, refresh_ttl
        self.rotate, self.revoke_after = rotate, revoke_after
        self.omit_refresh = omit_refresh
        self.policy = policy or TokenPolicy()
        self.forced_errors = 0
        self.refreshes = 0
        self.request_tokens: dict[str, float] = {}
        self.refresh_tokens: dict[str, RefreshGrant] = {}
        self.access_tokens: dict[str, AccessGrant] = {}
        self.issued: list[str] = []
        """Every token ever handed out (request, refresh, access, id), rotated ones included."""
        self.lock = threading.Lock()

    def new_request_token(self) -> str:
        """A Company Request Token as the Authentication Admin page would show it."""
        token = "at-" + secrets.token_hex(14)
        self.issued.append(token)
        self.request_tokens[token] = self.clock() + REQUEST_TOKEN_TTL
        return token

    def new_refresh_token(self, scopes: tuple[str, ...] | None = None) -> str:
        token = str(uuid.uuid4())
        self.issued.append(token)
        self.refresh_tokens[token] = RefreshGrant(
            scopes or self.scopes, self.clock() + self.refresh_ttl
        )
        return token

    def revoke_all(self) -> None:
        """Revoke every refresh and access token (like DELETE /app-mgmt/v0/connections)."""
        with self.lock:
            self.refresh_tokens.clear()
            self.access_tokens.clear()

    def check_access(self, token: str) -> AccessGrant | None:
        grant = self.access_tokens.get(token)
        if grant is None or grant.expires_at <= self.clock():
            return None
        return grant

    def exchange(
        self,
        form: Mapping[str, str],
        geolocation: str,
        content_type: str = "application/x-www-form-urlencoded",
    ) -> dict[str, Any]:
        """Handle one POST /oauth2/v0/token form; raise OAuthError on refusal."""
        with self.lock:
            self.check_caller(form, content_type)
            grant = check_policy(form, self.policy)
            self._forced_error()
            if grant == "password":
                return self._password(form, geolocation)
            if grant == "refresh_token":
                return self._refresh(form, geolocation)
            if grant == "client_credentials":
                return self._client_credentials(geolocation)
            raise OAuthError(60)  # allowed by the policy but not a grant this simulator serves

    def check_caller(self, form: Mapping[str, str], content_type: str) -> None:
        """The body format and the client's id and secret (135, 62, 63, 61, 64)."""
        check_format(content_type)
        check_client(form, self.client_id, self.client_secret)

    def _forced_error(self) -> None:
        code, times = self.policy.token_error, self.policy.token_error_times
        if code is not None and (times is None or self.forced_errors < times):
            self.forced_errors += 1
            raise OAuthError(code)

    def _password(self, form: Mapping[str, str], geolocation: str) -> dict[str, Any]:
        check_password_fields(form)
        if self.policy.company_disabled:
            raise OAuthError(53)
        expires = self.request_tokens.get(form["password"])
        if (
            form.get("credtype", "password") != "authtoken"
            or form["username"] != self.company_uuid
            or expires is None
            or expires <= self.clock()
        ):
            # Expired and unknown request tokens look the same to the caller (§2.5, code 5).
            raise OAuthError(5)
        scopes = self._requested_scopes(form, self.scopes)
        return self._response(self.new_refresh_token(scopes), scopes, geolocation)

    def _client_credentials(self, geolocation: str) -> dict[str, Any]:
        """An app token: access token only (apidoc "Client Credentials grant")."""
        response = self._response("", self.scopes, geolocation)
        for key in ("refresh_token", "refresh_expires_in", "id_token"):
            del response[key]
        return response

    def _refresh(self, form: Mapping[str, str], geolocation: str) -> dict[str, Any]:
        token = form.get("refresh_token", "")
        if not token:
            raise OAuthError(106)
        if self.policy.company_disabled:
            raise OAuthError(53)
        grant = self.refresh_tokens.get(token)
        if grant is None or grant.expires_at <= self.clock():
            raise OAuthError(108)
        scopes = self._requested_scopes(form, grant.scopes)
        self.refreshes += 1
        if self.rotate:
            self.refresh_tokens.pop(token, None)
            token = self.new_refresh_token(grant.scopes)
        elif token in self.refresh_tokens:
            grant.expires_at = self.clock() + self.refresh_ttl  # sliding window (§2.3)
        response = self._response(token, scopes, geolocation)
        if self.omit_refresh:
            del response["refresh_token"]  # the client must keep the one it has (§2.3)
        if self.revoke_after is not None and self.refreshes >= self.revoke_after:
            self.refresh_tokens.clear()  # revoked after this answer: the next refresh gets 108
        return response

    def _requested_scopes(
        self, form: Mapping[str, str], allowed: tuple[str, ...]
    ) -> tuple[str, ...]:
        asked = form.get("scope", "").split()
        if not asked:
            return allowed
        if not set(asked) <= set(allowed):
            raise OAuthError(54)
        return tuple(asked)

    def _response(self, refresh: str, scopes: tuple[str, ...], geo: str) -> dict[str, Any]:
        now = self.clock()
        access = self._jwt(
            {
                "sub": self.company_uuid,
                "concur.type": "company",
                "concur.scopes": list(scopes),
                "concur.version": 2,
                "iss": geo,
                "aud": "*",
                "iat": int(now),
                "nbf": int(now),
                "exp": int(now + self.access_ttl),
                "jti": str(uuid.uuid4()),
            }
        )
        self.access_tokens[access] = AccessGrant(frozenset(scopes), now + self.access_ttl)
        grant = self.refresh_tokens.get(refresh)
        refresh_exp = grant.expires_at if grant else now
        id_token = self._jwt(
            {
                "sub": self.company_uuid,
                "aud": self.client_id,
                "iss": geo,
                "iat": int(now),
                "nbf": int(now),
                "exp": int(now + self.access_ttl),
                "concur.type": "company",
                "concur.version": 2,
            }
        )
        self.issued += (access, id_token)
        # Concur sends both lifetimes as strings; refresh_expires_in is an absolute epoch (§2.4).
        return {
            "expires_in": str(self.access_ttl),
            "scope": " ".join(scopes),
            "token_type": "Bearer",
            "access_token": access,
            "refresh_token": refresh,
            "refresh_expires_in": str(int(refresh_exp)),
            "id_token": id_token,
            "geolocation": geo,
        }

    def _jwt(self, claims: dict[str, Any]) -> str:
        header = _b64(orjson.dumps({"alg": "RS256", "typ": "JWT", "kid": "sim-1"}))
        return f"{header}.{_b64(orjson.dumps(claims))}.{_b64(secrets.token_bytes(64))}"
