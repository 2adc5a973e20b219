"""What a run takes from its surroundings: sleeps, clocks, randomness and the Concur transport.

Production uses the defaults (``DEFAULT``). Tests build a ``Runtime`` with instant sleeps, a
fake clock or an ``httpx.ASGITransport`` and hand it down, so nothing patches module globals
(design.md §5): ``obj=`` of click's test runner for the real CLI (``cli.runtime_of``), then
``run_sync`` -> ``run_discovery`` / ``concur_session`` (the Concur client, its retries and
tokens) and ``oaa.push`` (the Veza retries). The retry policy itself is not an effect: it is
a parameter of those functions (``oaa_concur.retry``).
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import httpx

AsyncSleep = Callable[[float], Awaitable[None]]
SyncSleep = Callable[[float], None]
Clock = Callable[[], float]


@dataclass(frozen=True)
class Runtime:
    """Injected effects of one run. Every field has the production default."""

    sleep: AsyncSleep = asyncio.sleep
    """Async sleep between Concur retries."""
    sync_sleep: SyncSleep = time.sleep
    """Blocking sleep between Veza retries (``oaaclient`` is synchronous)."""
    clock: Clock = time.time
    """Wall clock, epoch seconds: token expiry, refresh-token expiry warnings, retry budgets,
    ``Retry-After`` dates."""
    rand: Callable[[], float] = field(default_factory=lambda: random.Random().random)
    """Uniform [0, 1) for retry jitter."""
    concur_transport: httpx.AsyncBaseTransport | None = None
    """An httpx transport for Concur (tests: ``httpx.ASGITransport`` over the simulator)."""


DEFAULT = Runtime()
"""The production effects."""
