"""``SEND_TURNS`` is enough for httpx to write the next Identity request before a page is parsed.

Real httpx over loopback, one cursor chain on a kept-alive connection (the steady state of the
Identity stream): httpcore's ``trace`` extension reports when a request's body is written, the
sink when a page is handed on. Both happen on the client's event loop, so the order is
deterministic: httpx 0.28 needs five turns. A smaller ``SEND_TURNS`` (0 included) fails here.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx

from oaa_concur.concur import pagination
from oaa_concur.concur.identity import SEARCH_PATH, identity_fetch, identity_paginator
from oaa_concur.concur.session import concur_session
from oaa_concur.runtime import Runtime
from oaa_concur.simulator import SimulatorConfig, running_simulator
from tests.fakes.concur import client_for


class _Traced(httpx.AsyncBaseTransport):
    """The real transport; notes "sent" when an Identity request's body is on the socket."""

    def __init__(self, events: list[str]) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.events = events

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == SEARCH_PATH:

            async def trace(name: str, info: dict[str, Any]) -> None:
                if name == "http11.send_request_body.complete":
                    self.events.append("sent")

            request.extensions["trace"] = trace
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


async def _read(settings: Any, secrets: Any, events: list[str]) -> None:
    runtime = Runtime(concur_transport=_Traced(events))
    async with concur_session(settings, secrets, runtime) as session:
        session.tokens.use_refresh_token(secrets.refresh_token)
        await session.tokens.refresh()
        await pagination.read_pages(
            identity_paginator(),
            identity_fetch(session.api),
            lambda records: events.append("parsed"),
            asyncio.Semaphore(1),
        )


def test_the_next_request_is_written_before_the_page_is_handed_on(tmp_path: Path) -> None:
    with running_simulator(SimulatorConfig(users=4500, seed=3)) as sim:
        settings, secrets = client_for(sim, tmp_path)
        events: list[str] = []
        asyncio.run(_read(settings, secrets, events))
    # Five pages: page n+1's request went out before page n was parsed, but for the last.
    assert events == ["sent"] + ["sent", "parsed"] * 4 + ["parsed"]
