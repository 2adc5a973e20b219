"""Concur's documented OAuth error codes of ``/oauth2/v0/token`` and the answer for each.

Texts are those of ``api-reference/authentication/apidoc.markdown``, section "Response Codes",
table "/token" (markdown backticks dropped); code 134 is from ``company-auth.markdown``
("Response Codes"). Code 5 keeps the capital "C" of the page's literal JSON example
("example bad login": ``"Incorrect Credentials. Please Retry"``); the table writes it in lower
case. The page lists 400/401/403/404 as the statuses of these errors but does not pair codes
with statuses; the simulator answers 401 for ``invalid_client``, 403 for ``access_denied`` and
400 for the rest.
"""

from __future__ import annotations

from typing import Any

# code -> (error, error_description)
TOKEN_CODES: dict[int, tuple[str, str]] = {
    5: ("invalid_grant", "Incorrect Credentials. Please Retry"),
    10: ("invalid_grant", "Account is disabled. Please contact support"),
    11: ("invalid_grant", "Account is disabled. Please contact support"),
    12: ("invalid_grant", "Logon Denied. Please contact support"),
    13: ("invalid_grant", "Logon Denied. Please contact support"),
    14: ("invalid_grant", "Account Locked. Please contact support"),
    16: ("invalid_request", "user lives elsewhere"),
    19: ("invalid_grant", "Incorrect credentials. Please Retry"),
    20: ("invalid_grant", "Logon Denied. Please contact support (typically due to IP restriction)"),
    21: ("invalid_request", "Incorrect credentials. SSO-only client attempted a password login."),
    51: ("invalid_request", "username was not supplied"),
    52: ("invalid_request", "password was not supplied"),
    53: ("invalid_client", "company is not enabled for this client"),
    54: ("invalid_scope", "requested scope exceeds granted scope"),
    55: ("invalid_request", "we don't know this email"),
    59: ("access_denied", "client disabled"),
    60: ("invalid_grant", "these are not the grants you are looking for"),
    61: ("invalid_client", "client not found"),
    62: ("invalid_request", "client_id was not supplied"),
    63: ("invalid_request", "client_secret was not supplied"),
    64: ("invalid_client", "Incorrect credentials. Please Retry"),
    65: ("invalid_request", "grant_type was not supplied"),
    100: ("invalid_request", "backend does not know about this username"),
    105: ("invalid_grant", "this grant was not issued to you!"),
    106: ("invalid_request", "refresh_token was not supplied"),
    107: ("invalid_request", "refresh disallowed for app"),
    108: ("invalid_grant", "bad or expired refresh token"),
    115: ("invalid_request", "unauthenticated client will not be issued token!"),
    120: ("invalid_request", "credtype is invalid"),
    123: ("invalid_request", "principal is disabled"),
    134: ("invalid_request", "Company undergoing scheduled maintenance."),
    135: ("invalid_request", "unsupported request format"),
    136: ("invalid_request", "Authtoken was not issued for you"),
    139: (
        "invalid_request",
        "Logon Denied. Password must be changed to meet company policy.",
    ),
}
_STATUS = {"invalid_client": 401, "access_denied": 403}


class OAuthError(Exception):
    """A token-endpoint refusal: HTTP status plus Concur's {code, error, error_description}."""

    def __init__(self, code: int, geolocation: str | None = None) -> None:
        error, description = TOKEN_CODES[code]
        super().__init__(description)
        self.code = code
        self.status = _STATUS.get(error, 400)
        self.body: dict[str, Any] = {"code": code, "error": error, "error_description": description}
        if geolocation is not None:
            self.body["geolocation"] = geolocation
