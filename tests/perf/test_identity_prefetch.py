"""The Identity cursor stream sends the next request before handing a page on (issue #6).

Against the real simulator over loopback: every user once and no request past the last page;
while a page is handed on, the next page's request is already a running task; a consumer that
stops early leaves no request behind.
"""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path
from typing import Any

import pytest

from oaa_concur.concur.identity import identity_fetch, identity_paginator
from oaa_concur.concur.pagination import CursorPaginator, read_pages
from oaa_concur.concur.session import concur_session
from oaa_concur.simulator import RunningSimulator, SimulatorConfig, running_simulator
from tests.fakes.concur import client_for


class _Stop(Exception):
    """Raised by the consumer to stop reading."""


def _others() -> set[asyncio.Task[Any]]:
    return {t for t in asyncio.all_tasks() if t is not asyncio.current_task()}


async def _read(
    sim: RunningSimulator, state: Path, *, stop_after: int | None
) -> tuple[list[list[str]], list[int], CursorPaginator]:
    """Ids per page, how many other tasks ran when each page arrived, and the paginator."""
    settings, secrets = client_for(sim, state)
    paginator = identity_paginator()
    pages: list[list[str]] = []
    in_flight: list[int] = []

    def sink(records: list[Any]) -> None:
        pages.append([r["id"] for r in records])
        in_flight.append(len(_others()))
        if len(pages) == stop_after:
            raise _Stop

    async with concur_session(settings, secrets) as session:
        session.tokens.use_refresh_token(secrets.refresh_token)
        await session.tokens.refresh()
        with contextlib.suppress(_Stop):
            await read_pages(paginator, identity_fetch(session.api), sink, asyncio.Semaphore(1))
        assert _others() == set()  # nothing left running once read_pages has returned
    return pages, in_flight, paginator


def test_every_user_once_and_the_next_request_already_in_flight(tmp_path: Path) -> None:
    with running_simulator(SimulatorConfig(users=2500, seed=3)) as sim:
        pages, in_flight, paginator = asyncio.run(_read(sim, tmp_path, stop_after=None))
        identity_requests = sim.state.requests["identity"]
        expected = {sim.tenant.user_id(i) for i in range(2500)}
    ids = [uid for page in pages for uid in page]
    assert [len(p) for p in pages] == [1000, 1000, 500]
    assert len(ids) == len(set(ids)) and set(ids) == expected
    assert in_flight == [1, 1, 0]  # pages 2 and 3 were requested before 1 and 2 were handed on
    assert identity_requests == paginator.pages == 3  # no request past the last page


@pytest.mark.parametrize("stop_after", [1, 2])
def test_a_consumer_that_stops_early_leaves_no_request_behind(
    tmp_path: Path, stop_after: int
) -> None:
    with running_simulator(SimulatorConfig(users=3500, seed=3)) as sim:
        pages, in_flight, paginator = asyncio.run(_read(sim, tmp_path, stop_after=stop_after))
    assert len(pages) == stop_after and in_flight == [1] * stop_after
    assert paginator.pages == stop_after
