"""Every attempt sends the access token current at that moment (design.md §3.4).

Concur's clock is the client's injected one, so each retry's backoff moves both. Access tokens
live 2 s; one Spend page answers 503 five times while eight requests are in flight. The retries
of that page span several token lifetimes: a retry that resent the token chosen before its
first attempt would meet a 401 after its one refresh was spent, and fail a run in which
nothing is wrong.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from oaa_concur.concur.discovery import run_discovery
from oaa_concur.simulator import SimulatorConfig
from tests.fakes.clock import FakeTime
from tests.fakes.concur import client_for, in_process


def test_retries_across_token_lifetimes_send_the_current_token(tmp_path: Path) -> None:
    time = FakeTime(start=1_800_000_000.0)
    config = SimulatorConfig(
        users=2000,
        seed=3,
        fail_page=("spend", 2),
        fail_status=503,
        fail_times=5,
        access_token_ttl=2,
        clock=time.clock,
    )
    concur = in_process(config)
    settings, secrets = client_for(concur.sim, tmp_path)
    result = run_discovery(
        replace(settings, concurrency=8), secrets, runtime=time.runtime(concur.transport)
    )
    state = concur.sim.state
    assert len(result.users) == 2000 and state.faults["fail_page"] == 5
    assert result.stats is not None and result.stats.retries == 5 == len(time.slept)
    assert sum(time.slept) > 3 * config.access_token_ttl  # the retries outlived three tokens
    assert state.requests["token"] >= 3  # refreshed ahead of expiry, between the attempts
