"""RetryPolicy and Retrier with injected sleep, clock and randomness: tests never wait."""

from __future__ import annotations

import asyncio

import pytest

from oaa_concur.concur.retry import MalformedResponse, Retrier, RetryPolicy
from oaa_concur.errors import ConcurError, RetriableError


class FakeTime:
    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def _failing(errors: list[Exception], result: str = "ok"):  # type: ignore[no-untyped-def]
    calls = {"n": 0}

    async def call() -> str:
        calls["n"] += 1
        if errors:
            raise errors.pop(0)
        return result

    return call, calls


def test_backoff_grows_and_caps_without_jitter() -> None:
    policy = RetryPolicy(base_s=1, cap_s=5, jitter=0)
    assert [policy.delay(a, None, 0.3) for a in (1, 2, 3, 4)] == [1, 2, 4, 5]


def test_jitter_uses_injected_random() -> None:
    policy = RetryPolicy(base_s=2, jitter=0.5)
    assert policy.delay(1, None, 0.0) == 1.0
    assert policy.delay(1, None, 1.0) == 2.0


def test_retry_after_zero_is_floored() -> None:
    policy = RetryPolicy(base_s=0.1, jitter=0, retry_after_floor_s=1.5)
    assert policy.delay(1, 0.0, 0.5) == 1.5


def test_large_retry_after_honoured_but_capped() -> None:
    policy = RetryPolicy(base_s=0.1, jitter=0, retry_after_cap_s=60)
    assert policy.delay(1, 20.0, 0.5) == 20.0
    assert policy.delay(1, 900.0, 0.5) == 60.0


def test_retrier_retries_retriable_then_succeeds() -> None:
    t = FakeTime()
    seen: list[float] = []
    r = Retrier(
        RetryPolicy(jitter=0),
        sleep=t.sleep,
        clock=t.clock,
        rand=lambda: 0.5,
        on_retry=lambda e, d: seen.append(d),
    )
    call, calls = _failing([RetriableError("503"), RetriableError("429", retry_after=0)])
    assert asyncio.run(r.run(call, "GET /x")) == "ok"
    assert calls["n"] == 3
    assert t.slept == seen == [1.0, 2.0]


def test_retrier_does_not_retry_other_errors() -> None:
    t = FakeTime()
    r = Retrier(sleep=t.sleep, clock=t.clock)
    call, calls = _failing([ConcurError("400")])
    with pytest.raises(ConcurError, match="400"):
        asyncio.run(r.run(call, "GET /x"))
    assert calls["n"] == 1 and t.slept == []


def test_retrier_gives_up_after_max_attempts() -> None:
    t = FakeTime()
    r = Retrier(RetryPolicy(max_attempts=4), sleep=t.sleep, clock=t.clock, rand=lambda: 1.0)
    call, calls = _failing([RetriableError(f"500 #{i}") for i in range(10)])
    with pytest.raises(RetriableError, match="500 #3"):
        asyncio.run(r.run(call, "GET /x"))
    assert calls["n"] == 4 and len(t.slept) == 3


def test_malformed_retried_fewer_times() -> None:
    t = FakeTime()
    r = Retrier(RetryPolicy(max_attempts=6, max_malformed_attempts=2), sleep=t.sleep, clock=t.clock)
    call, calls = _failing([MalformedResponse(f"bad {i}") for i in range(10)])
    with pytest.raises(MalformedResponse):
        asyncio.run(r.run(call, "GET /x"))
    assert calls["n"] == 2


def test_total_budget_stops_retrying() -> None:
    t = FakeTime()
    r = Retrier(
        RetryPolicy(max_attempts=100, base_s=10, cap_s=10, jitter=0, total_budget_s=35),
        sleep=t.sleep,
        clock=t.clock,
    )
    call, calls = _failing([RetriableError("503") for _ in range(100)])
    with pytest.raises(RetriableError):
        asyncio.run(r.run(call, "GET /x"))
    assert t.slept == [10, 10, 10]
    assert calls["n"] == 4
