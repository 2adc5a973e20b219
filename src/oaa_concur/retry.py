"""One retry policy for every remote call: Concur (async, httpx) and the Veza push (oaaclient).

Exponential backoff with jitter, a ``Retry-After`` floor and cap, an attempt limit and a total
budget (design.md §3.4). The caller says which failures are transient (``classify``); sleep,
clock and randomness come from its ``Runtime``, so tests never wait and nothing patches a
global (design.md §5).

Every retry is a WARNING naming the request, the host, what failed (the status, or the kind of
connection failure) and the attempt ("attempt 2 of 6, retrying in 1.8 s"): an unreachable
host is never silent while the retries run.

Concur's documented 429 carries ``retry-after: 0`` (concur-api.md §5.3), so the header is
honoured only above ``retry_after_floor_s``: trusting a zero would hammer an overloaded API.
``Retry-After`` is delta-seconds or an HTTP-date (RFC 9110 §10.2.3); a date is turned into
seconds against the injected clock.
"""

from __future__ import annotations

import email.utils
import logging
import math
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC
from typing import TypeVar

from oaa_concur.runtime import Runtime

LOG = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Transient:
    """A failed attempt worth retrying, as the caller's ``classify`` describes it."""

    retry_after: str | None = None
    """The ``Retry-After`` header as the server sent it, if any."""
    malformed: bool = False
    """A 2xx whose body could not be used: retried ``max_malformed_attempts`` times at most."""
    reason: str | None = None
    """What failed, for the retry's WARNING: ``HTTP 503``, ``connection refused``, ..."""
    host: str | None = None
    """The host (``host[:port]``) the failed attempt went to, for the WARNING."""


Classify = Callable[[Exception], Transient | None]
"""None: not transient, the error passes straight through."""
OnRetry = Callable[[Exception, int, float], None]
"""Told (error, failed attempt number, delay in seconds) before every retry."""


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long to retry. All durations in seconds."""

    max_attempts: int = 6
    max_malformed_attempts: int = 3
    base_s: float = 1.0
    cap_s: float = 30.0
    total_budget_s: float = 300.0
    """No retry whose wait would end more than this after the first attempt began."""
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

    def attempts_for(self, transient: Transient) -> int:
        if transient.malformed:
            return min(self.max_attempts, self.max_malformed_attempts)
        return self.max_attempts


def retry_after_seconds(value: str | None, now: float) -> float | None:
    """Seconds a ``Retry-After`` value asks for: delta-seconds, or an HTTP-date minus ``now``
    (epoch seconds). None when absent or unreadable (our own backoff applies)."""
    if value is None:
        return None
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:  # "-0000": UTC by RFC 5322
            when = when.replace(tzinfo=UTC)
        seconds = when.timestamp() - now
    return max(0.0, seconds) if math.isfinite(seconds) else None


class Retrier:
    """Runs a call under a ``RetryPolicy`` until it succeeds, fails for good, or the policy
    gives up (the last error is raised). ``run`` awaits coroutines, ``run_sync`` blocks."""

    def __init__(
        self,
        policy: RetryPolicy,
        classify: Classify,
        runtime: Runtime,
        *,
        on_retry: OnRetry | None = None,
    ) -> None:
        self.policy = policy
        self.classify = classify
        self.runtime = runtime
        self.on_retry = on_retry

    async def run(self, call: Callable[[], Awaitable[T]], what: str) -> T:
        start, attempt = self.runtime.clock(), 0
        while True:
            attempt += 1
            try:
                return await call()
            except Exception as error:
                delay = self._delay(error, attempt, start, what)
                if delay is None:
                    raise
            await self.runtime.sleep(delay)

    def run_sync(self, call: Callable[[], T], what: str) -> T:
        start, attempt = self.runtime.clock(), 0
        while True:
            attempt += 1
            try:
                return call()
            except Exception as error:
                delay = self._delay(error, attempt, start, what)
                if delay is None:
                    raise
            self.runtime.sync_sleep(delay)

    def _delay(self, error: Exception, attempt: int, start: float, what: str) -> float | None:
        """The wait before the next attempt, or None: give up and let ``error`` through."""
        transient = self.classify(error)
        if transient is None or attempt >= self.policy.attempts_for(transient):
            return None
        now = self.runtime.clock()
        hinted = retry_after_seconds(transient.retry_after, now)
        delay = self.policy.delay(attempt, hinted, self.runtime.rand())
        if now - start + delay > self.policy.total_budget_s:
            return None
        _warn(what, transient, attempt, self.policy.attempts_for(transient), delay)
        if self.on_retry is not None:
            self.on_retry(error, attempt, delay)
        return delay


def _warn(what: str, transient: Transient, attempt: int, attempts: int, delay: float) -> None:
    """One WARNING per retry: what, where, why, which attempt, how long until the next.

    ``GET /profile/identity/v4.1/Users failed at us2.api.concursolutions.com (HTTP 503);
    attempt 2 of 6, retrying in 1.8 s``; in JSON mode the same as fields (``event: retry``).
    """
    where = f" at {transient.host}" if transient.host else ""
    reason = transient.reason or "failed"
    LOG.warning(
        "%s failed%s (%s); attempt %d of %d, retrying in %.1f s",
        what,
        where,
        reason,
        attempt,
        attempts,
        delay,
        extra={
            "fields": {
                "event": "retry",
                "request": what,
                "host": transient.host,
                "reason": reason,
                "attempt": attempt,
                "attempts": attempts,
                "retry_in_s": round(delay, 3),
            }
        },
    )
