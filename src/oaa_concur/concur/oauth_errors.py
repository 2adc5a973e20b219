"""Concur OAuth error codes -> one sentence each: what happened and what to do (concur-api.md §2.5).

The token endpoint answers ``{"code": <int>, "error": ..., "error_description": ...}`` with
HTTP 400/401/403/404; the numeric ``code`` is the precise reason. The same code can mean
different things on the exchange and on the refresh (5 = wrong request token vs. wrong
credentials), so the table is keyed by (grant, code) with a per-code fallback.
"""

from __future__ import annotations

from oaa_concur.errors import ClientError, ConcurAuthError

TOKEN_PAGE = "Administration > Company > Authentication Admin > Company Request Token"
_REEXCHANGE = (
    f"generate a new Company Request Token on {TOKEN_PAGE} and run "
    "`oaa-concur auth exchange --company-uuid UUID`"
)
_CLIENT = (
    "check CONCUR_CLIENT_ID and CONCUR_CLIENT_SECRET (and that CONCUR_URL is the right "
    "environment: implementation clients are refused by production hosts)"
)

# (message, hint). Keys: (grant, code) first, then (None, code).
_MESSAGES: dict[tuple[str | None, int], tuple[str, str]] = {
    ("exchange", 5): (
        "the Company Request Token was refused: it has expired (valid 24 h) or is wrong",
        f"generate a new one on {TOKEN_PAGE}",
    ),
    ("exchange", 19): (
        "the Company Request Token was refused: it has expired (valid 24 h) or is wrong",
        f"generate a new one on {TOKEN_PAGE}",
    ),
    ("refresh", 5): ("Concur refused the credentials of the refresh", _CLIENT),
    (None, 64): ("Concur refused the client id or secret", _CLIENT),
    (None, 61): ("Concur does not know this client id", _CLIENT),
    (None, 59): ("the Concur app (client id) is disabled", "ask SAP Concur to re-enable the app"),
    (None, 53): (
        "the company has not enabled this app",
        f"ask a Concur administrator to connect the app, then {_REEXCHANGE}",
    ),
    (None, 60): (
        "the Concur app is not allowed this grant type",
        "ask SAP Concur to allow the password and refresh_token grants for the app",
    ),
    (None, 106): ("Concur says the refresh token is missing", _REEXCHANGE),
    (None, 107): ("Concur does not allow refreshing this token", _REEXCHANGE),
    (None, 108): ("the Concur refresh token has expired or was revoked", _REEXCHANGE),
    (None, 16): (
        "Concur says the company lives in another data center but did not say which",
        "set CONCUR_URL to the company's data center, e.g. https://eu2.api.concursolutions.com",
    ),
    (None, 54): (
        "Concur refused the requested scope: it exceeds what the app was granted",
        "ask SAP Concur to grant the scopes to the app (see `oaa-concur auth check`)",
    ),
    (None, 10): ("the Concur company or principal is disabled", _REEXCHANGE),
    (None, 11): ("the Concur company or principal is disabled", _REEXCHANGE),
    (None, 123): ("the Concur company or principal is disabled", _REEXCHANGE),
    (None, 12): ("Concur denied the logon", "check the company's login policy"),
    (None, 13): ("Concur denied the logon", "check the company's login policy"),
    (None, 20): (
        "Concur denied the logon from this IP address",
        "ask the Concur administrator to allow this host's address",
    ),
    (None, 120): (
        "Concur refused the credential type of the exchange",
        "report this bug in oaa-concur",
    ),
    (None, 134): ("the Concur company is undergoing scheduled maintenance", "run again later"),
    (None, 136): (
        "the Company Request Token was not issued for this app",
        f"generate it for this client id on {TOKEN_PAGE}",
    ),
}


def _code(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return None


def oauth_error(error: ClientError, grant: str) -> ConcurAuthError:
    """Map a 4xx from /oauth2/v0/token to a ConcurAuthError sentence (no secret in it)."""
    body = error.body or {}
    code = _code(body.get("code"))
    name = body.get("error") if isinstance(body.get("error"), str) else None
    found = _MESSAGES.get((grant, code)) if code is not None else None
    if found is None and code is not None:
        found = _MESSAGES.get((None, code))
    if found is None and name == "invalid_client":
        found = _MESSAGES[(None, 64)]
    if found is None and name == "invalid_grant" and grant == "refresh":
        found = _MESSAGES[(None, 108)]
    if found is None:
        reason = f"code {code}" if code is not None else f"HTTP {error.status}"
        found = (
            f"Concur refused the token {grant} ({reason}{', ' + name if name else ''})",
            "check the credentials with `oaa-concur auth check`",
        )
    message, hint = found
    return ConcurAuthError(
        message[0].upper() + message[1:],
        hint,
        status=error.status,
        correlation_id=error.correlation_id,
        code=code,
    )
