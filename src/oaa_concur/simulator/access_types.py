"""The typed access traits of a Spend record and the documented names they use.

Names from ``api-reference/user-provisioning/spend/v4.1.spend-user-retrieval.md``: "Approver
Extension" (seven approver kinds), "Spend Approver" ("Only Report and Request support
non-primary approver"), "Delegate Extension" and "Spend Delegate" (three kinds, nine ``can*``
flags), "Spend Approver Limit Config" (the role each ``approvalType`` needs) and "User
Preference Extension" (the processor roles of ``processorReportAccess``).
"""

from __future__ import annotations

import datetime as dt
from typing import NamedTuple

from oaa_concur.simulator.draws import Draws

APPROVER_KINDS: tuple[str, ...] = (
    "report",
    "cashAdvance",
    "request",
    "invoice",
    "purchaseRequest",
    "statement",
    "budget",
)
NON_PRIMARY_KINDS = ("report", "request")
DELEGATE_KINDS = ("expense", "payment", "purchaseRequest")
# In the order the simulator has always written them (the doc's table sorts them by name).
DELEGATE_FLAGS = (
    "canApprove",
    "canPrepare",
    "canSubmit",
    "canViewReceipt",
    "canUseBi",
    "canReceiveEmail",
    "canReceiveApprovalEmail",
    "canPrepareForApproval",
    "canSubmitTravelRequest",
)
# approvalType -> the role it needs ("Spend Approver Limit Config" table).
LIMIT_ROLES = {
    "report": "EXP_APPROVER",
    "request": "REQ_APPROVER",
    "purchaseRequest": "INV_PURCH_REQ_APPROVER",
    "payment": "INV_APPROVER",
}
PROCESSOR_ROLES = frozenset({"EXP_PROCESSOR", "EXP_PROCESSOR_AUDIT", "EXP_PROCESSOR_ADMIN"})
_GHOST_BASE = 1 << 29  # tenant.GHOST_BASE: ids and employee numbers of nobody


class Ref(NamedTuple):
    """A UserReference to user ``target`` (>= 2**29: nobody), written with ``by`` = "both"
    (``value`` and ``employeeNumber``), "value" or "number" (``employeeNumber`` only)."""

    target: int
    by: str = "both"


class Approval(NamedTuple):
    kind: str
    approver: Ref
    primary: bool = True


class Delegation(NamedTuple):
    kind: str
    delegate: Ref
    flags: tuple[bool, ...]  # DELEGATE_FLAGS order
    window: tuple[dt.datetime, dt.datetime] | None = None


class Limit(NamedTuple):
    """One "Spend Approver Limit Config"; ``holder`` is its list in the extension."""

    holder: str  # "authorizedApprover" | "costObjectApprover"
    approval_type: str
    limit: float
    currency: str
    group: str  # "" is the global group
    level: int
    exception: bool


class Access(NamedTuple):
    """Typed, immutable records (NamedTuples: a Spend page builds a hundred of them, and
    frozen dataclasses cost several times as much to create)."""

    approvals: tuple[Approval, ...]
    delegations: tuple[Delegation, ...]
    limits: tuple[Limit, ...]
    processor_access: str | None
    bi_manager: Ref | None


GATE_BYTE = 13  # of 256: the share of users that draw the rarer traits
GATE = GATE_BYTE / 256


class Chances:
    """The rarer traits are drawn only for a ``GATE`` share of users (and the forced ones),
    which keeps a Spend page fast; ``chance(p)`` still gives each trait the overall rate
    ``p`` (so traits cluster on those users)."""

    def __init__(self, draws: Draws) -> None:
        self.r = draws

    def chance(self, p: float) -> bool:
        return self.r.random() * GATE < p

    def uniform(self) -> float:
        """Uniform in [0, GATE): compare with overall rates."""
        return self.r.random() * GATE


def ghost(index: int) -> int:
    """The nobody that user ``index``'s dangling references point at."""
    return _GHOST_BASE + index
