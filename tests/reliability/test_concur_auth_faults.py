"""Token faults survived (or failed cleanly): access token expiring mid-run, refresh token
revoked mid-run, a refresh answer without refresh_token, OAuth code 16 without geolocation."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest

from oaa_concur.concur.discovery import run_discovery
from oaa_concur.errors import ConcurAuthError
from oaa_concur.review.snapshot import SnapshotStore
from oaa_concur.simulator import SimulatorConfig, SimulatorState, running_simulator
from oaa_concur.state.credentials import CredentialStore, StoredCredentials
from tests.fakes.clock import FakeTime
from tests.fakes.concur import client_for, in_process
from tests.fakes.outcomes import last_line, no_run_left
from tests.fakes.veza import FakeVeza
from tests.support.cli import run_cli, sim_env

START = time.time()


def _expiring_clock(holder: list[SimulatorState], after_spend: int) -> Callable[[], float]:
    """The simulator's clock jumps two hours once ``after_spend`` Spend requests were served:
    every access token issued before then (1 h) is expired from that moment on."""

    def clock() -> float:
        jumped = bool(holder) and holder[0].requests["spend"] >= after_spend
        return START + (7200 if jumped else 0)

    return clock


def test_access_token_expiring_mid_run_is_refreshed_and_pushed(
    tmp_path: Path, state: Path, fake_veza: FakeVeza
) -> None:
    holder: list[SimulatorState] = []
    config = SimulatorConfig(users=400, seed=2, clock=_expiring_clock(holder, 2))
    fake = FakeTime()
    with running_simulator(config) as sim:
        holder.append(sim.state)
        result = run_cli(["discover"], sim_env(sim, state, fake_veza), fake.runtime())
        tokens = sim.state.requests["token"]
    assert result.exit_code == 0, result.output
    assert tokens == 2  # the first refresh, then exactly one after the 401s
    [push] = fake_veza.pushes
    assert len(push["payload"]["applications"][0]["local_users"]) == 400
    assert fake.slept == []  # a 401 is refreshed at once, not backed off


def test_refresh_token_revoked_mid_run_exits_1_with_one_sentence(
    tmp_path: Path, state: Path, fake_veza: FakeVeza
) -> None:
    holder: list[SimulatorState] = []
    config = SimulatorConfig(
        users=400, seed=2, clock=_expiring_clock(holder, 2), revoke_after_refreshes=1
    )
    out = tmp_path / "payload.json"
    with running_simulator(config) as sim:
        holder.append(sim.state)
        env = sim_env(sim, state, fake_veza)
        result = run_cli(["discover", "--save-json", str(out)], env, FakeTime().runtime())
        tokens = sim.state.requests["token"]
    assert result.exit_code == 1
    last = last_line(result.stderr)
    assert last.startswith("error: ") and "expired or was revoked" in last
    assert "auth exchange" in last and sim.refresh_token not in result.output
    # The first refresh, then the refused one (code 108); Identity and Spend both saw a 401
    # and the second may try once more before it is cancelled: never a loop.
    assert tokens in (2, 3)
    no_run_left(fake_veza, state, out)


def test_refresh_answer_without_refresh_token_keeps_the_old_one(tmp_path: Path) -> None:
    """concur-api.md §2.3: absent refresh_token -> keep ours; it is saved before any API call."""
    config = SimulatorConfig(users=150, split_geolocation=True, omit_refresh_token=True)
    concur = in_process(config)
    sim, runtime = concur.sim, FakeTime().runtime(concur.transport)
    settings, secrets = client_for(sim, tmp_path)
    saved: list[StoredCredentials | None] = []
    first = run_discovery(
        settings,
        secrets,
        progress=lambda *_: saved.append(CredentialStore(tmp_path).load()),
        runtime=runtime,
    )
    second = run_discovery(settings, secrets, runtime=runtime)
    tokens = sim.state.requests["token"]
    assert len(first.users) == len(second.users) == 150
    assert saved[0] is not None and saved[0].geolocation == sim.api_url
    stored = CredentialStore(tmp_path).load()
    assert stored is not None and stored.refresh_token == sim.refresh_token
    assert stored.refresh_expires_at is not None and stored.refresh_expires_at > START
    assert tokens == 2 + 1  # run 1: landing (code 16) + data center; run 2: data center


def test_code_16_without_geolocation_is_one_sentence(tmp_path: Path) -> None:
    config = SimulatorConfig(users=5, split_geolocation=True, elsewhere_geolocation=False)
    concur = in_process(config)
    settings, secrets = client_for(concur.sim, tmp_path)
    fake = FakeTime()
    with pytest.raises(ConcurAuthError, match="another data center") as info:
        run_discovery(settings, secrets, runtime=fake.runtime(concur.transport))
    tokens = concur.sim.state.requests["token"]
    assert info.value.code == 16 and info.value.exit_code == 1
    assert "CONCUR_URL" in str(info.value)
    assert tokens == 1 and fake.slept == []  # not retried, nowhere else to go
    assert SnapshotStore(tmp_path).list() == []
