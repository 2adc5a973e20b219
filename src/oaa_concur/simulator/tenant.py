"""A generated Concur company: users derived lazily from (seed, index), small arrays only."""

from __future__ import annotations

import hashlib
import random
import re
import uuid
from array import array
from collections.abc import Callable
from functools import cached_property, lru_cache
from typing import Any

from oaa_concur.simulator import records, spend_records
from oaa_concur.simulator.people import FORCED, Person, make_person

MAX_USERS = 2_000_000
ORPHAN_BASE = 1 << 30  # index space of Spend records with no Identity user
GHOST_BASE = 1 << 29  # index space of references to nobody (dangling approvers, delegates)
LASTMOD_BASE = 1_704_067_200  # 2024-01-01T00:00:00Z
LASTMOD_SPAN = 500 * 86400
_INACTIVE_BELOW = 20  # status byte < 20: inactive (~8 %)
_TRAVEL_ONLY_BELOW = 28  # 20..27: active, Travel only, no Spend profile (~3 %)
_VERSION_MASK = ~((0xF000 << 64) | (0xC000 << 48))
_VERSION_4 = (0x4000 << 64) | (0x8000 << 48)
_DIGITS = re.compile(r"(\d{6,})(?:@|$)")
_HEX = "0123456789abcdef"
_STRAY_ALPHABET = "ghijklmnopqrstuv"  # hex digit d -> _STRAY_ALPHABET[d]: reversible


class Tenant:
    """Deterministic company: same (users, seed) -> same users, ids and roles.

    ``grow`` reserves room for users added during the run (``grow_users`` fault); ``stray``
    users get ids outside the lower-case hex alphabet (``stray_ids`` fault, see config).
    """

    def __init__(
        self,
        users: int = 200,
        seed: int = 1,
        *,
        grow: int = 0,
        stray: int = 0,
        stray_style: str = "alphabet",
    ) -> None:
        if not 0 <= users <= users + grow <= MAX_USERS:
            raise ValueError(f"users must be between 0 and {MAX_USERS}")
        self.users, self.base_users, self.capacity = users, users, users + grow
        self.seed = seed
        rng = random.Random(f"concur-simulator:{seed}")
        self.company_uuid = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        self.company_name = f"Acme Corp {seed}"
        self.base_url = "https://us2.api.concursolutions.com"  # the server sets its own URL
        self._mask = rng.getrandbits(30)
        self._hasher = hashlib.blake2b(key=rng.randbytes(16), digest_size=12)
        self._status = bytearray(rng.randbytes(users))
        self._lastmod = array("I", rng.randbytes(4 * users))
        self.traits = bytearray(
            random.Random(f"concur-simulator:{seed}:traits").randbytes(2 * users)
        )
        """Two random bytes per user for the access traits (``access.py``), from a stream of
        their own so that the older per-index facts stay as they are."""
        self._reserve(seed, grow)
        for index, traits in FORCED.items():
            if index < users:
                self._status[index] = _forced_status(traits)
        self.orphans = 0 if users == 0 else max(2, users // 500)
        """Spend records whose id matches no Identity user (a data issue clients must report)."""
        self.version = 0  # bumped when users are added: caches keyed on it go stale
        self.case_exact_ids = stray > 0 and stray_style == "case"
        self.stray_style = stray_style
        self.stray = self._pick_strays(stray)
        self._people = lru_cache(maxsize=8192)(self._person)
        self.person: Callable[[int], Person] = self._people
        self.user_id = lru_cache(maxsize=65536)(self.user_id)  # type: ignore[method-assign]

    def _reserve(self, seed: int, grow: int) -> None:
        """Status and timestamps of the users ``grow`` may add, from their own stream (so
        the first ``users`` are the same with and without the fault)."""
        extra = random.Random(f"concur-simulator:{seed}:grown")
        self._status += extra.randbytes(grow)
        self._lastmod.frombytes(extra.randbytes(4 * grow))
        self.traits += extra.randbytes(2 * grow)

    def _pick_strays(self, count: int) -> frozenset[int]:
        """``count`` users spread over the tenant whose ids start with a letter (so an
        upper-case id misses its lower-case partition too)."""
        picked: set[int] = set()
        for k in range(min(count, self.users)):
            index = (k + 1) * self.users // (count + 1)
            while index < self.users and (index in picked or self.raw_id(index)[0].isdigit()):
                index += 1
            if index < self.users:
                picked.add(index)
        return frozenset(picked)

    # ---- identifiers ------------------------------------------------------------------
    def raw_id(self, index: int) -> str:
        """The lower-case UUID of ``index`` before any stray-id fault; the low 32 bits encode
        the index, the rest is a keyed hash."""
        hasher = self._hasher.copy()
        hasher.update(index.to_bytes(8, "big"))
        value = int.from_bytes(hasher.digest(), "big") << 32 | (index ^ self._mask)
        value = (value & _VERSION_MASK) | _VERSION_4  # a well-formed version-4 UUID
        h = f"{value:032x}"
        return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"

    def user_id(self, index: int) -> str:
        """The id of user ``index`` (orphans: ORPHAN_BASE + k; nobody: GHOST_BASE + k)."""
        raw = self.raw_id(index)
        if index not in self.stray:
            return raw
        if self.stray_style == "case":
            return raw.upper()
        return _STRAY_ALPHABET[_HEX.index(raw[0])] + raw[1:]

    def lead_byte(self, index: int) -> int:
        """The first byte of ``raw_id(index)`` (its first two hex digits), cheaply."""
        hasher = self._hasher.copy()
        hasher.update(index.to_bytes(8, "big"))
        return hasher.digest()[0]

    def index_of(self, user_id: str) -> int | None:
        """Index of an Identity user (or ORPHAN_BASE + k of an orphan Spend record), else None."""
        text = user_id.lower()
        if text[:1] in _STRAY_ALPHABET:
            text = _HEX[_STRAY_ALPHABET.index(text[0])] + text[1:]
        try:
            value = uuid.UUID(text).int
        except ValueError:
            return None
        index = (value & 0xFFFFFFFF) ^ self._mask
        valid = index < self.users or ORPHAN_BASE <= index < ORPHAN_BASE + self.orphans
        return index if valid and self.user_id(index).lower() == user_id.lower() else None

    def index_of_username(self, user_name: str) -> int | None:
        """Index of the user whose userName is exactly ``user_name`` (case-insensitive)."""
        match = _DIGITS.search(user_name)
        if match is None or int(match.group(1)) >= self.users:
            return None
        index = int(match.group(1))
        name = records.user_name(self.person(index))
        return index if name.lower() == user_name.lower() else None

    def index_of_number(self, number: str) -> int | None:
        """Index of the user with this employeeNumber (case-insensitive), else None."""
        return self._numbered(number, records.employee_number)

    def index_of_external_id(self, external_id: str) -> int | None:
        """Index of the user with this externalId (case-insensitive), else None."""
        return self._numbered(external_id, records.external_id)

    def _numbered(self, value: str, render: Any) -> int | None:
        digits = re.search(r"(\d+)$", value)
        index = int(digits.group(1)) if digits else self.users
        if index >= self.users or str(render(index) or "").lower() != value.lower():
            return None
        return index

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

    def spend_user(self, index: int, all_limits: bool = False) -> dict[str, Any] | None:
        """The Spend v4.1 user of Identity user ``index``, or None (Travel-only users).
        ``all_limits``: every ApproverLimit config, as when the extension is requested."""
        if not self.has_spend(index):
            return None
        return spend_records.spend_record(self, self.person(index), all_limits)

    def spend_user_at(self, position: int, all_limits: bool = False) -> dict[str, Any]:
        """The Spend record at 0-based ``position`` of the Spend list (orphans included)."""
        index = self.spend_order[position]
        if index < 0:
            return spend_records.orphan_record(self, ORPHAN_BASE + (-1 - index))
        return spend_records.spend_record(self, self.person(index), all_limits)

    def spend_user_by_id(self, user_id: str, all_limits: bool = False) -> dict[str, Any] | None:
        index = self.index_of(user_id)
        if index is None:
            return None
        if index >= ORPHAN_BASE:
            return spend_records.orphan_record(self, index)
        return self.spend_user(index, all_limits)

    @cached_property
    def spend_order(self) -> array[int]:
        """Spend list order: Identity indices with a Spend profile, orphans (-1-k) interleaved
        over the first ``base_users``; users added later come last, in creation order."""
        base = self.base_users
        at = {(k + 1) * base // (self.orphans + 1): k for k in range(self.orphans)}
        has_spend = self.has_spend
        order = array("l")
        for index in range(base):
            if has_spend(index):
                order.append(index)
            if index in at:
                order.append(-1 - at[index])
        order.extend(i for i in range(base, self.users) if has_spend(i))
        return order

    @property
    def spend_total(self) -> int:
        return len(self.spend_order)

    def grow(self, count: int) -> int:
        """Add up to ``count`` users (those reserved at construction); returns how many."""
        count = max(0, min(count, self.capacity - self.users))
        old, self.users = self.users, self.users + count
        if count:
            self._people.cache_clear()  # some users became managers (and approvers)
            if "spend_order" in self.__dict__:
                self.spend_order.extend(i for i in range(old, self.users) if self.has_spend(i))
            self.version += 1
        return count

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
