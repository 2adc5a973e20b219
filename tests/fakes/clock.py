"""``FakeTime``: the one fake of time for tests. Its clock moves only when something sleeps.

``runtime()`` hands it to the code under test as a ``Runtime`` (the CLI takes it as click's
``obj``), so retries and backoff happen instantly and are recorded, and nothing patches a
module global. ``slept`` holds the async sleeps (Concur retries), ``slept_sync`` the blocking
ones (Veza retries).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable

import httpx

from oaa_concur.runtime import Runtime


def full_backoff() -> float:
    """A jitter draw of 1.0: every backoff is its full, un-jittered value (1, 2, 4, ... s)."""
    return 1.0


class FakeTime:
    """An injected clock and sleeps: waits happen instantly, advance the clock, are recorded."""

    def __init__(self, start: float | None = None, rand: Callable[[], float] | None = None) -> None:
        self.now = time.time() if start is None else start
        self.rand = rand or random.Random(0).random
        self.slept: list[float] = []
        self.slept_sync: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds

    def sync_sleep(self, seconds: float) -> None:
        self.slept_sync.append(seconds)
        self.now += seconds

    def runtime(self, concur_transport: httpx.AsyncBaseTransport | None = None) -> Runtime:
        """A ``Runtime`` on this fake time (optionally over a Concur transport)."""
        return Runtime(
            sleep=self.sleep,
            sync_sleep=self.sync_sleep,
            clock=self.clock,
            rand=self.rand,
            concur_transport=concur_transport,
        )
