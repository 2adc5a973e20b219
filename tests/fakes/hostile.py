"""A hostile Concur on loopback: the server an attacker (or a badly broken proxy) would run.

It speaks just enough of Concur for the real client to get going (the token endpoint, Identity
``.search``, the Spend list), and each route can be given an answer that tries to hurt: a
geolocation pointing elsewhere, a never-ending cursor, a ``totalResults`` of 10^12, a page far
larger than asked, an endless or gzip-bombed body, a body dripping one byte at a time. Endless
answers stop as soon as the client hangs up, and count what they managed to send (``sent``),
so a test can show the client stopped reading instead of taking it all.

``seen`` records every request (method, path, query, body), so a test can show a secret never
reached a host. Run it with ``hostile_concur(routes, host=...)``: any loopback address works
(127.0.0.2 is a different host name from 127.0.0.1, on the same machine).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import gzip
import itertools
import json
import threading
import time
from collections.abc import Awaitable, Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

import uvicorn

from oaa_concur.concur.scopes import REQUIRED_SCOPES
from oaa_concur.simulator.server import bind

TOKEN = "/oauth2/v0/token"
IDENTITY = "/profile/identity/v4.1/Users/.search"
SPEND = "/profile/spend/v4.1/Users"
CLIENT_ID = "hostile-client-id"
CLIENT_SECRET = "hostile-client-secret-5b2e9d"
REFRESH_TOKEN = "hostile-refresh-token-0-a41c77"
COMPANY = "3c1f9a52-7d4e-4b0e-9a51-6c2d8e4f0a11"
SELF = "self"
"""A geolocation meaning "this server's own URL"."""

ASGIMessage = dict[str, Any]
Receive = Callable[[], Awaitable[ASGIMessage]]
Send = Callable[[ASGIMessage], Awaitable[None]]


@dataclass(frozen=True)
class Seen:
    """One request as it arrived."""

    method: str
    path: str
    query: Mapping[str, list[str]]
    body: bytes


class Channel:
    """The response side of one request: the ASGI ``send``, and whether the client has gone."""

    def __init__(self, send: Send, receive: Receive, hostile: Hostile) -> None:
        self._send = send
        self.hostile = hostile
        self.gone = asyncio.Event()
        self._watch = asyncio.ensure_future(self._watch_disconnect(receive))

    async def _watch_disconnect(self, receive: Receive) -> None:
        while (await receive())["type"] != "http.disconnect":
            pass
        self.gone.set()

    @property
    def open(self) -> bool:
        return not (self.gone.is_set() or self.hostile.stopping.is_set())

    async def start(self, status: int, headers: list[tuple[str, str]]) -> None:
        raw = [(k.encode(), v.encode()) for k, v in headers]
        await self._send({"type": "http.response.start", "status": status, "headers": raw})

    async def body(self, chunk: bytes, *, more: bool = True) -> bool:
        """Send ``chunk``; False once the client has hung up (nothing more is sent)."""
        if not self.open:
            return False
        try:
            await self._send({"type": "http.response.body", "body": chunk, "more_body": more})
        except OSError:
            self.gone.set()
            return False
        self.hostile.count(len(chunk))
        # uvicorn's send returns at once for a client that has gone (no OSError): give the
        # disconnect watcher its turn, or this loop spins without ever seeing the hang-up.
        await asyncio.sleep(0)
        return self.open

    async def json(self, body: Any, status: int = 200) -> None:
        data = json.dumps(body).encode()
        await self.start(status, [("content-type", "application/json")])
        await self.body(data, more=False)

    def close(self) -> None:
        self._watch.cancel()


Answer = Callable[[Seen, Channel], Awaitable[None]]


@dataclass
class Hostile:
    """The server's state: its answers by path, what it saw and what it sent."""

    routes: dict[str, Answer]
    url: str = ""
    seen: list[Seen] = field(default_factory=list)
    sent: int = 0
    """Body bytes handed to the transport so far, over all requests."""
    stopping: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def count(self, n: int) -> None:
        with self._lock:
            self.sent += n

    def paths(self) -> list[str]:
        return [s.path for s in self.seen]

    def received(self, secret: str) -> bool:
        """Whether any request carried ``secret`` (in its body or query)."""
        needle = secret.encode()
        return any(needle in s.body or secret in str(s.query) for s in self.seen)

    async def __call__(self, scope: dict[str, Any], receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        query = parse_qs(scope.get("query_string", b"").decode())
        seen = Seen(scope["method"], scope["path"], query, body)
        self.seen.append(seen)
        channel = Channel(send, receive, self)
        try:
            answer = self.routes.get(scope["path"], not_found)
            await answer(seen, channel)
        finally:
            channel.close()


@contextmanager
def hostile_concur(routes: Mapping[str, Answer], host: str = "127.0.0.1") -> Iterator[Hostile]:
    """Serve ``routes`` (path -> answer; unknown paths 404) on a free port of ``host``."""
    hostile = Hostile(dict(routes))
    sock = bind(host, 0)
    hostile.url = f"http://{host}:{sock.getsockname()[1]}"
    config = uvicorn.Config(
        hostile,
        lifespan="off",
        access_log=False,
        log_level="critical",
        loop="asyncio",
        timeout_graceful_shutdown=1,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(
        target=lambda: asyncio.run(server.serve(sockets=[sock])), name="hostile", daemon=True
    )
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and thread.is_alive() and time.monotonic() < deadline:
        time.sleep(0.005)
    try:
        yield hostile
    finally:
        hostile.stopping.set()
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


def client_env(hostile: Hostile, state: str) -> dict[str, str]:
    """The environment of a client of ``hostile`` (its app, refresh token and state dir)."""
    return {
        "CONCUR_URL": hostile.url,
        "CONCUR_CLIENT_ID": CLIENT_ID,
        "CONCUR_CLIENT_SECRET": CLIENT_SECRET,
        "CONCUR_REFRESH_TOKEN": REFRESH_TOKEN,
        "OAA_CONCUR_STATE_DIR": state,
    }


# --- answers ----------------------------------------------------------------------------------


async def not_found(seen: Seen, channel: Channel) -> None:
    await channel.json({"detail": f"no route {seen.path}"}, 404)


def _jwt(claims: dict[str, Any]) -> str:
    part = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return f"eyJhbGciOiJSUzI1NiJ9.{part}.c2ln"


_serial = itertools.count(1)


def token(geolocation: str | None = SELF, *, rotate: bool = True) -> Answer:
    """A token answer: a new refresh token each time (``rotate``), the given geolocation
    (``SELF``: this server; None: no geolocation field)."""

    async def answer(seen: Seen, channel: Channel) -> None:
        n = next(_serial)
        body: dict[str, Any] = {
            "access_token": _jwt({"sub": COMPANY, "n": n}),
            "expires_in": "3600",
            "token_type": "Bearer",
            "scope": " ".join(REQUIRED_SCOPES),
            "refresh_expires_in": str(int(time.time()) + 180 * 86400),
        }
        if rotate:
            body["refresh_token"] = f"hostile-refresh-token-{n}-rotated"
        if geolocation is not None:
            body["geolocation"] = channel.hostile.url if geolocation == SELF else geolocation
        await channel.json(body)

    return answer


def code_16(geolocation: str) -> Answer:
    """OAuth code 16, "user lives elsewhere", naming ``geolocation`` (AUTH "Being Geo Aware")."""

    async def answer(seen: Seen, channel: Channel) -> None:
        error = {
            "code": 16,
            "error": "invalid_request",
            "error_description": "user lives elsewhere",
            "geolocation": geolocation,
        }
        await channel.json(error, 400)

    return answer


def user(uid: str, **fields: Any) -> dict[str, Any]:
    """An Identity v4.1 user record."""
    return {"id": uid, "userName": f"{uid}@example.com", "active": True, **fields}


def identity(records: list[dict[str, Any]], **page: Any) -> Answer:
    """One Identity page holding ``records`` (plus any page fields, e.g. ``nextCursor``)."""

    async def answer(seen: Seen, channel: Channel) -> None:
        await channel.json({"totalResults": len(records), "Resources": records, **page})

    return answer


def endless_cursor(records_per_page: int = 1) -> Answer:
    """Identity pages that never end: fresh users and a fresh ``nextCursor`` every time."""
    pages = itertools.count(1)

    async def answer(seen: Seen, channel: Channel) -> None:
        n = next(pages)
        records = [user(f"endless-{n}-{i}") for i in range(records_per_page)]
        await channel.json({"Resources": records, "nextCursor": f"cursor-{n}"})

    return answer


def spend(records: list[dict[str, Any]], total: int | None = None) -> Answer:
    """The Spend list by ``startIndex``/``count`` over ``records``; ``total`` may lie."""

    async def answer(seen: Seen, channel: Channel) -> None:
        start = int(seen.query.get("startIndex", ["1"])[0])
        count = int(seen.query.get("count", ["100"])[0])
        page = records[start - 1 : start - 1 + count]
        body = {
            "totalResults": len(records) if total is None else total,
            "startIndex": start,
            "itemsPerPage": len(page),
            "Resources": page,
        }
        await channel.json(body)

    return answer


def endless_body(*, declared: int | None = None, chunk: int = 64 * 1024) -> Answer:
    """A 200 whose JSON body never ends (or claims ``declared`` bytes of Content-Length)."""

    async def answer(seen: Seen, channel: Channel) -> None:
        headers = [("content-type", "application/json")]
        if declared is not None:
            headers.append(("content-length", str(declared)))
        await channel.start(200, headers)
        filler = b" " * chunk
        if await channel.body(b'{"Resources": ['):
            while await channel.body(filler):
                pass

    return answer


def gzip_bomb(inflated: int) -> Answer:
    """A small gzip body that inflates to ``inflated`` bytes (``Content-Encoding: gzip``)."""
    packed = gzip.compress(b'{"Resources": [' + b" " * inflated + b"]}", compresslevel=9)

    async def answer(seen: Seen, channel: Channel) -> None:
        headers = [("content-type", "application/json"), ("content-encoding", "gzip")]
        headers.append(("content-length", str(len(packed))))
        await channel.start(200, headers)
        await channel.body(packed, more=False)

    return answer


def drip(every_s: float) -> Answer:
    """A 200 whose body arrives one byte every ``every_s`` seconds, forever."""

    async def answer(seen: Seen, channel: Channel) -> None:
        await channel.start(200, [("content-type", "application/json")])
        while await channel.body(b" "):
            with contextlib.suppress(TimeoutError):  # the next byte, unless the client has gone
                await asyncio.wait_for(channel.gone.wait(), every_s)

    return answer


def error(status: int, body: dict[str, Any]) -> Answer:
    async def answer(seen: Seen, channel: Channel) -> None:
        await channel.json(body, status)

    return answer


def routes(users: list[dict[str, Any]] | None = None, **overrides: Answer) -> dict[str, Answer]:
    """A working Concur over ``users`` (default one user, with a Spend record each), with
    ``overrides`` by name: ``token``, ``identity``, ``spend``."""
    users = [user("u1", displayName="One")] if users is None else users
    answers: dict[str, Answer] = {
        "token": token(),
        "identity": identity(users),
        "spend": spend([{"id": u["id"]} for u in users]),
        **overrides,
    }
    return {TOKEN: answers["token"], IDENTITY: answers["identity"], SPEND: answers["spend"]}
