"""Server-side cost of one simulator page, in CPU seconds (not a test; robust to a busy machine).

Calls the whole ASGI app (fault layer, routing, auth, records, orjson) in-process with raw ASGI
messages: no socket, no HTTP client and no JSON parsing of the answer are counted.

Run: .venv/bin/python -m tests.simulator.bench_pages [users] [pages] [only]

``only`` (identity, spend, partition, none) runs one kind of page, e.g. under
``valgrind --tool=cachegrind --cache-sim=no`` to count instructions, which a busy machine does
not disturb: (instructions with N pages - instructions with "none") / N per page.
Spend pages are spread over the whole list (a run reads them all; the first seventh are
managers, whose records carry more).
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlencode

import orjson

from oaa_concur.simulator import SimulatorConfig, SimulatorState
from oaa_concur.simulator.app import create_app
from oaa_concur.simulator.faults import FaultLayer

SEARCH = "urn:ietf:params:scim:api:messages:concur:2.0:SearchRequest"
ATTRS = [
    "id",
    "userName",
    "active",
    "displayName",
    "emails",
    "entitlements",
    "meta",
    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User",
]
Call = Callable[..., Awaitable[tuple[int, bytes]]]


def caller(app: Any) -> Call:
    """``call(method, path, query=None, body=b"", headers=None) -> (status, body bytes)``."""

    async def call(
        method: str,
        path: str,
        query: dict[str, Any] | None = None,
        body: bytes = b"",
        headers: dict[str, str] | None = None,
    ) -> tuple[int, bytes]:
        scope = {
            "type": "http",
            "method": method,
            "path": path,
            "raw_path": path.encode(),
            "query_string": urlencode(query or {}).encode(),
            "headers": [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()],
            "http_version": "1.1",
            "scheme": "http",
            "server": ("sim", 80),
            "client": ("127.0.0.1", 1),
            "root_path": "",
        }
        sent = [False]
        out: dict[str, Any] = {"body": b""}

        async def receive() -> dict[str, Any]:
            if sent[0]:
                await asyncio.sleep(3600)
            sent[0] = True
            return {"type": "http.request", "body": body, "more_body": False}

        async def send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                out["status"] = message["status"]
            else:
                out["body"] += message.get("body", b"")

        await app(scope, receive, send)
        return out["status"], out["body"]

    return call


async def token_headers(call: Call, state: SimulatorState) -> dict[str, str]:
    form = {
        "client_id": state.tokens.client_id,
        "client_secret": state.tokens.client_secret,
        "grant_type": "refresh_token",
        "refresh_token": state.tokens.new_refresh_token(),
    }
    _, answer = await call(
        "POST",
        "/oauth2/v0/token",
        body=urlencode(form).encode(),
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    return {"authorization": f"Bearer {orjson.loads(answer)['access_token']}"}


async def timed(pages: int, one: Callable[[int], Awaitable[None]]) -> float:
    """CPU seconds per page over ``pages`` sequential pages."""
    started = time.process_time()
    for page in range(pages):
        await one(page)
    return (time.process_time() - started) / pages


async def measure(users: int, pages: int, only: str = "all") -> list[str]:
    state = SimulatorState.create(SimulatorConfig(users=users))
    call = caller(FaultLayer(create_app(state, "both"), state))
    headers = await token_headers(call, state)
    cursor: list[str | None] = [None]

    async def identity_page(_: int, filter_text: str | None = None) -> None:
        body: dict[str, Any] = {"schemas": [SEARCH], "count": 1000, "attributes": ATTRS}
        if filter_text:
            body["filter"] = filter_text
        if cursor[0]:
            body["cursor"] = cursor[0]
        status, raw = await call(
            "POST", "/profile/identity/v4.1/Users/.search", body=orjson.dumps(body), headers=headers
        )
        assert status == 200, raw[:200]
        cursor[0] = orjson.loads(raw).get("nextCursor")

    stride = max(1, state.tenant.spend_total // max(1, pages * 10) // 100) * 100

    async def spend_page(page: int) -> None:
        query = {"startIndex": 1 + (page * stride) % max(1, state.tenant.spend_total), "count": 100}
        status, raw = await call("GET", "/profile/spend/v4.1/Users", query, headers=headers)
        assert status == 200, raw[:200]

    await spend_page(0)  # one-off: the Spend list order is built on the first Spend request
    results = []
    if only in ("all", "identity"):
        per = await timed(pages, identity_page)
        results.append(f"identity page of 1000: {per * 1000:.1f} ms CPU")
    if only in ("all", "spend"):
        per = await timed(pages * 10, spend_page)
        results.append(f"spend page of 100: {per * 1000:.2f} ms CPU")
    if only not in ("all", "partition"):
        return results
    cursor[0] = None
    probe = orjson.dumps({"schemas": [SEARCH], "count": 1, "filter": 'id sw "a"'})
    started = time.process_time()
    status, _ = await call(
        "POST", "/profile/identity/v4.1/Users/.search", body=probe, headers=headers
    )
    build = time.process_time() - started
    if status == 200:  # a simulator with the SCIM filter grammar
        per = await timed(pages, lambda p: identity_page(p, 'id sw "a"'))
        results.append(
            f'partition `id sw "a"` page of 1000: {per * 1000:.1f} ms CPU '
            f"(once, on the first prefix filter: {build * 1000:.0f} ms to build the index)"
        )
    return results


def main() -> None:
    users = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    pages = int(sys.argv[2]) if len(sys.argv) > 2 else 20
    only = sys.argv[3] if len(sys.argv) > 3 else "all"
    for line in asyncio.run(measure(users, pages, only)):
        print(f"users={users}: {line}")


if __name__ == "__main__":
    main()
