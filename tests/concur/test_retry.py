"""The one retry policy (oaa_concur.retry) with injected sleep, clock and jitter: tests never
wait. Concur's classification (``http.transient``) drives it here; tests/oaa/test_push.py
drives it through the Veza push."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from email.utils import format_datetime

import pytest

from oaa_concur.concur.http import transient
from oaa_concur.errors import ConcurError, MalformedResponse, RetriableError
from oaa_concur.retry import Retrier, RetryPolicy, retry_after_seconds
from tests.fakes.clock import FakeTime, full_backoff

NOW = 1_800_000_000.0


def _failing(errors: list[Exception], result: str = "ok") -> tuple[Callable[[], str], list[int]]:
    calls: list[int] = []

    def call() -> str:
        calls.append(1)
        if errors:
            raise errors.pop(0)
        return result

    return call, calls


def _async(call: Callable[[], str]) -> Callable[[], Awaitable[str]]:
    async def run() -> str:
        return call()

    return run


def _retrier(policy: RetryPolicy, time: FakeTime, seen: list[float] | None = None) -> Retrier:
    def on_retry(error: Exception, attempt: int, delay: float) -> None:
        if seen is not None:
            seen.append(delay)

    return Retrier(policy, transient, time.runtime(), on_retry=on_retry)


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


def _http_date(epoch: float) -> str:
    return format_datetime(datetime.fromtimestamp(epoch, UTC), usegmt=True)


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("0", 0.0),
        (" 7 ", 7.0),
        ("2.5", 2.5),
        (_http_date(NOW + 42), 42.0),  # RFC 9110 §10.2.3: an HTTP-date, against the clock
        (_http_date(NOW - 600), 0.0),  # a date in the past: no wait asked for
        ("Wed, 21 Oct 2015 07:28:00 -0000", 0.0),
        ("soon", None),
        ("inf", None),
        ("", None),
        (None, None),
    ],
)
def test_retry_after_is_delta_seconds_or_an_http_date(
    value: str | None, seconds: float | None
) -> None:
    assert retry_after_seconds(value, NOW) == seconds


def test_an_http_date_retry_after_is_waited_for_against_the_injected_clock() -> None:
    time = FakeTime(start=NOW, rand=full_backoff)
    call, calls = _failing([RetriableError("429", retry_after=_http_date(NOW + 9))])
    result = asyncio.run(_retrier(RetryPolicy(), time).run(_async(call), "GET /x"))
    assert result == "ok" and len(calls) == 2 and time.slept == [9.0]


def test_retrier_retries_retriable_then_succeeds() -> None:
    time = FakeTime(rand=lambda: 0.5)
    seen: list[float] = []
    call, calls = _failing([RetriableError("503"), RetriableError("429", retry_after="0")])
    retrier = _retrier(RetryPolicy(jitter=0), time, seen)
    assert asyncio.run(retrier.run(_async(call), "GET /x")) == "ok"
    assert len(calls) == 3
    assert time.slept == seen == [1.0, 2.0]


def test_the_same_policy_runs_blocking_calls_with_the_blocking_sleep() -> None:
    time = FakeTime(rand=full_backoff)
    call, calls = _failing([RetriableError("503"), RetriableError("503")])
    assert _retrier(RetryPolicy(), time).run_sync(call, "push") == "ok"
    assert len(calls) == 3 and time.slept_sync == [1.0, 2.0] and time.slept == []


def test_retrier_does_not_retry_other_errors() -> None:
    time = FakeTime()
    call, calls = _failing([ConcurError("400")])
    with pytest.raises(ConcurError, match="400"):
        asyncio.run(_retrier(RetryPolicy(), time).run(_async(call), "GET /x"))
    assert len(calls) == 1 and time.slept == []


def test_retrier_gives_up_after_max_attempts() -> None:
    time = FakeTime(rand=full_backoff)
    call, calls = _failing([RetriableError(f"500 #{i}") for i in range(10)])
    with pytest.raises(RetriableError, match="500 #3"):
        asyncio.run(_retrier(RetryPolicy(max_attempts=4), time).run(_async(call), "GET /x"))
    assert len(calls) == 4 and len(time.slept) == 3


def test_malformed_retried_fewer_times() -> None:
    time = FakeTime()
    call, calls = _failing([MalformedResponse(f"bad {i}") for i in range(10)])
    policy = RetryPolicy(max_attempts=6, max_malformed_attempts=2)
    with pytest.raises(MalformedResponse):
        asyncio.run(_retrier(policy, time).run(_async(call), "GET /x"))
    assert len(calls) == 2


def test_total_budget_stops_retrying() -> None:
    time = FakeTime()
    call, calls = _failing([RetriableError("503") for _ in range(100)])
    policy = RetryPolicy(max_attempts=100, base_s=10, cap_s=10, jitter=0, total_budget_s=35)
    with pytest.raises(RetriableError):
        asyncio.run(_retrier(policy, time).run(_async(call), "GET /x"))
    assert time.slept == [10, 10, 10]
    assert len(calls) == 4
