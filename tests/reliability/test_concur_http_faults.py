"""Transient HTTP faults survived: 429 (retry-after 0, positive, an HTTP-date), each 5xx,
dropped connections and answers slower than the timeout. Status faults run the simulator in
process; drops and timeouts need a socket and run over loopback."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path

import httpx
import pytest

from oaa_concur.concur.discovery import run_discovery
from oaa_concur.errors import IncompleteDiscovery
from oaa_concur.models import DiscoveryResult
from oaa_concur.retry import RetryPolicy
from oaa_concur.simulator import SimulatorConfig, SimulatorState, running_simulator
from tests.fakes.clock import FakeTime
from tests.fakes.concur import client_for, in_process

POLICY = RetryPolicy()
START = 1_800_000_000.0


def _discover(
    config: SimulatorConfig, state: Path, fake: FakeTime
) -> tuple[DiscoveryResult, SimulatorState]:
    concur = in_process(config)
    settings, secrets = client_for(concur.sim, state)
    return run_discovery(
        settings, secrets, runtime=fake.runtime(concur.transport)
    ), concur.sim.state


def test_429_with_retry_after_zero_is_retried_above_the_floor(tmp_path: Path) -> None:
    config = SimulatorConfig(users=400, seed=5, rate_429=0.3, retry_after="0")
    fake = FakeTime()
    result, state = _discover(config, tmp_path, fake)
    faults = state.faults["429"]
    assert len(result.users) == 400
    assert result.stats is not None and result.stats.retries == faults == len(fake.slept) > 0
    # Concur's documented `retry-after: 0` is not trusted: never below the floor (1 s).
    assert min(fake.slept) >= POLICY.retry_after_floor_s


def test_429_with_a_positive_retry_after_is_honoured(tmp_path: Path) -> None:
    config = SimulatorConfig(users=400, seed=5, rate_429=0.3, retry_after="7")
    fake = FakeTime()
    result, state = _discover(config, tmp_path, fake)
    faults = state.faults["429"]
    assert len(result.users) == 400
    assert result.stats is not None and result.stats.retries == faults == len(fake.slept) > 0
    assert min(fake.slept) >= 7.0 and 7.0 in fake.slept  # waited what Concur asked, not less


def test_429_with_an_http_date_retry_after_is_honoured(tmp_path: Path) -> None:
    """RFC 9110 §10.2.3: a date, read against the injected clock (the fake clock moves only
    with the sleeps, so the first wait is exactly the 20 s to that date)."""
    when = format_datetime(datetime.fromtimestamp(START + 20, UTC), usegmt=True)
    config = SimulatorConfig(users=400, seed=5, rate_429=0.3, retry_after=when)
    fake = FakeTime(start=START)
    result, state = _discover(config, tmp_path, fake)
    assert len(result.users) == 400 and state.faults["429"] == len(fake.slept) > 0
    assert fake.slept[0] == 20.0


@pytest.mark.parametrize(
    ("status", "page"),
    [
        (500, ("identity", 1)),
        (502, ("spend", 2)),
        (503, ("identity", 1)),
        (504, ("spend", 3)),
    ],
)
def test_each_5xx_is_retried_then_the_page_is_read(
    tmp_path: Path, status: int, page: tuple[str, int]
) -> None:
    config = SimulatorConfig(users=400, seed=6, fail_page=page, fail_status=status, fail_times=2)
    fake = FakeTime()
    result, state = _discover(config, tmp_path, fake)
    faults = state.faults["fail_page"]
    spend_total = state.tenant.spend_total
    assert faults == 2 and len(fake.slept) == 2
    assert result.stats is not None and result.stats.retries == 2
    assert len(result.users) == 400
    assert (
        len(result.spend) + sum(i.kind.name == "ORPHAN_SPEND_RECORD" for i in result.issues)
        == spend_total
    )


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_random_5xx_of_each_status_are_retried(tmp_path: Path, status: int) -> None:
    config = SimulatorConfig(users=300, seed=8, rate_5xx=0.25, fault_statuses=(status,))
    fake = FakeTime()
    result, state = _discover(config, tmp_path, fake)
    faults = dict(state.faults)
    assert len(result.users) == 300
    assert faults["5xx"] == faults[f"status_{status}"] > 0
    assert result.stats is not None and result.stats.retries == faults["5xx"] == len(fake.slept)


def test_dropped_connections_are_retried(tmp_path: Path) -> None:
    config = SimulatorConfig(users=400, seed=9, rate_drop=0.25)
    with running_simulator(config) as sim:
        settings, secrets = client_for(sim, tmp_path)
        fake = FakeTime()
        result = run_discovery(settings, secrets, runtime=fake.runtime())
        drops = sim.state.faults["drop"]
    assert len(result.users) == 400 and drops > 0
    assert result.stats is not None and result.stats.retries == drops == len(fake.slept)


class _Timeouts(httpx.AsyncBaseTransport):
    """httpx's own transport over loopback; notes every request that timed out."""

    def __init__(self) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.timed_out: list[str] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        try:
            return await self.inner.handle_async_request(request)
        except httpx.TimeoutException:
            start = request.url.params.get("startIndex")
            self.timed_out.append(request.url.path.split("/")[2] + (f"@{start}" if start else ""))
            raise

    async def aclose(self) -> None:
        await self.inner.aclose()


def test_an_answer_slower_than_the_timeout_is_retried(tmp_path: Path) -> None:
    """``Settings.timeout_s`` reaches the HTTP client: a 0.6 s page times out at 0.15 s.

    A loaded machine may time out other requests too: every retry is then still one timeout,
    and the slow page's timeout is one of them, exactly once."""
    config = SimulatorConfig(users=300, slow_page=("spend", 2), slow_s=0.6, slow_times=1)
    transport, fake = _Timeouts(), FakeTime()
    with running_simulator(config) as sim:
        settings, secrets = client_for(sim, tmp_path)
        settings = replace(settings, timeout_s=0.15)
        result = run_discovery(settings, secrets, runtime=fake.runtime(transport))
        slow = sim.state.faults["slow_page"]
    assert len(result.users) == 300 and slow == 1
    assert transport.timed_out.count("spend@101") == 1
    assert result.stats is not None
    assert result.stats.retries == len(transport.timed_out) == len(fake.slept)


def test_an_answer_slower_than_the_timeout_every_time_fails_closed(tmp_path: Path) -> None:
    config = SimulatorConfig(users=300, slow_page=("identity", 1), slow_s=0.6)
    policy = RetryPolicy(max_attempts=3)
    transport, fake = _Timeouts(), FakeTime()
    with running_simulator(config) as sim:
        settings, secrets = client_for(sim, tmp_path)
        settings = replace(settings, timeout_s=0.15)
        with pytest.raises(IncompleteDiscovery) as info:
            run_discovery(settings, secrets, runtime=fake.runtime(transport), policy=policy)
        slow = sim.state.faults["slow_page"]
    assert slow == 3 and transport.timed_out.count("identity") == 3
    assert len(fake.slept) == len(transport.timed_out) - 1  # the third one was not retried
    assert "did not answer" in str(info.value) and "in time" in str(info.value)
    assert "nothing was pushed" in str(info.value) and info.value.exit_code == 1
