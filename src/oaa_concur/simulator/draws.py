"""A cheap deterministic random stream per (seed, index): keyed BLAKE2b output read 16 bits at
a time. Creating a ``random.Random`` costs about 40,000 instructions (the Mersenne Twister's
seeding), more than building a whole Spend record; one hash costs a few thousand. Used for
the traits that were added after ``people.py``, so those keep their own draws unchanged.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from functools import lru_cache
from typing import TypeVar

T = TypeVar("T")


@lru_cache(maxsize=64)
def _hasher(seed: int, stream: str) -> hashlib.blake2b:
    key = hashlib.sha256(f"concur-simulator:{seed}:{stream}".encode()).digest()
    return hashlib.blake2b(key=key, digest_size=64)


class Draws:
    """Uniform numbers, choices and samples for user ``index`` of tenant ``seed``."""

    __slots__ = ("_base", "_buffer", "_index", "_pos", "_round")

    def __init__(self, seed: int, index: int, stream: str = "access") -> None:
        self._base, self._index, self._round = _hasher(seed, stream), index, 0
        self._buffer, self._pos = self._block(), 0

    def _block(self) -> bytes:
        hasher = self._base.copy()
        hasher.update(self._index.to_bytes(8, "big") + self._round.to_bytes(4, "big"))
        self._round += 1
        return hasher.digest()

    def random(self) -> float:
        """Uniform in [0, 1) with 16-bit resolution."""
        if self._pos >= len(self._buffer):
            self._buffer, self._pos = self._block(), 0
        high, low = self._buffer[self._pos], self._buffer[self._pos + 1]
        self._pos += 2
        return (high << 8 | low) / 65536.0

    def bits(self, count: int) -> tuple[bool, ...]:
        """``count`` (<= 16) fair coin flips from one draw."""
        word = int(self.random() * 65536)
        return tuple(bool(word >> k & 1) for k in range(count))

    def randrange(self, stop: int) -> int:
        """An int in [0, stop) (needs stop < 65536 to be uniform enough; larger stops are
        scaled from two draws)."""
        if stop > 4096:
            return int((self.random() + self.random() / 65536.0) * stop) % stop
        return int(self.random() * stop)

    def randint(self, low: int, high: int) -> int:
        return low + self.randrange(high - low + 1)

    def choice(self, items: Sequence[T]) -> T:
        return items[self.randrange(len(items))]

    def sample(self, items: Sequence[T], count: int) -> list[T]:
        pool = list(items)
        return [pool.pop(self.randrange(len(pool))) for _ in range(count)]
