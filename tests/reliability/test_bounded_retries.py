"""A dead Concur fails the run in bounded time: attempts stop at the policy's maximum and the
backoff never exceeds its budget (sleeps and clock injected: nothing waits for real)."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from oaa_concur.concur.discovery import run_discovery
from oaa_concur.errors import IncompleteDiscovery, RetriableError
from oaa_concur.retry import RetryPolicy
from oaa_concur.simulator import SimulatorConfig, running_simulator
from tests.fakes.clock import FakeTime
from tests.fakes.concur import client_for, in_process
from tests.fakes.outcomes import last_line, no_run_left
from tests.support.cli import run_cli, sim_env

DEFAULT = RetryPolicy()
BUDGET_BOUND = RetryPolicy(max_attempts=100, total_budget_s=20.0)


def _closed_port() -> int:
    """A loopback port where nothing listens (connections are refused at once)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _attempts_allowed(policy: RetryPolicy, slept: list[float]) -> None:
    assert sum(slept) <= policy.total_budget_s
    assert all(0 < s <= policy.cap_s for s in slept)


@pytest.mark.parametrize("policy", [DEFAULT, BUDGET_BOUND], ids=["attempts", "budget"])
def test_concur_not_listening_fails_in_bounded_time(tmp_path: Path, policy: RetryPolicy) -> None:
    with running_simulator(SimulatorConfig(users=1)) as sim:
        settings, secrets = client_for(
            sim, tmp_path, CONCUR_URL=f"http://127.0.0.1:{_closed_port()}"
        )
        fake = FakeTime()
        start = fake.now
        with pytest.raises(RetriableError, match="connection to Concur failed") as info:
            run_discovery(settings, secrets, runtime=fake.runtime(), policy=policy)
    assert info.value.exit_code == 1
    _attempts_allowed(policy, fake.slept)
    assert fake.now - start <= policy.total_budget_s
    if policy is DEFAULT:
        assert len(fake.slept) == DEFAULT.max_attempts - 1  # 6 attempts, 5 waits
    else:
        assert len(fake.slept) + 1 < policy.max_attempts  # the budget stopped it first
        # It stopped because the next wait (at most the un-jittered backoff) would overrun.
        next_wait = min(policy.cap_s, policy.base_s * 2.0 ** len(fake.slept))
        assert sum(fake.slept) + next_wait > policy.total_budget_s


def test_concur_answering_5xx_to_everything_fails_in_bounded_time(tmp_path: Path) -> None:
    concur = in_process(SimulatorConfig(users=300, rate_5xx=1.0))
    settings, secrets = client_for(concur.sim, tmp_path)
    fake = FakeTime()
    with pytest.raises(IncompleteDiscovery, match="could not read every page"):
        run_discovery(settings, secrets, runtime=fake.runtime(concur.transport))
    requests = dict(concur.sim.state.requests)
    faults = concur.sim.state.faults["5xx"]
    # Identity and Spend retry side by side; the first to give up cancels the other.
    attempts = (requests.get("identity", 0), requests.get("spend", 0))
    assert max(attempts) == DEFAULT.max_attempts and min(attempts) <= DEFAULT.max_attempts
    assert faults == sum(attempts) and requests["token"] == 1
    assert len(fake.slept) <= 2 * (DEFAULT.max_attempts - 1)
    assert sum(fake.slept) <= 2 * DEFAULT.total_budget_s


def test_dead_concur_through_the_cli_is_exit_1_and_one_sentence(
    tmp_path: Path, state: Path
) -> None:
    port = _closed_port()
    out = tmp_path / "out" / "payload.json"
    fake = FakeTime()
    with running_simulator(SimulatorConfig(users=1)) as sim:
        env = {**sim_env(sim, state), "CONCUR_URL": f"http://127.0.0.1:{port}"}
        result = run_cli(["discover", "--no-push", "--save-json", str(out)], env, fake.runtime())
    assert result.exit_code == 1
    last = last_line(result.stderr)
    assert last == (
        f"error: The connection to Concur failed during POST /oauth2/v0/token at 127.0.0.1:{port} "
        "(connection refused): run again later; if it persists, check CONCUR_URL and the "
        "network or proxy"
    )
    assert len(fake.slept) == DEFAULT.max_attempts - 1
    no_run_left(None, state, out)
