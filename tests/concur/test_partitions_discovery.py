"""Issue 13 end to end: ``run_discovery`` partitions a tenant of 16 pages or more (16,500
users, pages of 1,000) and shares one gate with Spend. Against the simulator in process, its
server time counted in event-loop turns so that requests overlap without waiting."""

from __future__ import annotations

import logging
import math
from dataclasses import replace
from pathlib import Path

import pytest

from oaa_concur.concur.discovery import run_discovery
from oaa_concur.simulator import SimulatorConfig
from tests.fakes.clock import FakeTime
from tests.fakes.concur import client_for, in_process
from tests.perf.identity_reader import tenant_ids, turns

USERS = 16_500


def test_a_large_tenant_is_read_in_partitions_once_within_the_request_target(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, "oaa_concur.concur.identity")
    config = SimulatorConfig(
        users=USERS, seed=9, latency_per_record_s=0.0001, sleep=turns, concurrency_limit=8
    )
    concur = in_process(config)
    settings, secrets = client_for(concur.sim, tmp_path)
    settings = replace(settings, concurrency=8)
    result = run_discovery(settings, secrets, runtime=FakeTime().runtime(concur.transport))
    state, stats = concur.sim.state, result.stats
    assert stats is not None
    ids = [u.id for u in result.users]
    assert len(ids) == len(set(ids)) and set(ids) == tenant_ids(concur.sim)
    assert "Reading Identity as 16 disjoint cursors" in caplog.text
    # design.md §6: 1.05 x the minimum, plus one per partition and one count request
    minimum = math.ceil(USERS / 1000) + math.ceil(USERS / 100)
    api = state.requests["identity"] + state.requests["spend"]
    assert api <= 1.05 * minimum + 16 + 1
    assert stats.identity_pages == state.requests["identity"]
    assert (
        stats.spend_pages
        == state.requests["spend"]
        == math.ceil(concur.sim.tenant.spend_total / 100)
    )
    assert state.max_in_flight == 8 and state.faults["busy"] == 0
