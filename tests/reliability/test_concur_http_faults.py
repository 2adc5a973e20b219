"""Transient HTTP faults survived: 429 (retry-after 0 and positive), each 5xx, dropped
connections and answers slower than the timeout, against the simulator over loopback."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from oaa_concur.concur.discovery import run_discovery
from oaa_concur.concur.retry import RetryPolicy
from oaa_concur.errors import IncompleteDiscovery
from oaa_concur.simulator import SimulatorConfig, running_simulator
from tests.reliability.conftest import NoWait, client_for

POLICY = RetryPolicy()


def test_429_with_retry_after_zero_is_retried_above_the_floor(tmp_path: Path) -> None:
    config = SimulatorConfig(users=400, seed=5, rate_429=0.3, retry_after="0")
    with running_simulator(config) as sim:
        settings, secrets = client_for(sim, tmp_path)
        fake = NoWait()
        result = run_discovery(settings, secrets, clock=fake.clock, sleep=fake.sleep)
        faults = sim.state.faults["429"]
    assert len(result.users) == 400
    assert result.stats is not None and result.stats.retries == faults == len(fake.slept) > 0
    # Concur's documented `retry-after: 0` is not trusted: never below the floor (1 s).
    assert min(fake.slept) >= POLICY.retry_after_floor_s


def test_429_with_a_positive_retry_after_is_honoured(tmp_path: Path) -> None:
    config = SimulatorConfig(users=400, seed=5, rate_429=0.3, retry_after="7")
    with running_simulator(config) as sim:
        settings, secrets = client_for(sim, tmp_path)
        fake = NoWait()
        result = run_discovery(settings, secrets, clock=fake.clock, sleep=fake.sleep)
        faults = sim.state.faults["429"]
    assert len(result.users) == 400
    assert result.stats is not None and result.stats.retries == faults == len(fake.slept) > 0
    assert min(fake.slept) >= 7.0 and 7.0 in fake.slept  # waited what Concur asked, not less


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
    with running_simulator(config) as sim:
        settings, secrets = client_for(sim, tmp_path)
        fake = NoWait()
        result = run_discovery(settings, secrets, clock=fake.clock, sleep=fake.sleep)
        faults = sim.state.faults["fail_page"]
        spend_total = sim.tenant.spend_total
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
    with running_simulator(config) as sim:
        settings, secrets = client_for(sim, tmp_path)
        fake = NoWait()
        result = run_discovery(settings, secrets, clock=fake.clock, sleep=fake.sleep)
        faults = dict(sim.state.faults)
    assert len(result.users) == 300
    assert faults["5xx"] == faults[f"status_{status}"] > 0
    assert result.stats is not None and result.stats.retries == faults["5xx"] == len(fake.slept)


def test_dropped_connections_are_retried(tmp_path: Path) -> None:
    config = SimulatorConfig(users=400, seed=9, rate_drop=0.25)
    with running_simulator(config) as sim:
        settings, secrets = client_for(sim, tmp_path)
        fake = NoWait()
        result = run_discovery(settings, secrets, clock=fake.clock, sleep=fake.sleep)
        drops = sim.state.faults["drop"]
    assert len(result.users) == 400 and drops > 0
    assert result.stats is not None and result.stats.retries == drops == len(fake.slept)


def test_an_answer_slower_than_the_timeout_is_retried(tmp_path: Path) -> None:
    """``Settings.timeout_s`` reaches the HTTP client: a 0.6 s page times out at 0.15 s."""
    config = SimulatorConfig(users=300, slow_page=("spend", 2), slow_s=0.6, slow_times=1)
    with running_simulator(config) as sim:
        settings, secrets = client_for(sim, tmp_path)
        settings = replace(settings, timeout_s=0.15)
        fake = NoWait()
        result = run_discovery(settings, secrets, clock=fake.clock, sleep=fake.sleep)
        slow = sim.state.faults["slow_page"]
    assert len(result.users) == 300
    assert slow == 1 and result.stats is not None and result.stats.retries == 1


def test_an_answer_slower_than_the_timeout_every_time_fails_closed(tmp_path: Path) -> None:
    config = SimulatorConfig(users=300, slow_page=("identity", 1), slow_s=0.6)
    policy = RetryPolicy(max_attempts=3)
    with running_simulator(config) as sim:
        settings, secrets = client_for(sim, tmp_path)
        settings = replace(settings, timeout_s=0.15)
        fake = NoWait()
        with pytest.raises(IncompleteDiscovery) as info:
            run_discovery(settings, secrets, clock=fake.clock, sleep=fake.sleep, policy=policy)
        slow = sim.state.faults["slow_page"]
    assert slow == 3 and len(fake.slept) == 2
    assert "did not answer" in str(info.value) and "in time" in str(info.value)
    assert "nothing was pushed" in str(info.value) and info.value.exit_code == 1
