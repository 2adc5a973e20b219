"""Faults on partitioned Identity cursors (issue 13): 429, 5xx and dropped connections on any
page (the first, the partitions' held first pages, their follow-ups) are retried and every
user still arrives exactly once; a partition page that never reads ends the read with its
error (``discovery`` turns it into IncompleteDiscovery: nothing is pushed) and leaves no
request behind. ``IdentityRead`` with pages of 100 against the real simulator."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from oaa_concur.errors import MalformedResponse, RetriableError
from oaa_concur.retry import RetryPolicy
from oaa_concur.simulator import SimulatorConfig, running_simulator
from tests.fakes.concur import in_process
from tests.perf.identity_reader import read_identity, tenant_ids

HEX = tuple("0123456789abcdef")


@pytest.mark.parametrize(
    "faults",
    [
        {"rate_429": 0.2},
        {"rate_5xx": 0.15},
        {"rate_429": 0.1, "rate_5xx": 0.1, "fail_page": ("identity", 2), "fail_times": 4},
    ],
)
def test_status_faults_on_partitions_are_retried_and_every_user_arrives_once(
    tmp_path: Path, faults: dict[str, Any]
) -> None:
    concur = in_process(SimulatorConfig(users=2400, seed=6, **faults))
    read = read_identity(concur.sim, tmp_path, transport=concur.transport)
    state = concur.sim.state
    assert read.reader.prefixes == HEX
    assert sorted(read.ids) == sorted(tenant_ids(concur.sim)) and not read.twice()
    retried = state.requests["identity"] - read.reader.pages
    assert retried == sum(state.faults[k] for k in ("429", "5xx", "fail_page")) > 0
    assert len(read.time.slept) == retried  # one wait per retry, none real


def test_dropped_connections_on_partitions_are_retried(tmp_path: Path) -> None:
    with running_simulator(SimulatorConfig(users=2400, seed=6, rate_drop=0.1)) as sim:
        read = read_identity(sim, tmp_path)
        drops = sim.state.faults["drop"]
    assert read.reader.prefixes == HEX and drops > 0
    assert sorted(read.ids) == sorted(tenant_ids(sim)) and not read.twice()


@pytest.mark.parametrize(
    ("fault", "error"),
    [
        ({"fail_page": ("identity", 2)}, RetriableError),
        ({"malformed_page": ("identity", 2)}, MalformedResponse),
    ],
)
def test_a_partition_page_that_never_reads_ends_the_read(
    tmp_path: Path, fault: dict[str, Any], error: type[Exception]
) -> None:
    """Every partition's second page fails (500) or is cut short, for good: after the bounded
    retries the read raises, and no request of it is left running."""
    concur = in_process(SimulatorConfig(users=2400, seed=6, **fault))
    with pytest.raises(error):
        read_identity(concur.sim, tmp_path, transport=concur.transport)
    policy = RetryPolicy()
    kind = "fail_page" if "fail_page" in fault else "malformed_page"
    limit = policy.max_attempts if kind == "fail_page" else policy.max_malformed_attempts
    assert concur.sim.state.faults[kind] >= limit
    assert concur.sim.state.in_flight == 0
