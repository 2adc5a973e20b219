"""Shared mutable state of one running simulator: tenant, tokens, counters, fault RNG."""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field

from oaa_concur.simulator.config import SimulatorConfig
from oaa_concur.simulator.tenant import Tenant
from oaa_concur.simulator.tokens import TokenService


@dataclass
class SimulatorState:
    """What tests inspect: ``requests[route]`` ("token", "identity", "spend", "other") and
    ``faults[kind]`` ("429", "5xx" and "status_<n>", "drop", "busy", "fail_page",
    "malformed_page", "wrong_shape", "slow_page", "repeat_cursor", "total_offset")."""

    config: SimulatorConfig
    tenant: Tenant
    tokens: TokenService
    landing_url: str = ""
    api_url: str = ""
    requests: Counter[str] = field(default_factory=Counter)
    faults: Counter[str] = field(default_factory=Counter)
    in_flight: int = 0
    max_in_flight: int = 0
    totals: dict[str, int] = field(default_factory=dict)  # filter text -> totalResults

    @classmethod
    def create(cls, config: SimulatorConfig) -> SimulatorState:
        tenant = Tenant(config.users, config.seed)
        tokens = TokenService(
            company_uuid=tenant.company_uuid,
            scopes=config.scopes,
            clock=config.clock,
            access_ttl=config.access_token_ttl,
            refresh_ttl=config.refresh_token_ttl,
            rotate=config.rotate_refresh_tokens,
            revoke_after=config.revoke_after_refreshes,
            omit_refresh=config.omit_refresh_token,
        )
        return cls(config=config, tenant=tenant, tokens=tokens)

    def revoke_all(self) -> None:
        """Revoke every refresh and access token of the app (the customer disconnected it)."""
        self.tokens.revoke_all()

    def fault_draw(self, route: str) -> float:
        """A reproducible number in [0, 1) for the n-th request on ``route``."""
        sequence = self.requests[route]
        return random.Random(f"{self.config.seed}:{route}:{sequence}").random()
