"""Who acts on a Spend user's items: approvers, delegates (``delegations``), approval limits,
BI manager, and the processor's report access, as typed traits (``access_types``;
``spend_records`` writes them out).

Documented in ``api-reference/user-provisioning/spend/v4.1.spend-user-retrieval.md``: sections
"Approver Extension" and "Spend Approver" (seven kinds; "Only Report and Request support
non-primary approver"), "Approver Limit Extension" and "Spend Approver Limit Config" (the role
each ``approvalType`` needs), "Delegate Extension", "Spend Delegate" (nine ``can*`` flags) and
"Temporary Delegate", "User Preference Extension" (``processorReportAccess`` of the processor
roles), "User Reference" (``value`` and/or ``employeeNumber``; the v4 provisioning examples of
``v4.spend-user-provisioning.md`` name approvers and delegates by ``employeeNumber`` only) and
"Spend User" (``biManager``).

The long-standing traits (manager approvers, the 5 % expense delegates, biManager = manager)
are computed as before; everything else is drawn from a random stream of its own per
(seed, index), so the traits of ``people.py`` stay as they are. Edge cases are pinned to small
indices by ``FORCED`` so that a 25-user tenant shows each of them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from oaa_concur.simulator import catalog
from oaa_concur.simulator.access_types import (
    APPROVER_KINDS,
    GATE_BYTE,
    LIMIT_ROLES,
    NON_PRIMARY_KINDS,
    PROCESSOR_ROLES,
    Access,
    Approval,
    Chances,
    Limit,
    Ref,
    ghost,
)
from oaa_concur.simulator.delegations import base_delegation, delegations
from oaa_concur.simulator.draws import Draws
from oaa_concur.simulator.people import Person

if TYPE_CHECKING:
    from oaa_concur.simulator.tenant import Tenant

_AMOUNTS = (500.0, 1000.0, 2500.0, 5000.0, 10000.0, 25000.0)
FORCED: dict[int, frozenset[str]] = {
    1: frozenset({"approvers:all", "temp:past", "limit:global"}),
    2: frozenset({"temp:current", "limit:group", "processor:COMPLETE"}),
    3: frozenset({"temp:future", "secondary", "limit:cost"}),
    4: frozenset({"delegates:all", "ref:number"}),
    5: frozenset({"delegate:number", "dangling:approver:value"}),
    6: frozenset({"processor:RESTRICTED"}),  # inactive, still an Expense Processor
    7: frozenset({"dangling:delegate:number", "bi:number"}),
    8: frozenset({"flags:true", "bi:dangling"}),
    10: frozenset({"flags:false", "dangling:approver:number"}),
    11: frozenset({"bi:other", "dangling:delegate:value"}),
    12: frozenset({"bi:null"}),
}


def draw_access(tenant: Tenant, person: Person, currency: str) -> Access | None:
    """Every access trait of ``person``'s Spend record; None for a plain user, whose record
    has only the long-standing traits (``base_kinds``, ``base_delegation``, the manager as
    ``biManager``): most users, rendered without building any of these records."""
    i = person.index
    forced = FORCED.get(i, _NONE)
    gate, picks = tenant.traits[2 * i], tenant.traits[2 * i + 1]
    held = {code for code, _ in person.roles} if person.roles else _NONE
    draws = Draws(tenant.seed, i) if gate < GATE_BYTE or forced else None
    limits: tuple[Limit, ...] = ()
    if held and (forced or picks & 15 < 4):  # a quarter of the approvers have limits
        limits = _limits(draws or Draws(tenant.seed, i), forced, held, currency)
    processor = _processor_access(picks >> 4, forced, held) if held or forced else None
    if gate >= GATE_BYTE and not forced:
        if not limits and processor is None:
            return None
        approvals = tuple(Approval(k, Ref(t)) for k, t in base_kinds(tenant, person).items())
        bi = tenant.manager_of(i)
        bi_ref = None if bi is None else Ref(bi)
        return Access(approvals, base_delegation(tenant, person), limits, processor, bi_ref)
    assert draws is not None
    chances = Chances(draws)
    return Access(
        approvals=_approvals(tenant, person, chances, forced),
        delegations=delegations(tenant, person, chances, forced),
        limits=limits,
        processor_access=processor,
        bi_manager=_bi_manager(tenant, i, chances, forced),
    )


_NONE: frozenset[str] = frozenset()


def _managers(tenant: Tenant) -> int:
    return max(1, (tenant.users - 2) // 7 + 1)


def _approvals(
    tenant: Tenant, person: Person, draws: Chances, forced: frozenset[str]
) -> tuple[Approval, ...]:
    """The manager approves (another manager for ``alt_approver`` users); more kinds, a
    non-primary second approver, references by employee number and dangling ones on top."""
    i, manager = person.index, tenant.manager_of(person.index)
    kinds = base_kinds(tenant, person)
    if manager is None:
        return ()
    extra = [k for k in APPROVER_KINDS if k not in kinds]
    if "approvers:all" in forced:
        kinds |= dict.fromkeys(extra, manager)
    elif draws.chance(0.03):
        kinds |= dict.fromkeys(draws.r.sample(extra, draws.r.randint(1, len(extra))), manager)
    by = "number" if "ref:number" in forced or draws.chance(0.02) else "both"
    approvals = [Approval(kind, Ref(target, by)) for kind, target in kinds.items()]
    if "secondary" in forced or draws.chance(0.02):
        approvals += _secondaries(tenant, i, kinds, draws.r)
    return tuple(_dangle_approver(approvals, i, draws, forced))


def base_kinds(tenant: Tenant, person: Person) -> dict[str, int]:
    """Approver kind -> approver: report (the manager, or another manager for
    ``alt_approver`` users), request and invoice (the manager) when entitled."""
    i, manager = person.index, tenant.manager_of(person.index)
    if manager is None:
        return {}
    report = (i * 31 + 7) % _managers(tenant) if person.alt_approver else manager
    kinds = {"report": report if report != i else manager}
    for kind, entitlement in (("request", "Request"), ("invoice", "Invoice")):
        if entitlement in person.entitlements:
            kinds[kind] = manager
    return kinds


def _secondaries(tenant: Tenant, index: int, kinds: dict[str, int], rng: Draws) -> list[Approval]:
    """Non-primary approvers, only on the kinds that support them."""
    out = []
    for kind in NON_PRIMARY_KINDS:
        other = _other(rng.randrange(_managers(tenant)), (index, kinds.get(kind)), tenant.users)
        if kind in kinds and other is not None:
            out.append(Approval(kind, Ref(other), primary=False))
    return out


def _other(start: int, avoid: tuple[int | None, ...], users: int) -> int | None:
    """The first user from ``start`` on (wrapping) that is not in ``avoid``."""
    for step in range(len(avoid) + 1):
        candidate = (start + step) % users
        if candidate not in avoid:
            return candidate
    return None


def _dangle_approver(
    approvals: list[Approval], index: int, draws: Chances, forced: frozenset[str]
) -> list[Approval]:
    """The report approver becomes a user Identity does not list (by id or by number)."""
    by = None
    if "dangling:approver:value" in forced:
        by = "value"
    elif "dangling:approver:number" in forced:
        by = "number"
    elif draws.chance(0.01):
        by = draws.r.choice(("value", "number"))
    if by is None:
        return approvals
    return [
        Approval(a.kind, Ref(ghost(index), by), a.primary)
        if a.kind == "report" and a.primary
        else a
        for a in approvals
    ]


def _limits(
    rng: Draws, forced: frozenset[str], held: frozenset[str] | set[str], currency: str
) -> tuple[Limit, ...]:
    """Approval limits of a user holding an approver role of the table."""
    types = [t for t, role in LIMIT_ROLES.items() if role in held]
    if not types:
        return ()
    out = []
    if "limit:global" in forced or "limit:group" in forced:
        out.append(Limit("authorizedApprover", types[0], 5000.0, currency, "", 1, False))
    if "limit:group" in forced:
        out.append(Limit("authorizedApprover", types[0], 25000.0, currency, "US-East-Exp", 2, True))
    if "limit:cost" in forced:
        out.append(Limit("costObjectApprover", types[0], 10000.0, currency, "", 1, False))
    if not out and not forced:
        for _ in range(rng.randint(1, 3)):
            holder = "authorizedApprover" if rng.random() < 0.7 else "costObjectApprover"
            group = "" if rng.random() < 0.5 else rng.choice(catalog.ROLE_GROUPS)
            amount, level = rng.choice(_AMOUNTS), rng.randint(1, 3)
            exception = rng.random() < 0.2
            kind = rng.choice(types)
            out.append(Limit(holder, kind, amount, currency, group, level, exception))
    return tuple(out)


def _processor_access(
    nibble: int, forced: frozenset[str], held: frozenset[str] | set[str]
) -> str | None:
    """COMPLETE (all reports incl. returned), RESTRICTED, or null (not returned) for
    processors; nobody else (it "can only be modified if the user has one of" those roles)."""
    for value in ("COMPLETE", "RESTRICTED"):
        if f"processor:{value}" in forced:
            return value
    if not held & PROCESSOR_ROLES:
        return None
    return "COMPLETE" if nibble < 6 else "RESTRICTED" if nibble < 11 else None


def _bi_manager(tenant: Tenant, index: int, draws: Chances, forced: frozenset[str]) -> Ref | None:
    """The reporting (BI) manager: the manager, sometimes someone else, by number, nobody,
    or null (the documented examples show null)."""
    manager = tenant.manager_of(index)
    if manager is None:
        return None
    pick = draws.uniform()
    if "bi:null" in forced or (not forced and pick < 0.01):
        return None
    if "bi:dangling" in forced or (not forced and pick < 0.015):
        return Ref(ghost(index))
    if "bi:number" in forced or (not forced and pick < 0.025):
        return Ref(manager, "number")
    other = _other(manager + 1, (index, manager), tenant.users)
    if other is not None and ("bi:other" in forced or (not forced and pick < 0.04)):
        return Ref(other)
    return Ref(manager)
