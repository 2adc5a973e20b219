"""Refusals of a token request before any grant is looked at: format, fields, client, policy.

Codes and texts from ``api-reference/authentication/apidoc.markdown`` ("Response Codes",
"/token"): 135 when the body is not ``application/x-www-form-urlencoded`` (the page: "Use the
application/x-www-form-urlencoded content type"), 62/63/65 for a missing ``client_id``,
``client_secret`` or ``grant_type``, 61/64 for an unknown client or a wrong secret, 59 for a
disabled client, 20 for an IP-restricted company, 60 for a grant type the app may not use and
107 when refreshing is disallowed for the app. The order of the checks is the simulator's
choice (the page does not give one).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from oaa_concur.simulator.oauth_codes import OAuthError

FORM = "application/x-www-form-urlencoded"


@dataclass(frozen=True)
class TokenPolicy:
    """What the app and company allow (the request-level OAuth knobs of SimulatorConfig)."""

    allowed_grants: tuple[str, ...] = ("password", "refresh_token")
    client_disabled: bool = False
    ip_restricted: bool = False
    company_disabled: bool = False
    token_error: int | None = None
    token_error_times: int | None = None


def check_format(content_type: str) -> None:
    """135 unless the body is form-encoded (a JSON body is the usual mistake)."""
    if content_type.split(";", 1)[0].strip().lower() != FORM:
        raise OAuthError(135)


def check_client(form: Mapping[str, str], client_id: str, client_secret: str) -> None:
    """62/63 for missing fields, 61 for an unknown client, 64 for a wrong secret."""
    if not form.get("client_id"):
        raise OAuthError(62)
    if not form.get("client_secret"):
        raise OAuthError(63)
    if form["client_id"] != client_id:
        raise OAuthError(61)
    if form["client_secret"] != client_secret:
        raise OAuthError(64)


def check_policy(form: Mapping[str, str], policy: TokenPolicy) -> str:
    """The grant type, once the app may use it here; 59, 20, 65, 60 or 107 otherwise."""
    if policy.client_disabled:
        raise OAuthError(59)
    if policy.ip_restricted:
        raise OAuthError(20)
    grant = form.get("grant_type", "")
    if not grant:
        raise OAuthError(65)
    if grant not in policy.allowed_grants:
        raise OAuthError(107 if grant == "refresh_token" else 60)
    return grant


def check_password_fields(form: Mapping[str, str]) -> None:
    """51/52 for a password grant without ``username`` or ``password``; 120 for a bad
    ``credtype`` (the company flow sends ``authtoken``; omitted means a user password)."""
    if not form.get("username"):
        raise OAuthError(51)
    if not form.get("password"):
        raise OAuthError(52)
    if form.get("credtype", "password") not in ("authtoken", "password"):
        raise OAuthError(120)
