"""Outer ASGI layer: correlation ids, request counting, latency and seeded random faults."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import orjson

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
        send = _with_correlation_id(send)
        route = route_of(scope["path"])
        self.state.requests[route] += 1
        if route not in ("identity", "spend"):
            await self.app(scope, receive, send)
            return
        await self._api(route, scope, receive, send)

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
                await asyncio.sleep(config.latency_s)
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


def _with_correlation_id(send: Send) -> Send:
    """Every answer carries a fresh `concur-correlationid` (concur-api.md §5.1)."""

    async def wrapped(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = list(message.get("headers", []))
            headers.append((b"concur-correlationid", str(uuid.uuid4()).encode()))
            message["headers"] = headers
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
