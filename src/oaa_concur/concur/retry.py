"""Declarative retry policy: exponential backoff with jitter, a Retry-After floor, a total budget.

Only ``RetriableError`` is retried (429, 5xx, timeouts, dropped connections, malformed 200
bodies); every other error passes straight through. Sleep, clock and randomness are injected
so tests never wait (design.md §3.4, §5).

Concur's documented 429 carries ``retry-after: 0`` (concur-api.md §5.3), so the header is
honoured only above ``retry_after_floor_s``: trusting a zero would hammer an overloaded API.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from oaa_concur.errors import RetriableError

LOG = logging.getLogger(__name__)
T = TypeVar("T")
Sleep = Callable[[float], Awaitable[None]]
Clock = Callable[[], float]


class MalformedResponse(RetriableError):
    """A 2xx whose body is not JSON or has the wrong shape.

    Retried, but fewer times than a 5xx (``RetryPolicy.max_malformed_attempts``): a truncated
    body is often a transient proxy or gateway fault, a permanently broken page is not.
    """


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long to retry. All durations in seconds."""

    max_attempts: int = 6
    max_malformed_attempts: int = 3
    base_s: float = 1.0
    cap_s: float = 30.0
    total_budget_s: float = 300.0
    retry_after_floor_s: float = 1.0
    retry_after_cap_s: float = 120.0
    jitter: float = 0.5
    """Fraction of the backoff that is randomised: 0.5 -> between 50 % and 100 % of it."""

    def delay(self, attempt: int, retry_after: float | None, rand: float) -> float:
        """Delay before attempt ``attempt + 1`` after failed attempt ``attempt`` (1-based)."""
        backoff = min(self.cap_s, self.base_s * 2.0 ** (attempt - 1))
        backoff *= 1 - self.jitter + self.jitter * rand
        if retry_after is not None:
            honoured = min(self.retry_after_cap_s, max(self.retry_after_floor_s, retry_after))
            backoff = max(backoff, honoured)
        return backoff

    def attempts_for(self, error: RetriableError) -> int:
        if isinstance(error, MalformedResponse):
            return min(self.max_attempts, self.max_malformed_attempts)
        return self.max_attempts


async def _real_sleep(seconds: float) -> None:
    await asyncio.sleep(seconds)


class Retrier:
    """Runs an async callable under a ``RetryPolicy``; ``on_retry`` is told about every retry."""

    def __init__(
        self,
        policy: RetryPolicy | None = None,
        *,
        sleep: Sleep | None = None,
        clock: Clock | None = None,
        rand: Callable[[], float] | None = None,
        on_retry: Callable[[RetriableError, float], None] | None = None,
    ) -> None:
        self.policy = policy or RetryPolicy()
        self.sleep = sleep or _real_sleep
        self.clock = clock or time.monotonic
        self.rand = rand or random.Random().random
        self.on_retry = on_retry

    async def run(self, call: Callable[[], Awaitable[T]], what: str) -> T:
        """Call until success, a non-retriable error, or the policy gives up (last error raised)."""
        start = self.clock()
        attempt = 0
        while True:
            attempt += 1
            try:
                return await call()
            except RetriableError as error:
                delay = self.policy.delay(attempt, error.retry_after, self.rand())
                if not self._may_retry(error, attempt, start, delay):
                    raise
                LOG.debug("%s failed (%s); retry %d in %.1f s", what, error, attempt, delay)
                if self.on_retry is not None:
                    self.on_retry(error, delay)
                await self.sleep(delay)

    def _may_retry(self, error: RetriableError, attempt: int, start: float, delay: float) -> bool:
        if attempt >= self.policy.attempts_for(error):
            return False
        return self.clock() - start + delay <= self.policy.total_budget_s
