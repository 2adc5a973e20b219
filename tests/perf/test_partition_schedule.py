"""One gate for Identity and Spend (issue 13): never more requests in flight than
``--concurrency``, and Identity's pages first. The real discovery against the simulator in
process; the simulator's server time is counted in event-loop turns (``identity_reader.turns``)
so that requests overlap as they would over a network, deterministically and without waiting.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import httpx

from oaa_concur.concur.discovery import run_discovery
from oaa_concur.simulator import SimulatorConfig
from tests.fakes.clock import FakeTime
from tests.fakes.concur import client_for, in_process
from tests.perf.identity_reader import turns


class _Arrivals(httpx.AsyncBaseTransport):
    """The simulator's transport; notes when each Identity or Spend request starts and ends."""

    def __init__(self, inner: httpx.AsyncBaseTransport, events: list[str]) -> None:
        self.inner, self.events = inner, events

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        kind = request.url.path.split("/")[2] if request.url.path.startswith("/profile/") else ""
        if kind:
            self.events.append(f"{kind} start")
        response = await self.inner.handle_async_request(request)
        await response.aread()
        if kind:
            self.events.append(f"{kind} end")
        return response


def _discover(config: SimulatorConfig, state: Path, concurrency: int) -> list[str]:
    concur = in_process(config)
    events: list[str] = []
    settings, secrets = client_for(concur.sim, state)
    settings = replace(settings, concurrency=concurrency)
    runtime = FakeTime().runtime(_Arrivals(concur.transport, events))
    result = run_discovery(settings, secrets, runtime=runtime)
    assert len(result.users) == config.users == len({u.id for u in result.users})
    state_ = concur.sim.state
    assert state_.faults["busy"] == 0  # the simulator's limit is the client's: never crossed
    assert state_.max_in_flight == concurrency  # and every slot was used
    return events


def test_identity_pages_go_first_and_in_flight_never_exceeds_the_concurrency(
    tmp_path: Path,
) -> None:
    """Two Identity pages of 1,000 and twenty Spend pages, 500 turns a request plus one a
    record, four slots. When the first Identity page ends, a dozen Spend pages are waiting;
    the next Identity page still goes first, and Identity is done long before Spend."""
    config = SimulatorConfig(
        users=2000,
        seed=5,
        latency_s=0.05,
        latency_per_record_s=0.0001,
        sleep=turns,
        concurrency_limit=4,
    )
    events = _discover(config, tmp_path, concurrency=4)
    first_end = events.index("identity end")
    second = events.index("identity start", first_end)
    # Spend pages that start in between were handed a slot freed before the Identity page
    # ended (one each, at most the three other slots); under FIFO the page would wait for
    # every Spend page asked before it
    assert events[first_end:second].count("spend start") <= 3
    starts = [e for e in events if e.endswith("start")]
    last_identity = max(i for i, e in enumerate(starts) if e == "identity start")
    assert starts.count("spend start") >= 20 and last_identity < len(starts) - 5
