"""Outer ASGI layer: correlation ids, request counting, latency and seeded random faults."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Awaitable, Callable, MutableMapping
from email.utils import format_datetime
from typing import Any

import orjson

from oaa_concur.simulator.config import Deprecation
from oaa_concur.simulator.errors import rate_limit_body, scim_error
from oaa_concur.simulator.state import SimulatorState

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

DROP_EXTENSION = "oaa_concur.simulator.drop"  # set by server.DroppingProtocol
_5XX = (500, 502, 503, 504)


def route_of(path: str) -> str:
    if path.startswith("/oauth2/"):
        return "token"
    if path.startswith("/profile/identity/"):
        return "identity"
    if path.startswith("/profile/spend/"):
        return "spend"
    return "other"


class FaultLayer:
    """Wraps the Starlette app; every decision is drawn from (seed, route, sequence)."""

    def __init__(self, app: ASGIApp, state: SimulatorState) -> None:
        self.app = app
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = [(b"concur-correlationid", str(uuid.uuid4()).encode())]
        headers += self._deprecation(scope["path"])
        send = _with_headers(send, headers)
        route = route_of(scope["path"])
        self.state.requests[route] += 1
        if route not in ("identity", "spend"):
            await self.app(scope, receive, send)
            return
        self.state.maybe_grow()
        await self._api(route, scope, receive, send)

    def _deprecation(self, path: str) -> list[tuple[bytes, bytes]]:
        for item in self.state.config.deprecations:
            base = item.endpoint.rstrip("/")
            if path == base or path.startswith(base + "/"):
                self.state.faults["deprecated"] += 1
                return deprecation_headers(item)
        return []

    async def _api(self, route: str, scope: Scope, receive: Receive, send: Send) -> None:
        state, config = self.state, self.state.config
        if config.concurrency_limit is not None and state.in_flight >= config.concurrency_limit:
            state.faults["busy"] += 1
            await _send_429(send, scope["path"], config.retry_after)
            return
        state.in_flight += 1
        state.max_in_flight = max(state.max_in_flight, state.in_flight)
        try:
            if config.latency_s > 0:
                await config.sleep(config.latency_s)
            if not await self._random_fault(route, scope, send):
                await self.app(scope, receive, send)
        finally:
            state.in_flight -= 1

    async def _random_fault(self, route: str, scope: Scope, send: Send) -> bool:
        config = self.state.config
        draw = self.state.fault_draw(route)
        if draw < config.rate_drop:
            self.state.faults["drop"] += 1
            drop = scope.get("extensions", {}).get(DROP_EXTENSION)
            if drop is None:
                raise ConnectionAbortedError("dropped (server without drop support)")
            await drop()
            return True
        draw -= config.rate_drop
        if draw < config.rate_429:
            self.state.faults["429"] += 1
            await _send_429(send, scope["path"], config.retry_after)
            return True
        draw -= config.rate_429
        if draw < config.rate_5xx:
            self.state.faults["5xx"] += 1
            statuses = config.fault_statuses or _5XX
            status = statuses[int(draw / config.rate_5xx * len(statuses)) % len(statuses)]
            self.state.faults[f"status_{status}"] += 1
            await _send(send, status, orjson.dumps(scim_error(status, "Service error")))
            return True
        return False


def deprecation_headers(item: Deprecation) -> list[tuple[bytes, bytes]]:
    """``x-api-warn`` and ``sunset`` as the API release notes of 2026-02-04 and 2026-03-03 show
    them: ``'<old>' is deprecated; use '<new>'. See '<link>' for details.`` and an HTTP-date
    (``Sun, 01 Mar 2020 00:00:00 GMT``, RFC 8594)."""
    warn = (
        f"'{item.endpoint}' is deprecated; use '{item.replacement}'. See '{item.link}' for details."
    )
    moment = dt.datetime.combine(item.sunset, dt.time(), tzinfo=dt.UTC)
    return [
        (b"x-api-warn", warn.encode()),
        (b"sunset", format_datetime(moment, usegmt=True).encode()),
    ]


def _with_headers(send: Send, extra: list[tuple[bytes, bytes]]) -> Send:
    """Every answer carries a fresh ``concur-correlationid`` (concur-api.md §5.1), plus the
    deprecation headers of its endpoint."""

    async def wrapped(message: Message) -> None:
        if message["type"] == "http.response.start":
            message["headers"] = [*message.get("headers", []), *extra]
        await send(message)

    return wrapped


async def _send_429(send: Send, path: str, retry_after: str) -> None:
    await _send(
        send, 429, orjson.dumps(rate_limit_body(path)), [(b"retry-after", retry_after.encode())]
    )


async def _send(
    send: Send, status: int, body: bytes, extra: list[tuple[bytes, bytes]] | None = None
) -> None:
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        *(extra or []),
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
