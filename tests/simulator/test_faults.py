"""Injected faults: seeded 429/5xx/drops, failing and malformed pages, busy and latency."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from oaa_concur.simulator import RunningSimulator, SimulatorConfig, running_simulator
from tests.simulator.helpers import HoldUntil, bearer, concurrent_spend, search


@pytest.fixture
def client():  # type: ignore[no-untyped-def]
    with httpx.Client(timeout=10) as c:
        yield c


def _spend(
    client: httpx.Client, sim: RunningSimulator, headers: dict[str, str], start: int = 1
) -> httpx.Response:
    return client.get(
        f"{sim.api_url}/profile/spend/v4.1/Users",
        params={"startIndex": start, "count": 100},
        headers=headers,
    )


def test_429_with_retry_after_and_documented_body(client: httpx.Client) -> None:
    with running_simulator(SimulatorConfig(users=20, rate_429=1.0, retry_after="7")) as sim:
        response = _spend(client, sim, bearer(client, sim))
        token = client.post(f"{sim.url}/oauth2/v0/token", data={})
    assert response.status_code == 429
    assert response.headers["retry-after"] == "7"
    assert response.json()["error"]["id"] == "security.rate.limit.reached"
    assert "concur-correlationid" in response.headers
    assert token.status_code != 429  # faults hit the API routes only
    assert sim.state.faults["429"] == 1


def test_default_retry_after_is_zero_and_5xx(client: httpx.Client) -> None:
    with running_simulator(SimulatorConfig(users=20, rate_429=1.0)) as sim:
        assert _spend(client, sim, bearer(client, sim)).headers["retry-after"] == "0"
    with running_simulator(SimulatorConfig(users=20, rate_5xx=1.0)) as sim:
        headers = bearer(client, sim)
        statuses = {_spend(client, sim, headers).status_code for _ in range(12)}
    assert statuses <= {500, 502, 503, 504} and len(statuses) > 1


def test_dropped_connection_gets_no_response(client: httpx.Client) -> None:
    with running_simulator(SimulatorConfig(users=20, rate_drop=1.0)) as sim:
        headers = bearer(client, sim)
        with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
            _spend(client, sim, headers)
        assert sim.state.faults["drop"] == 1


def test_faults_are_seeded_and_reproducible(client: httpx.Client) -> None:
    runs = []
    for _ in range(2):
        config = SimulatorConfig(users=20, seed=3, rate_429=0.3, rate_5xx=0.2)
        with running_simulator(config) as sim:
            headers = bearer(client, sim)
            runs.append([_spend(client, sim, headers).status_code for _ in range(30)])
    assert runs[0] == runs[1]
    assert {200, 429} <= set(runs[0]) and any(s >= 500 for s in runs[0])


def test_fail_page_is_persistent(client: httpx.Client) -> None:
    config = SimulatorConfig(users=250, fail_page=("spend", 2))
    with running_simulator(config) as sim:
        headers = bearer(client, sim)
        assert _spend(client, sim, headers, 1).status_code == 200
        assert [_spend(client, sim, headers, 101).status_code for _ in range(3)] == [500] * 3
        assert _spend(client, sim, headers, 201).status_code == 200
    config = SimulatorConfig(users=2500, fail_page=("identity", 2))
    with running_simulator(config) as sim:
        headers = bearer(client, sim)
        first = search(client, sim, headers, count=1000)
        again = [
            search(client, sim, headers, count=1000, cursor=first.json()["nextCursor"]).status_code
            for _ in range(2)
        ]
    assert first.status_code == 200 and again == [500, 500]


def test_malformed_pages(client: httpx.Client) -> None:
    config = SimulatorConfig(users=50, malformed_page=("identity", 1))
    with running_simulator(config) as sim:
        response = search(client, sim, bearer(client, sim), count=10)
    assert response.status_code == 200
    with pytest.raises(ValueError):
        response.json()
    config = SimulatorConfig(users=50, malformed_page=("spend", 1))
    with running_simulator(config) as sim:
        html = _spend(client, sim, bearer(client, sim))
    assert html.status_code == 200 and html.headers["content-type"].startswith("text/html")


def test_concurrency_limit_answers_429(client: httpx.Client) -> None:
    hold = HoldUntil(lambda state: state.faults["busy"] >= 2)
    config = SimulatorConfig(users=20, concurrency_limit=1, latency_s=0.2, sleep=hold)
    with running_simulator(config) as sim:
        hold.state = sim.state
        statuses = asyncio.run(concurrent_spend(sim, bearer(client, sim), 3))
    assert sorted(statuses) == [200, 429, 429]
    assert sim.state.faults["busy"] == 2


def test_latency_does_not_block_other_requests(client: httpx.Client) -> None:
    hold = HoldUntil(lambda state: state.in_flight >= 4)
    with running_simulator(SimulatorConfig(users=20, latency_s=0.2, sleep=hold)) as sim:
        hold.state = sim.state
        statuses = asyncio.run(concurrent_spend(sim, bearer(client, sim), 4))
    assert statuses == [200] * 4
    assert sim.state.max_in_flight == 4  # all four were waiting at once
