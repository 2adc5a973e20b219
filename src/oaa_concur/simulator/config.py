"""Configuration of the bundled Concur simulator (what it serves and which faults it injects)."""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

# The seven scopes the connector asks for (Veza's Concur setup guide, veza-oaa.md §4.1) plus the
# SAP extension scope (concur-api.md §3.7).
DEFAULT_SCOPES: tuple[str, ...] = (
    "openid",
    "identity.user.ids.read",
    "identity.user.core.read",
    "identity.user.coresensitive.read",
    "identity.user.enterprise.read",
    "identity.company.core.read",
    "spend.user.general.read",
    "identity.user.sap.read",
)
# The grants a company-token app uses: the Company Request Token exchange and the refresh.
DEFAULT_GRANTS: tuple[str, ...] = ("password", "refresh_token")
DEPRECATION_LINK = "https://developer.concur.com/tools-support/release-notes/api/2026-03-03.html"


@dataclass(frozen=True)
class Deprecation:
    """An endpoint Concur marks as deprecated with ``x-api-warn`` and ``sunset`` headers.

    The format is the one in the API release notes of 2026-02-04 ("Preview: API Deprecation
    Headers") and 2026-03-03 ("Now Available"): ``x-api-warn: '<old>' is deprecated; use
    '<new>'. See '<link>' for details.`` and ``sunset: Sun, 01 Mar 2020 00:00:00 GMT``.
    ``endpoint`` matches the request path and every path below it.
    """

    endpoint: str
    replacement: str
    sunset: dt.date
    link: str = DEPRECATION_LINK


@dataclass(frozen=True)
class SimulatorConfig:
    """Everything that shapes one simulator run; defaults behave like a healthy Concur."""

    users: int = 200
    seed: int = 1
    split_geolocation: bool = False
    rotate_refresh_tokens: bool = False
    access_token_ttl: int = 3600
    refresh_token_ttl: int = 183 * 86400
    scopes: tuple[str, ...] = DEFAULT_SCOPES
    latency_s: float = 0.0
    """Server time added to every Identity and Spend request (flat)."""
    latency_per_record_s: float = 0.0
    """Server time added per record a page returns (a 1,000-user page costs 1,000 x this)."""
    concurrency_limit: int | None = None
    rate_429: float = 0.0
    retry_after: str = "0"
    rate_5xx: float = 0.0
    rate_drop: float = 0.0
    fault_statuses: tuple[int, ...] = (500, 502, 503, 504)
    """The statuses ``rate_5xx`` draws from (one entry: always that status)."""
    fail_page: tuple[str, int] | None = None
    fail_status: int = 500
    fail_times: int | None = None
    """How often ``fail_page`` fails before it is served (None: every time)."""
    malformed_page: tuple[str, int] | None = None
    wrong_shape_page: tuple[str, int] | None = None
    wrong_shape: str = "resources"
    """200 JSON of the wrong shape: "resources" (an object, not a list) or "record" (a string
    where a user object belongs)."""
    slow_page: tuple[str, int] | None = None
    slow_s: float = 0.0
    slow_times: int | None = None
    """``slow_page`` answers after ``slow_s`` seconds, ``slow_times`` times (None: always)."""
    repeat_cursor_page: int | None = None
    """Identity page N (>= 2) hands back the cursor that asked for it as its nextCursor."""
    spend_total_offset: int = 0
    """Added to Spend's totalResults: the listing claims more (or fewer) than it serves."""
    omit_refresh_token: bool = False
    """Refresh-grant answers carry no refresh_token (the client must keep its own)."""
    elsewhere_geolocation: bool = True
    """OAuth code 16 ("lives elsewhere") names the geolocation; False: it does not."""
    revoke_after_refreshes: int | None = None
    # ---- OAuth refusals about the request (authentication apidoc, "Response Codes") -------
    allowed_grants: tuple[str, ...] = DEFAULT_GRANTS
    """Grant types the app may use; another gets code 60 (107 for a refresh_token grant)."""
    client_disabled: bool = False
    """Every token request gets code 59 ``access_denied`` "client disabled"."""
    ip_restricted: bool = False
    """Every token request gets code 20 (logon denied, typically due to IP restriction)."""
    company_disabled: bool = False
    """Exchange and refresh get code 53 "company is not enabled for this client"."""
    token_error: int | None = None
    """Every token request (after the client checks) gets this documented code."""
    token_error_times: int | None = None
    """How often ``token_error`` answers before the endpoint heals (None: always)."""
    # ---- Identity search faults (issue 13's fallback from partitioned reads) -------------
    refuse_filters: bool = False
    """Every ``.search`` that carries a filter gets 400 ``invalidFilter``."""
    stray_ids: int = 0
    """This many users get ids that the ``id sw "0"`` ... ``id sw "f"`` partitions miss."""
    stray_id_style: str = "alphabet"
    """"alphabet": the id's first character is outside 0-9a-f (g-v); "case": the id is upper
    case and the server compares ``id`` case-exactly, so ``id sw "a"`` misses "A..."."""
    grow_after_requests: int | None = None
    """After this many Identity and Spend requests the tenant gains ``grow_users`` users."""
    grow_users: int = 0
    deprecations: tuple[Deprecation, ...] = ()
    """Endpoints answered with ``x-api-warn`` and ``sunset`` headers."""
    clock: Callable[[], float] = field(default=time.time, compare=False)
    sleep: Callable[[float], Awaitable[None]] = field(default=asyncio.sleep, compare=False)
    """How the server waits (latency, slow pages): non-blocking, injectable for tests."""
