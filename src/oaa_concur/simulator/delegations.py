"""Delegations of a Spend user: the long-standing expense delegates, delegations of every kind
with every ``can*`` flag, temporary ones whose window is over, open or still to come, and
delegates named by employee number only or pointing at nobody ("Delegate Extension", "Spend
Delegate", "Temporary Delegate" of v4.1.spend-user-retrieval.md; "User Reference").
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from oaa_concur.simulator.access_types import (
    DELEGATE_FLAGS,
    DELEGATE_KINDS,
    Chances,
    Delegation,
    Ref,
    ghost,
)
from oaa_concur.simulator.draws import Draws
from oaa_concur.simulator.people import Person

if TYPE_CHECKING:
    from oaa_concur.simulator.tenant import Tenant


def delegations(
    tenant: Tenant, person: Person, draws: Chances, forced: frozenset[str]
) -> tuple[Delegation, ...]:
    i, users = person.index, tenant.users
    if users < 2:
        return ()
    out = list(base_delegation(tenant, person))
    out += _more_delegations(i, users, draws, forced)
    return tuple(_refer_delegates(out, i, draws, forced))


def base_delegation(tenant: Tenant, person: Person) -> tuple[Delegation, ...]:
    """The 5 % of users with an expense delegate (flags by parity)."""
    i, users = person.index, tenant.users
    if not person.delegate or users < 2:
        return ()
    other = (i * 17 + 3) % users
    other = other if other != i else (other + 1) % users
    approve = i % 2 == 0
    flags = (approve, True, True, True, False, True, approve, False, True)
    return (Delegation("expense", Ref(other, "value"), flags),)


def _more_delegations(
    index: int, users: int, draws: Chances, forced: frozenset[str]
) -> list[Delegation]:
    """Delegations of every kind with random flags; all-true and all-false ones; temporary
    delegations whose window is over, open or still to come."""

    def other() -> Ref:
        target = draws.r.randrange(users - 1)
        return Ref(target if target < index else target + 1, "value")

    def flags() -> tuple[bool, ...]:
        return draws.r.bits(len(DELEGATE_FLAGS))

    out: list[Delegation] = []
    kinds = list(DELEGATE_KINDS) if "delegates:all" in forced else []
    if not kinds and draws.chance(0.03):
        kinds = draws.r.sample(DELEGATE_KINDS, draws.r.randint(1, 2))
    out += [Delegation(kind, other(), flags()) for kind in kinds]
    for value in (True, False):
        if f"flags:{str(value).lower()}" in forced:
            out.append(Delegation("expense", other(), (value,) * len(DELEGATE_FLAGS)))
    when = [w for w in ("past", "current", "future") if f"temp:{w}" in forced]
    if not when and draws.chance(0.03):
        when = [draws.r.choice(("past", "current", "future"))]
    for moment in when:
        kind = draws.r.choice(DELEGATE_KINDS) if draws.r.random() < 0.3 else "expense"
        grant = (True, *flags()[1:])  # a stand-in approver while someone is away
        out.append(Delegation(kind, other(), grant, window(draws.r, moment)))
    return out


def _refer_delegates(
    delegations: list[Delegation], index: int, draws: Chances, forced: frozenset[str]
) -> list[Delegation]:
    """The first delegate named by employee number only, or by a reference to nobody."""
    by, target = None, None
    if "delegate:number" in forced or draws.chance(0.01):
        by = "number"
    for style in ("value", "number"):
        if f"dangling:delegate:{style}" in forced:
            by, target = style, ghost(index)
    if by is None and draws.chance(0.01):
        by, target = draws.r.choice(("value", "number")), ghost(index)
    if by is None:
        return delegations
    if not delegations:
        delegations = [Delegation("expense", Ref(0 if index else 1), (True,) * 9)]
    first = delegations[0]
    ref = Ref(first.delegate.target if target is None else target, by)
    return [Delegation(first.kind, ref, first.flags, first.window), *delegations[1:]]


_PAST, _NOW, _LATER = dt.datetime(2018, 1, 1), dt.datetime(2024, 1, 1), dt.datetime(2080, 1, 1)


def window(rng: Draws, moment: str) -> tuple[dt.datetime, dt.datetime]:
    """A temporary delegation window that is over (ends before 2023), open (2024/25 until
    2080 or later) or to come (from 2080): fixed, so no wall clock changes the tenant."""
    start = {"past": _PAST, "current": _NOW, "future": _LATER}[moment]
    start += dt.timedelta(days=rng.randrange(1500 if moment != "current" else 500))
    start += dt.timedelta(milliseconds=rng.randrange(86_400_000))
    if moment == "current":
        end = _LATER + dt.timedelta(days=rng.randrange(3650))
    else:
        end = start + dt.timedelta(days=1 + rng.randrange(300))
    end += dt.timedelta(milliseconds=rng.randrange(86_400_000))
    return start.replace(tzinfo=dt.UTC), end.replace(tzinfo=dt.UTC)
