"""One gate for every Concur request of a run: at most ``slots`` at once, the most urgent first.

``--concurrency`` bounds the requests in flight (Concur answers 429 to clients beyond its
limits, concur-api.md §5.3). ``asyncio.Semaphore`` wakes its waiters first come, first served:
once Spend page 1 has told the total, a thousand Spend page requests wait at the gate, and an
Identity chain's next page would queue behind all of them although the run cannot end before
that chain does (issue 13). ``PriorityGate`` hands each freed slot to the waiter of highest
priority instead, first come first served among equals:

* ``URGENT``: the first Identity page and the partition counts, which decide how the rest of
  Identity is read (``identity.IdentityRead``);
* an Identity chain's next page: ``1 +`` the records its chain has left to read, so the longest
  remaining chain goes first;
* Spend index pages: ``SPEND`` (0), whenever no Identity page is waiting.

A slot is freed only after the page's follow-up requests are queued (``pagination.read_pages``),
so a chain's next page takes the slot its previous page held whenever nothing more urgent
waits. ``lane(priority)`` is what ``read_pages`` takes in place of a semaphore: the same gate,
seen by one listing with its own priorities.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import math
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

Priority = Callable[[dict[str, Any]], float]
"""The priority of one request, from its parameters (higher goes first)."""

URGENT = math.inf
SPEND = 0.0


class PriorityGate:
    """At most ``slots`` holders at a time; a freed slot goes straight to the waiter with the
    highest priority (FIFO among equal priorities). Cancelling a waiter removes it; a waiter
    cancelled just after it was handed a slot passes the slot on."""

    def __init__(self, slots: int) -> None:
        if slots < 1:
            raise ValueError("a gate needs at least one slot")
        self.slots = slots
        self.held = 0
        self.peak = 0
        """The most slots held at once (tests: never above ``slots``)."""
        self._waiting: list[tuple[float, int, asyncio.Future[None]]] = []
        self._order = itertools.count()
        self._live = 0

    @asynccontextmanager
    async def slot(self, priority: float) -> AsyncIterator[None]:
        """Hold one slot for the body of the ``async with``."""
        await self._acquire(priority)
        try:
            yield
        finally:
            self._release()

    def lane(self, priority: Priority) -> Lane:
        return Lane(self, priority)

    @property
    def waiting(self) -> int:
        """Requests waiting for a slot."""
        return self._live

    async def _acquire(self, priority: float) -> None:
        if self.held < self.slots and not self._live:
            self._take()
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._waiting, (-priority, next(self._order), future))
        self._live += 1
        try:
            await future
        except asyncio.CancelledError:
            if future.cancelled():
                self._live -= 1  # it never had a slot; its heap entry is skipped later
            else:
                self._release()  # handed a slot, then cancelled before it could use it
            raise

    def _take(self) -> None:
        self.held += 1
        self.peak = max(self.peak, self.held)

    def _release(self) -> None:
        """Give the slot to the most urgent live waiter, or free it."""
        self.held -= 1
        while self._waiting:
            *_, future = heapq.heappop(self._waiting)
            if not future.done():
                self._live -= 1
                self._take()
                future.set_result(None)
                return


class Lane:
    """The gate as one listing sees it: ``admit(params)`` waits with ``priority(params)``."""

    def __init__(self, gate: PriorityGate, priority: Priority) -> None:
        self.gate = gate
        self.priority = priority

    def admit(self, params: dict[str, Any]) -> AbstractAsyncContextManager[None]:
        return self.gate.slot(self.priority(params))
