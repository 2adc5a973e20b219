"""A generated Concur company: users derived lazily from (seed, index), small arrays only."""

from __future__ import annotations

import hashlib
import random
import re
import uuid
from array import array
from functools import cached_property, lru_cache
from typing import Any

from oaa_concur.simulator import records
from oaa_concur.simulator.people import FORCED, Person, make_person

MAX_USERS = 2_000_000
ORPHAN_BASE = 1 << 30  # index space of Spend records with no Identity user
LASTMOD_BASE = 1_704_067_200  # 2024-01-01T00:00:00Z
LASTMOD_SPAN = 500 * 86400
_INACTIVE_BELOW = 20  # status byte < 20: inactive (~8 %)
_TRAVEL_ONLY_BELOW = 28  # 20..27: active, Travel only, no Spend profile (~3 %)
_VERSION_MASK = ~((0xF000 << 64) | (0xC000 << 48))
_VERSION_4 = (0x4000 << 64) | (0x8000 << 48)
_DIGITS = re.compile(r"(\d{6,})(?:@|$)")


class Tenant:
    """Deterministic company: same (users, seed) -> same users, ids and roles."""

    def __init__(self, users: int = 200, seed: int = 1) -> None:
        if not 0 <= users <= MAX_USERS:
            raise ValueError(f"users must be between 0 and {MAX_USERS}")
        self.users = users
        self.seed = seed
        rng = random.Random(f"concur-simulator:{seed}")
        self.company_uuid = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        self.company_name = f"Acme Corp {seed}"
        self.base_url = "https://us2.api.concursolutions.com"  # the server sets its own URL
        self._mask = rng.getrandbits(30)
        self._salt = rng.randbytes(16)
        self._status = bytearray(rng.randbytes(users))
        self._lastmod = array("I", rng.randbytes(4 * users))
        for index, traits in FORCED.items():
            if index < users:
                self._status[index] = _forced_status(traits)
        self.person = lru_cache(maxsize=8192)(self._person)
        self.user_id = lru_cache(maxsize=65536)(self.user_id)  # type: ignore[method-assign]

    # ---- identifiers ------------------------------------------------------------------
    def user_id(self, index: int) -> str:
        """UUID of user ``index`` (orphans: ORPHAN_BASE + k); the low 32 bits encode the index."""
        digest = hashlib.blake2b(index.to_bytes(8, "big"), key=self._salt, digest_size=12).digest()
        value = int.from_bytes(digest, "big") << 32 | (index ^ self._mask)
        value = (value & _VERSION_MASK) | _VERSION_4  # a well-formed version-4 UUID
        h = f"{value:032x}"
        return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"

    def index_of(self, user_id: str) -> int | None:
        """Index of an Identity user (or ORPHAN_BASE + k of an orphan Spend record), else None."""
        try:
            value = uuid.UUID(user_id).int
        except ValueError:
            return None
        index = (value & 0xFFFFFFFF) ^ self._mask
        valid = index < self.users or ORPHAN_BASE <= index < ORPHAN_BASE + self.orphans
        return index if valid and self.user_id(index) == user_id.lower() else None

    def index_of_username(self, user_name: str) -> int | None:
        """Index of the user whose userName is exactly ``user_name`` (case-insensitive)."""
        match = _DIGITS.search(user_name)
        if match is None or int(match.group(1)) >= self.users:
            return None
        index = int(match.group(1))
        name = self.identity_user(index)["userName"]
        return index if str(name).lower() == user_name.lower() else None

    # ---- per-index facts (cheap, no generation) ----------------------------------------
    def is_active(self, index: int) -> bool:
        return self._status[index] >= _INACTIVE_BELOW

    def has_spend(self, index: int) -> bool:
        return not _INACTIVE_BELOW <= self._status[index] < _TRAVEL_ONLY_BELOW

    def last_modified(self, index: int) -> float:
        """meta.lastModified of user ``index`` as epoch seconds (millisecond precision)."""
        raw = self._lastmod[index]
        return LASTMOD_BASE + raw % LASTMOD_SPAN + (raw >> 22) % 1000 / 1000

    def manager_of(self, index: int) -> int | None:
        """A seven-wide management tree: user 0 is the CEO."""
        return None if index <= 0 else (index - 1) // 7

    def is_manager(self, index: int) -> bool:
        return 7 * index + 1 < self.users

    def _person(self, index: int) -> Person:
        return make_person(
            index, self.seed, self.is_active(index), self.has_spend(index), self.is_manager(index)
        )

    # ---- records ------------------------------------------------------------------------
    def identity_user(self, index: int) -> dict[str, Any]:
        """The full Identity v4.1 user (every attribute, entitlements included)."""
        return records.identity_record(self, self.person(index))

    def spend_user(self, index: int) -> dict[str, Any] | None:
        """The Spend v4.1 user of Identity user ``index``, or None (Travel-only users)."""
        if not self.has_spend(index):
            return None
        return records.spend_record(self, self.person(index))

    def spend_user_at(self, position: int) -> dict[str, Any]:
        """The Spend record at 0-based ``position`` of the Spend list (orphans included)."""
        index = self.spend_order[position]
        if index < 0:
            return records.orphan_record(self, ORPHAN_BASE + (-1 - index))
        return records.spend_record(self, self.person(index))

    def spend_user_by_id(self, user_id: str) -> dict[str, Any] | None:
        index = self.index_of(user_id)
        if index is None:
            return None
        if index >= ORPHAN_BASE:
            return records.orphan_record(self, index)
        return self.spend_user(index)

    @property
    def orphans(self) -> int:
        """Spend records whose id matches no Identity user (a data issue clients must report)."""
        return 0 if self.users == 0 else max(2, self.users // 500)

    @cached_property
    def spend_order(self) -> array[int]:
        """Spend list order: Identity indices with a Spend profile, orphans (-1-k) interleaved."""
        at = {(k + 1) * self.users // (self.orphans + 1): k for k in range(self.orphans)}
        order = array("l")
        for index in range(self.users):
            if self.has_spend(index):
                order.append(index)
            if index in at:
                order.append(-1 - at[index])
        return order

    @property
    def spend_total(self) -> int:
        return len(self.spend_order)

    def counts(self) -> dict[str, int]:
        """Summary numbers tests and docs compare against."""
        active = sum(1 for i in range(self.users) if self.is_active(i))
        spend = sum(1 for i in range(self.users) if self.has_spend(i))
        return {
            "users": self.users,
            "active": active,
            "inactive": self.users - active,
            "spend_users": spend,
            "travel_only": self.users - spend,
            "orphans": self.orphans,
            "spend_total": spend + self.orphans,
        }


def _forced_status(traits: frozenset[str]) -> int:
    if "inactive" in traits:
        return 0
    if "travel_only" in traits:
        return _INACTIVE_BELOW
    return 255
