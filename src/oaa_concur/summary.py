"""The one-line summary of a run (users, active, roles, grants, warnings, requests, seconds).

``discover`` prints ``line()`` on stdout and, in JSON log mode, logs ``as_dict()`` as the
fields of its "run complete" record. Endpoints Concur marked deprecated during the run
(``x-api-warn``/``Sunset``, API release notes 2026-02-04 and 2026-03-03) are named in both.

One set of figures: the counts of a snapshot come from the store (``review.store.figures``,
computed once when the snapshot is completed) and carry the same names wherever they are
shown (``FIGURES``, ``figure_fields``): the discover summary, the ``snapshots`` table and
JSON, the report's summary and the phase log records. ``active`` counts users whose Concur
``active`` flag is set (terminated-but-active users included; the report breaks them out as
``terminated_active``); ``grants`` are Spend role grants plus product entitlements (the
payload's role assignments), ``spend_grants`` the Spend ones alone.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

from oaa_concur.catalogue import entitlement_role
from oaa_concur.models import Deprecation, DiscoveryResult

if TYPE_CHECKING:
    from oaa_concur.review.store import Figures

FIGURES = ("users", "active", "roles", "grants", "spend_grants", "data_issues")
"""The names of a snapshot's figures, in the order they are shown."""


def figure_fields(figures: Figures) -> dict[str, int]:
    """``figures`` under the names of ``FIGURES`` (the store calls data issues ``issues``)."""
    return {
        "users": figures.users,
        "active": figures.active,
        "roles": figures.roles,
        "grants": figures.grants,
        "spend_grants": figures.spend_grants,
        "data_issues": figures.issues,
    }


@dataclass(frozen=True)
class Summary:
    users: int
    active: int
    roles: int
    grants: int
    spend_grants: int
    data_issues: int
    warnings: int | None
    """Veza's warnings about the push; None when nothing was pushed."""
    requests: int
    seconds: float
    # For the benchmark (bench/discover.py); not in the human line.
    token_requests: int = 0
    identity_pages: int = 0
    spend_pages: int = 0
    deprecations: tuple[Deprecation, ...] = ()

    def line(self) -> str:
        veza = f"{self.warnings} Veza warnings, " if self.warnings is not None else ""
        text = (
            f"{self.users} users ({self.active} active), {self.roles} roles, "
            f"{self.grants} grants ({self.spend_grants} spend grants), {self.data_issues} data "
            f"issues, {veza}{self.requests} requests, {self.seconds:.1f} s"
        )
        if self.deprecations:
            text += "".join(f"; {d.line()}" for d in self.deprecations)
        return text

    def as_dict(self) -> dict[str, object]:
        """The fields for JSON: ``deprecations`` is a list of {endpoint, replacement, sunset,
        warning}."""
        return asdict(self)


def summarize(result: DiscoveryResult, *, warnings: int = 0, seconds: float = 0.0) -> Summary:
    """Count what the OAA payload will hold: Spend roles plus ``ENTITLEMENT_*`` access, each
    product under the code the payload gives it (``catalogue.entitlement_role``)."""
    role_codes: set[str] = set()
    entitlements = spend_grants = 0
    for user in result.users:
        role_codes.update(entitlement_role(p).code for p in user.entitlements)
        entitlements += len(user.entitlements)
    for profile in result.spend.values():
        role_codes.update(grant.role_code for grant in profile.roles)
        spend_grants += len(profile.roles)
    stats = result.stats
    return Summary(
        users=len(result.users),
        active=sum(1 for u in result.users if u.active),
        roles=len(role_codes),
        grants=entitlements + spend_grants,
        spend_grants=spend_grants,
        data_issues=len(result.issues),
        warnings=warnings,
        requests=stats.requests if stats else 0,
        seconds=seconds or (stats.duration_s if stats else 0.0),
        token_requests=stats.token_requests if stats else 0,
        identity_pages=stats.identity_pages if stats else 0,
        spend_pages=stats.spend_pages if stats else 0,
        deprecations=stats.deprecations if stats else (),
    )
