"""``schedule.PriorityGate``: the bound, the order a freed slot is given in, and cancellation.

Pure asyncio, no HTTP: holders and waiters are tasks, a slot is released when a test says so.
The last test drives two listings through ``read_pages`` over pages served from memory and
shows why the gate exists: with ``asyncio.Semaphore`` (FIFO) an Identity chain's next page
queues behind the Spend pages asked before it; with the gate it takes the slot at once.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from oaa_concur.concur.pagination import (
    CursorPaginator,
    Gate,
    IndexPaginator,
    Params,
    read_pages,
)
from oaa_concur.concur.schedule import SPEND, URGENT, PriorityGate


class _Holders:
    """Tasks that take a slot with a priority, note when they got it, and hold it until
    released by the test."""

    def __init__(self, gate: PriorityGate) -> None:
        self.gate = gate
        self.order: list[str] = []
        self.release: dict[str, asyncio.Event] = {}
        self.tasks: dict[str, asyncio.Task[None]] = {}

    def start(self, name: str, priority: float) -> None:
        self.release[name] = asyncio.Event()
        self.tasks[name] = asyncio.ensure_future(self._hold(name, priority))

    async def _hold(self, name: str, priority: float) -> None:
        async with self.gate.slot(priority):
            self.order.append(name)
            await self.release[name].wait()

    async def let_go(self, name: str) -> None:
        self.release[name].set()
        await self.tasks[name]
        for _ in range(3):
            await asyncio.sleep(0)


def test_a_freed_slot_goes_to_the_most_urgent_waiter_first_come_among_equals() -> None:
    async def main() -> list[str]:
        gate = PriorityGate(1)
        holders = _Holders(gate)
        holders.start("first", SPEND)
        await asyncio.sleep(0)
        for name, priority in [("s1", SPEND), ("s2", SPEND), ("c5", 5), ("u", URGENT)]:
            holders.start(name, priority)
        holders.start("c5b", 5)
        holders.start("s3", SPEND)
        await asyncio.sleep(0)
        assert gate.waiting == 6 and gate.held == 1
        for name in ["first", "u", "c5", "c5b", "s1", "s2", "s3"]:
            await holders.let_go(name)
        assert gate.held == 0 and gate.waiting == 0 and gate.peak == 1
        return holders.order

    assert asyncio.run(main()) == ["first", "u", "c5", "c5b", "s1", "s2", "s3"]


def test_never_more_holders_than_slots() -> None:
    async def main() -> int:
        gate = PriorityGate(3)
        holding = [0]
        most = [0]

        async def work(priority: float) -> None:
            async with gate.slot(priority):
                holding[0] += 1
                most[0] = max(most[0], holding[0])
                for _ in range(int(priority) % 4 + 1):
                    await asyncio.sleep(0)
                holding[0] -= 1

        await asyncio.gather(*(work(float(i % 7)) for i in range(50)))
        assert gate.peak == 3 and gate.held == 0
        return most[0]

    assert asyncio.run(main()) == 3


def test_a_cancelled_waiter_gives_up_its_place_and_a_cancelled_winner_its_slot() -> None:
    async def main() -> list[str]:
        gate = PriorityGate(1)
        holders = _Holders(gate)
        holders.start("gone", 9)
        holders.start("winner", 5)
        holders.start("next", SPEND)
        async with gate.slot(URGENT):  # held here while the three queue up
            await asyncio.sleep(0)
            holders.tasks["gone"].cancel()  # waiting: it just leaves
            await asyncio.sleep(0)
            assert gate.waiting == 2
        # leaving the block handed the slot to "winner", which has not run yet
        assert gate.held == 1 and gate.waiting == 1
        holders.tasks["winner"].cancel()  # so it passes the slot on
        for _ in range(3):
            await asyncio.sleep(0)
        await holders.let_go("next")
        assert gate.held == 0 and gate.waiting == 0
        return holders.order

    assert asyncio.run(main()) == ["next"]


def test_a_gate_has_a_slot() -> None:
    with pytest.raises(ValueError, match="at least one slot"):
        PriorityGate(0)


class _Served:
    """An Identity chain of three pages and ten Spend pages, noting the order they are asked."""

    def __init__(self, asked: list[str]) -> None:
        self.asked = asked

    async def identity(self, params: Params) -> dict[str, Any]:
        page = 1 + int(params.get("cursor", "c1")[1:]) if "cursor" in params else 1
        self.asked.append(f"I{page}")
        await asyncio.sleep(0)
        more = {"nextCursor": f"c{page}"} if page < 3 else {}
        return {"Resources": [{"id": f"u{page}"}], **more}

    async def spend(self, params: Params) -> dict[str, Any]:
        self.asked.append(f"S{1 + params['startIndex'] // 100}")
        for _ in range(3):
            await asyncio.sleep(0)
        return {"Resources": [{"id": "s"}] * 100, "totalResults": 1000}


def _order(identity_gate: Gate, spend_gate: Gate) -> list[str]:
    asked: list[str] = []
    served = _Served(asked)

    async def main() -> None:
        spend = IndexPaginator("Spend", 100)
        spend_pages = read_pages(spend, served.spend, lambda r: None, spend_gate)
        await asyncio.sleep(0)  # Spend page 1 first, so its nine followers are queued early
        for _ in range(4):
            await asyncio.sleep(0)
        identity = read_pages(
            CursorPaginator("Identity"), served.identity, lambda r: None, identity_gate
        )
        await asyncio.gather(spend_pages, identity)

    asyncio.run(main())
    return asked


def test_an_identity_chain_is_not_queued_behind_spend_pages() -> None:
    gate = PriorityGate(2)
    with_gate = _order(gate.lane(lambda _: 1.0), gate.lane(lambda _: SPEND))
    semaphore = asyncio.Semaphore(2)
    fifo = _order(semaphore, semaphore)
    assert sorted(with_gate) == sorted(fifo) and len(fifo) == 13
    chain = [with_gate.index(f"I{n}") for n in (1, 2, 3)]
    # the next page of the chain is asked as soon as the previous one answered: at most one
    # Spend page (the one in the other slot) starts between two pages of the chain
    assert chain[1] - chain[0] <= 2 and chain[2] - chain[1] <= 2
    assert fifo.index("I3") > fifo.index("S10")  # FIFO: the chain's last page waits for all
