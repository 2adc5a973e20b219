"""Shared mutable state of one running simulator: tenant, tokens, counters, fault RNG."""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field

from oaa_concur.simulator.config import SimulatorConfig
from oaa_concur.simulator.prefix_index import PrefixIndex
from oaa_concur.simulator.tenant import Tenant
from oaa_concur.simulator.token_checks import TokenPolicy
from oaa_concur.simulator.tokens import TokenService


@dataclass
class SimulatorState:
    """What tests inspect: ``requests[route]`` ("token", "identity", "spend", "other") and
    ``faults[kind]`` ("429", "5xx" and "status_<n>", "drop", "busy", "fail_page",
    "malformed_page", "wrong_shape", "slow_page", "repeat_cursor", "total_offset",
    "refused_filter", "grown" (users added), "deprecated")."""

    config: SimulatorConfig
    tenant: Tenant
    tokens: TokenService
    landing_url: str = ""
    api_url: str = ""
    requests: Counter[str] = field(default_factory=Counter)
    faults: Counter[str] = field(default_factory=Counter)
    in_flight: int = 0
    max_in_flight: int = 0
    totals: dict[tuple[str, int], int] = field(default_factory=dict)
    """(filter text, tenant version) -> totalResults."""
    grown: bool = False
    _prefixes: PrefixIndex | None = None

    @classmethod
    def create(cls, config: SimulatorConfig) -> SimulatorState:
        tenant = Tenant(
            config.users,
            config.seed,
            grow=config.grow_users if config.grow_after_requests is not None else 0,
            stray=config.stray_ids,
            stray_style=config.stray_id_style,
        )
        tokens = TokenService(
            company_uuid=tenant.company_uuid,
            scopes=config.scopes,
            clock=config.clock,
            access_ttl=config.access_token_ttl,
            refresh_ttl=config.refresh_token_ttl,
            rotate=config.rotate_refresh_tokens,
            revoke_after=config.revoke_after_refreshes,
            omit_refresh=config.omit_refresh_token,
            policy=TokenPolicy(
                allowed_grants=config.allowed_grants,
                client_disabled=config.client_disabled,
                ip_restricted=config.ip_restricted,
                company_disabled=config.company_disabled,
                token_error=config.token_error,
                token_error_times=config.token_error_times,
            ),
        )
        return cls(config=config, tenant=tenant, tokens=tokens)

    def prefixes(self) -> PrefixIndex:
        """The id-prefix index, built on the first ``id sw`` filter."""
        if self._prefixes is None:
            self._prefixes = PrefixIndex(self.tenant)
        return self._prefixes

    def revoke_all(self) -> None:
        """Revoke every refresh and access token of the app (the customer disconnected it)."""
        self.tokens.revoke_all()

    def fault_draw(self, route: str) -> float:
        """A reproducible number in [0, 1) for the n-th request on ``route``."""
        sequence = self.requests[route]
        return random.Random(f"{self.config.seed}:{route}:{sequence}").random()

    def maybe_grow(self) -> None:
        """The ``grow_users`` fault: once the tenant has served ``grow_after_requests``
        Identity and Spend requests, its new users appear (last in creation order)."""
        after = self.config.grow_after_requests
        if after is None or self.grown:
            return
        if self.requests["identity"] + self.requests["spend"] > after:
            self.grown = True
            self.faults["grown"] = self.tenant.grow(self.config.grow_users)
