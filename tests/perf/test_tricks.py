"""The two performance tricks of discovery, each failing here if it stops working.

* ``gc_control.fewer_gc_passes``: a discovery keeps every record it parses, so CPython's
  default generation-0 threshold (700) re-walks the growing heap hundreds of times; with the
  raised threshold only a few passes run (432 against 3 for 5,000 users, measured).
* ``DiscoveryResult.__repr__`` is short: on Python 3.11 ``asyncio.run`` repr()s its main task,
  and with it the task's result, so a full repr of 100,000 users would cost seconds.
"""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from oaa_concur.concur.discovery import run_discovery
from oaa_concur.gc_control import GC_THRESHOLD
from oaa_concur.models import Company, DiscoveryResult, User
from oaa_concur.simulator import SimulatorConfig
from tests.fakes.clock import FakeTime
from tests.fakes.concur import client_for, in_process


@contextmanager
def _gc_passes() -> Iterator[list[int]]:
    """Counts the cyclic GC passes (of any generation) that start inside the block."""
    passes = [0]

    def count(phase: str, info: dict[str, int]) -> None:
        passes[0] += phase == "start"

    gc.callbacks.append(count)
    try:
        yield passes
    finally:
        gc.callbacks.remove(count)


def test_discovery_runs_few_gc_passes_and_restores_the_threshold(tmp_path: Path) -> None:
    concur = in_process(SimulatorConfig(users=5000, seed=3))
    settings, secrets = client_for(concur.sim, tmp_path)
    before = gc.get_threshold()
    during: list[int] = []
    with _gc_passes() as passes:
        result = run_discovery(
            settings,
            secrets,
            progress=lambda *_: during.append(gc.get_threshold()[0]),
            runtime=FakeTime().runtime(concur.transport),
        )
    assert len(result.users) == 5000
    assert set(during) == {GC_THRESHOLD} and gc.get_threshold() == before
    assert passes[0] < 20  # the default threshold runs over 400 here


def test_a_large_result_has_a_short_repr_also_as_the_result_of_asyncio_run() -> None:
    users = [User(id=f"user-{i:06d}", user_name=f"u{i}@acme.example") for i in range(50_000)]
    result = DiscoveryResult(Company("acme-uuid", "https://us2.api.concursolutions.com"), users, {})

    async def main() -> DiscoveryResult:
        return result

    assert asyncio.run(main()) is result
    text = repr(result)
    assert text == "DiscoveryResult(company='acme-uuid', users=50000, spend=0, issues=0)"
