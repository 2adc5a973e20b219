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
    fail_page: tuple[str, int] | None = None
    malformed_page: tuple[str, int] | None = None
    revoke_after_refreshes: int | None = None
    clock: Callable[[], float] = field(default=time.time, compare=False)
