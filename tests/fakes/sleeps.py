"""Instant retry sleeps for tests that drive the real CLI (which has no sleep parameter).

``instant_sleeps`` swaps the two default sleeps for recorders: the Concur retrier's
``_real_sleep`` and the Veza pusher's ``sleep`` default. Nothing else is replaced: every
request still crosses loopback HTTP to the real simulator or the fake Veza.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest

from oaa_concur.concur import retry
from oaa_concur.oaa.push import push as veza_push


@dataclass
class Slept:
    """What the CLI would have slept: Concur retries and Veza retries, in seconds."""

    concur: list[float] = field(default_factory=list)
    veza: list[float] = field(default_factory=list)

    async def concur_sleep(self, seconds: float) -> None:
        self.concur.append(seconds)

    def veza_sleep(self, seconds: float) -> None:
        self.veza.append(seconds)


@pytest.fixture
def instant_sleeps(monkeypatch: pytest.MonkeyPatch) -> Iterator[Slept]:
    slept = Slept()
    monkeypatch.setattr(retry, "_real_sleep", slept.concur_sleep)
    defaults = veza_push.__kwdefaults__
    assert defaults is not None and "sleep" in defaults
    monkeypatch.setitem(defaults, "sleep", slept.veza_sleep)
    yield slept
