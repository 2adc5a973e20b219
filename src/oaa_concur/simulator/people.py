"""One generated person: every trait of user i, drawn from a per-user seeded RNG."""

from __future__ import annotations

import functools
import random
import unicodedata
from dataclasses import dataclass

from oaa_concur.simulator import catalog

# Edge cases pinned to small indices so that even a 50-user tenant shows each of them.
FORCED: dict[int, frozenset[str]] = {
    1: frozenset({"admin:SHD_ROLE_ADMIN", "admin:SHD_WEB_SERVICES_ADMIN"}),
    2: frozenset({"admin:EXP_CONFIG_ADMIN", "group:EXP_PROCESSOR"}),  # + EXP_APPROVER (manager)
    3: frozenset({"admin:SHD_EMPLOYEE_ADMIN", "role:SHD_PAYROLL_ADMIN"}),
    4: frozenset({"invoice", "group:INV_VENDOR_ADMIN", "role:INV_APPROVER"}),
    5: frozenset({"role:" + catalog.UNKNOWN_ROLE}),
    6: frozenset({"inactive", "group:EXP_PROCESSOR"}),
    7: frozenset({"terminated_active"}),
    8: frozenset({"no_email"}),
    9: frozenset({"travel_only"}),
    10: frozenset({"non_employee"}),
    11: frozenset({"test_employee"}),
    12: frozenset({"unicode"}),
    13: frozenset({"cjk"}),
    14: frozenset({"delegate"}),
    15: frozenset({"alt_approver"}),
    16: frozenset({"date:0"}),
    17: frozenset({"date:1"}),
    18: frozenset({"date:2"}),
    19: frozenset({"request", "invoice"}),
}
EMAIL_DOMAIN = "acme-corp.example"
_NON_DECOMPOSING = str.maketrans({"ł": "l", "ø": "o", "ß": "ss", "æ": "ae", "đ": "d"})


@dataclass(frozen=True)
class Person:
    """The traits both the Identity and the Spend record of one user are built from."""

    index: int
    given: str
    family: str
    email: bool
    entitlements: tuple[str, ...]
    start_fmt: int
    start_days: int  # days after 2005-01-01
    termination: str | None  # "past" | "future" | None
    place: int
    department: str
    division: str
    title: str | None
    non_employee: bool
    test_employee: bool
    roles: tuple[tuple[str, tuple[str, ...] | None], ...]  # non-base roles (name, groups)
    alt_approver: bool
    delegate: bool
    created_s: int  # seconds after 2015-01-01


def make_person(index: int, seed: int, active: bool, spend: bool, manager: bool) -> Person:
    """Draw user ``index``'s traits; ``active``/``spend``/``manager`` come from the tenant."""
    rng = random.Random(seed * 1_000_003 + index)
    forced = FORCED.get(index, frozenset())
    given, family = _names(rng, forced)
    ents = _entitlements(rng, forced, spend)
    return Person(
        index=index,
        given=given,
        family=family,
        email="no_email" not in forced and rng.random() >= 0.02,
        entitlements=ents,
        start_fmt=_pick_format(rng, forced),
        start_days=rng.randrange(0, 7000),
        termination=_termination(rng, forced, active),
        place=rng.randrange(len(catalog.PLACES)),
        department=rng.choice(catalog.DEPARTMENTS),
        division=rng.choice(catalog.DIVISIONS),
        title=rng.choice(catalog.TITLES),
        non_employee="non_employee" in forced or rng.random() < 0.02,
        test_employee="test_employee" in forced or rng.random() < 0.01,
        roles=_extra_roles(rng, forced, ents, manager),
        alt_approver="alt_approver" in forced or rng.random() < 0.08,
        delegate="delegate" in forced or rng.random() < 0.05,
        created_s=rng.randrange(0, 9 * 365 * 86400),
    )


def _names(rng: random.Random, forced: frozenset[str]) -> tuple[str, str]:
    if "cjk" in forced or rng.random() < 0.01:
        given, family = rng.choice(catalog.CJK_NAMES)
        return given, family
    if "unicode" in forced:
        return "Zoë", "Ørsted"
    return rng.choice(catalog.GIVEN_NAMES), rng.choice(catalog.FAMILY_NAMES)


def _entitlements(rng: random.Random, forced: frozenset[str], spend: bool) -> tuple[str, ...]:
    # Travel-only users have no Spend profile (concur-api.md §4.2).
    if not spend:
        return ("Travel",)
    ents = ["Expense"]
    if "invoice" in forced or rng.random() < 0.15:
        ents.append("Invoice")
    if "request" in forced or rng.random() < 0.30:
        ents.append("Request")
    if rng.random() < 0.85:
        ents.append("Travel")
    return tuple(ents)


def _pick_format(rng: random.Random, forced: frozenset[str]) -> int:
    for fmt in range(3):
        if f"date:{fmt}" in forced:
            return fmt
    return rng.randrange(3)


def _termination(rng: random.Random, forced: frozenset[str], active: bool) -> str | None:
    if not active:
        return "past" if rng.random() < 0.9 else None
    if "terminated_active" in forced or rng.random() < 0.02:
        return "past"  # terminated in HR but still active in Concur: an access-review finding
    return "future" if rng.random() < 0.02 else None


def _extra_roles(
    rng: random.Random,
    forced: frozenset[str],
    ents: tuple[str, ...],
    manager: bool,
) -> tuple[tuple[str, tuple[str, ...] | None], ...]:
    roles: list[tuple[str, tuple[str, ...] | None]] = []
    if manager and "Expense" in ents:
        roles.append(("EXP_APPROVER", None))
        if "Request" in ents:
            roles.append(("REQ_APPROVER", None))
    for tag in sorted(forced):
        kind, _, code = tag.partition(":")
        if kind in ("admin", "group"):
            roles.append((code, _groups(rng)))
        elif kind == "role":
            roles.append((code, None))
    if "Expense" in ents:
        roles.extend(_random_roles(rng, ents))
    return tuple(dict.fromkeys(roles).keys())


def _random_roles(
    rng: random.Random,
    ents: tuple[str, ...],
) -> list[tuple[str, tuple[str, ...] | None]]:
    roles: list[tuple[str, tuple[str, ...] | None]] = []
    if rng.random() < 0.10:
        roles.append(("REPORTING_CONSUMER", None))
    if rng.random() < 0.03:
        roles.append(("EXP_PROCESSOR", _groups(rng)))
    if rng.random() < 0.01:
        roles.append(("EXP_PROXY_USER", _groups(rng)))
    if "Invoice" in ents and rng.random() < 0.10:
        roles.append(("INV_APPROVER", None))
    if "Invoice" in ents and rng.random() < 0.03:
        roles.append(("INV_AP_USER", _groups(rng)))
    if rng.random() < 0.004:
        roles.append((rng.choice(catalog.ADMIN_ROLES), _groups(rng)))
    if rng.random() < 0.01:
        roles.append((rng.choice(catalog.GLOBAL_ROLES), None))
    if rng.random() < 0.002:
        roles.append((catalog.UNKNOWN_ROLE, None))
    return roles


def _groups(rng: random.Random) -> tuple[str, ...] | None:
    """Role groups as Concur sends them: absent, [""] (global), or hierarchy codes."""
    pick = rng.random()
    if pick < 0.25:
        return None
    if pick < 0.45:
        return ("",)
    if pick < 0.85:
        return (rng.choice(catalog.ROLE_GROUPS),)
    return tuple(rng.sample(catalog.ROLE_GROUPS, 2))


@functools.lru_cache(maxsize=1024)
def ascii_slug(text: str) -> str:
    """Login-safe form of a name: accents dropped, non-letters removed."""
    text = text.lower().translate(_NON_DECOMPOSING)
    flat = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(ch for ch in flat.lower() if ch.isalnum())
