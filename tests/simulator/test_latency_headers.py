"""Server time that grows with the records a page returns (issue 13), with an injected sleep so
nothing waits for real; and the deprecation headers of the API release notes (2026-02-04
"Preview: API Deprecation Headers", 2026-03-03 "Now Available")."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Iterator

import httpx
import pytest

from oaa_concur.simulator import SimulatorConfig, running_simulator
from oaa_concur.simulator.config import Deprecation
from tests.simulator.helpers import HoldUntil, bearer, concurrent_spend, search


@pytest.fixture(scope="module")
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=10) as c:
        yield c


class Waits:
    """An injected sleep that records what the server waits for and returns at once."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(round(seconds, 9))

    def take(self) -> list[float]:
        taken, self.delays = self.delays, []
        return taken


def test_server_time_is_flat_plus_per_record(http: httpx.Client) -> None:
    waits = Waits()
    config = SimulatorConfig(users=1500, latency_s=0.25, latency_per_record_s=0.0005, sleep=waits)
    with running_simulator(config) as sim:
        headers = bearer(http, sim)
        waits.take()  # (the token request costs nothing)
        full = search(http, sim, headers, count=1000).json()
        assert waits.take() == [0.25, 0.5]  # 1,000 users
        spend = http.get(f"{sim.api_url}/profile/spend/v4.1/Users", headers=headers).json()
        assert waits.take() == [0.25, 0.05]  # 100 records
        part = search(http, sim, headers, filter='id sw "a"', count=1000).json()
        assert waits.take() == [0.25, round(0.0005 * len(part["Resources"]), 9)]
        one = http.get(
            f"{sim.api_url}/profile/identity/v4.1/Users/{full['Resources'][0]['id']}",
            headers=headers,
        )
        assert one.status_code == 200 and waits.take() == [0.25, 0.0005]
        none = search(http, sim, headers, filter='userName eq "nobody"').json()
        assert none["Resources"] == [] and waits.take() == [0.25]
    assert len(spend["Resources"]) == 100 and 0 < len(part["Resources"]) < 1000


def test_waits_do_not_block_other_requests(http: httpx.Client) -> None:
    """Four per-record waits are in progress at once: the server does not block on them."""
    hold = HoldUntil(lambda state: state.in_flight >= 4)
    config = SimulatorConfig(users=50, latency_per_record_s=0.001, sleep=hold)
    with running_simulator(config) as sim:
        hold.state = sim.state
        headers = bearer(http, sim)

        statuses = asyncio.run(concurrent_spend(sim, headers, 4))
    assert statuses == [200] * 4 and sim.state.max_in_flight == 4


def test_deprecated_endpoints_carry_x_api_warn_and_sunset(http: httpx.Client) -> None:
    old = Deprecation(
        "/profile/identity/v4/Users", "/profile/identity/v4.1/Users", dt.date(2026, 12, 31)
    )
    with running_simulator(SimulatorConfig(users=5, deprecations=(old,))) as sim:
        headers = bearer(http, sim)
        listed = http.get(f"{sim.api_url}/profile/identity/v4/Users", headers=headers)
        uid = sim.tenant.user_id(1)
        one = http.get(f"{sim.api_url}/profile/identity/v4/Users/{uid}", headers=headers)
        newer = http.get(f"{sim.api_url}/profile/identity/v4.1/Users", headers=headers)
    for answer in (listed, one):
        assert answer.status_code == 200
        assert answer.headers["x-api-warn"] == (
            "'/profile/identity/v4/Users' is deprecated; use '/profile/identity/v4.1/Users'. "
            "See 'https://developer.concur.com/tools-support/release-notes/api/2026-03-03.html'"
            " for details."
        )
        assert answer.headers["sunset"] == "Thu, 31 Dec 2026 00:00:00 GMT"
    assert "x-api-warn" not in newer.headers and "sunset" not in newer.headers
    assert sim.state.faults["deprecated"] == 2
