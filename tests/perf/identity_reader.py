"""Read Identity with ``IdentityRead`` against the real simulator, for the issue-13 tests.

Pages of ``page`` users (100 by default) make a tenant of a few thousand users long enough to
be partitioned (16 pages or more), so these tests stay fast; ``run_discovery`` always asks
for 1,000. ``turns`` is an injectable server "sleep" that yields to the event loop instead of
waiting: with the in-process simulator, requests then overlap deterministically, and the
server time still grows with the records of a page.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from oaa_concur.concur.identity import IdentityRead, identity_fetch
from oaa_concur.concur.pagination import CursorPaginator
from oaa_concur.concur.schedule import PriorityGate
from oaa_concur.concur.session import concur_session
from oaa_concur.simulator import RunningSimulator
from tests.fakes.clock import FakeTime
from tests.fakes.concur import client_for

TURNS_PER_SECOND = 10_000


async def turns(seconds: float) -> None:
    """The simulator's wait as event-loop turns (10,000 a second), never a real sleep."""
    for _ in range(max(1, round(seconds * TURNS_PER_SECOND))):
        await asyncio.sleep(0)


@dataclass
class Read:
    """What one read handed to the sink, and the reader (its prefixes, pages, totals)."""

    reader: IdentityRead
    ids: list[str] = field(default_factory=list)
    time: FakeTime = field(default_factory=FakeTime)

    def twice(self) -> list[str]:
        return [uid for uid, n in Counter(self.ids).items() if n > 1]


def read_identity(
    sim: RunningSimulator,
    state: Path,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
    page: int = 100,
    concurrency: int = 4,
    time: FakeTime | None = None,
) -> Read:
    """Refresh, then read every Identity user through ``IdentityRead`` (in process when
    ``transport`` is the simulator's ASGI transport, else over loopback); then (or when it
    raises) no task of the read may be left running."""
    time = time or FakeTime()
    read = Read(IdentityRead(CursorPaginator("Identity", page), concurrency), time=time)

    def sink(records: list[Any]) -> None:
        read.ids.extend(r["id"] for r in records)

    left: list[asyncio.Task[Any]] = []

    async def main() -> None:
        settings, secrets = client_for(sim, state)
        async with concur_session(settings, secrets, time.runtime(transport)) as session:
            session.tokens.use_refresh_token(secrets.refresh_token)
            await session.tokens.refresh()
            fetch = identity_fetch(session.api)
            try:
                await read.reader.run(fetch, sink, PriorityGate(concurrency))
            finally:
                left.extend(t for t in asyncio.all_tasks() if t is not asyncio.current_task())

    try:
        asyncio.run(main())
    finally:
        assert left == []  # whatever happened, no request of the read is still running
    return read


def tenant_ids(sim: RunningSimulator) -> set[str]:
    return {sim.tenant.user_id(i) for i in range(sim.tenant.users)}
