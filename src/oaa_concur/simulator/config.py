"""Configuration of the bundled Concur simulator (what it serves and which faults it injects)."""

from __future__ import annotations

import time
from collections.abc import Callable
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
    clock: Callable[[], float] = field(default=time.time, compare=False)
