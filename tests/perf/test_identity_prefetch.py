"""The Identity cursor stream sends the next request before handing a page on (issue #6).

Against the real simulator: every user once and no request past the last page; while a page
is handed on, the next page's request is already a running task; a consumer that stops early
leaves no request behind.
"""

from __future__ import annotations

import asyncio
from contextlib import aclosing
from datetime import UTC, datetime
from pathlib import Path

from oaa_concur.concur.auth import TokenManager, client_credentials
from oaa_concur.concur.http import ConcurApi, HttpClient
from oaa_concur.concur.identity import identity_pages
from oaa_concur.concur.pagination import CursorPaginator
from oaa_concur.models import RunStats
from oaa_concur.simulator import RunningSimulator, SimulatorConfig, running_simulator
from oaa_concur.state.credentials import CredentialStore

from ..concur.conftest import client_for


def _others() -> set[asyncio.Task[object]]:
    return {t for t in asyncio.all_tasks() if t is not asyncio.current_task()}


async def _read(
    sim: RunningSimulator, state: Path, *, stop_after: int | None
) -> tuple[list[list[str]], list[int], CursorPaginator]:
    """Ids per page, how many other tasks ran when each page arrived, and the paginator."""
    settings, secrets = client_for(sim, state)
    client_id, client_secret = client_credentials(secrets)
    http = HttpClient(RunStats(started_at=datetime.now(UTC)))
    tokens = TokenManager(
        http,
        CredentialStore(state),
        client_id=client_id,
        client_secret=client_secret,
        landing_url=settings.concur_url,
    )
    tokens.use_refresh_token(secrets.refresh_token)
    await tokens.refresh()
    paginator = CursorPaginator("Identity", 1000)
    pages: list[list[str]] = []
    in_flight: list[int] = []
    try:
        async with aclosing(identity_pages(ConcurApi(http, tokens), paginator)) as stream:
            async for records, _total in stream:
                pages.append([r["id"] for r in records])
                in_flight.append(len(_others()))
                if stop_after is not None and len(pages) == stop_after:
                    break
        await asyncio.sleep(0)  # let a cancelled request finish cancelling
        assert _others() == set()  # nothing left running after the stream is closed
    finally:
        await http.aclose()
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


def test_a_consumer_that_stops_early_leaves_no_request_behind(tmp_path: Path) -> None:
    with running_simulator(SimulatorConfig(users=3500, seed=3)) as sim:
        pages, in_flight, paginator = asyncio.run(_read(sim, tmp_path, stop_after=1))
    assert len(pages) == 1 and in_flight == [1]
    assert paginator.pages == 1
