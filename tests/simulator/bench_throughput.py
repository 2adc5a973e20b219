"""Throughput of the simulator: a full 100,000-user discovery's requests (not a test).

Run: .venv/bin/python -m tests.simulator.bench_throughput [users] [spend_concurrency]
"""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import orjson

from oaa_concur.simulator import SimulatorConfig, running_simulator

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


async def identity(client: httpx.AsyncClient, url: str) -> int:
    seen, cursor = 0, None
    while True:
        body = {"schemas": [SEARCH], "count": 1000, "attributes": ATTRS}
        if cursor:
            body["cursor"] = cursor
        response = await client.post(f"{url}/profile/identity/v4.1/Users/.search", json=body)
        page = orjson.loads(response.content)
        seen += len(page["Resources"])
        cursor = page.get("nextCursor")
        if not cursor:
            return seen


async def spend(client: httpx.AsyncClient, url: str, total: int, concurrency: int) -> int:
    gate = asyncio.Semaphore(concurrency)

    async def one(start: int) -> int:
        async with gate:
            response = await client.get(
                f"{url}/profile/spend/v4.1/Users", params={"startIndex": start, "count": 100}
            )
            return len(orjson.loads(response.content)["Resources"])

    return sum(await asyncio.gather(*(one(s) for s in range(1, total + 1, 100))))


async def fetch_all(env: dict[str, str], concurrency: int) -> str:
    """Sequential Identity cursor pages, then Spend pages ``concurrency`` at a time."""
    url = env["CONCUR_URL"]
    async with httpx.AsyncClient() as auth:
        token = (
            await auth.post(
                f"{url}/oauth2/v0/token",
                data={
                    "client_id": env["CONCUR_CLIENT_ID"],
                    "client_secret": env["CONCUR_CLIENT_SECRET"],
                    "grant_type": "refresh_token",
                    "refresh_token": env["CONCUR_REFRESH_TOKEN"],
                },
            )
        ).json()
    headers = {"Authorization": f"Bearer {token['access_token']}"}
    limits = httpx.Limits(max_connections=concurrency + 2)
    async with httpx.AsyncClient(headers=headers, timeout=60, limits=limits) as client:
        started = time.perf_counter()
        got_identity = await identity(client, url)
        t_identity = time.perf_counter() - started
        first = await client.get(f"{url}/profile/spend/v4.1/Users", params={"count": 1})
        started = time.perf_counter()
        got_spend = await spend(client, url, first.json()["totalResults"], concurrency)
        t_spend = time.perf_counter() - started
    return (
        f"identity {got_identity} users in {t_identity:.2f} s; spend {got_spend} records "
        f"in {t_spend:.2f} s (concurrency {concurrency}); "
        f"total {t_identity + t_spend:.2f} s"
    )


def in_process(users: int, concurrency: int) -> str:
    with running_simulator(SimulatorConfig(users=users)) as sim:
        return asyncio.run(fetch_all(sim.env(), concurrency))


def separate_process(users: int, concurrency: int) -> str:
    """The simulator as `oaa-concur simulator` in its own process (its own GIL)."""
    with tempfile.TemporaryDirectory() as tmp:
        env_file = Path(tmp) / "env"
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "oaa_concur",
                "simulator",
                "--users",
                str(users),
                "--env-file",
                str(env_file),
            ],
            stdout=subprocess.DEVNULL,
        )
        try:
            while not env_file.exists() or not env_file.read_text().count("\n") >= 4:
                time.sleep(0.05)
            env = dict(line.split("=", 1) for line in env_file.read_text().splitlines())
            return asyncio.run(fetch_all(env, concurrency))
        finally:
            proc.send_signal(signal.SIGINT)
            proc.wait(timeout=30)


def main() -> None:
    users = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    concurrency = int(sys.argv[2]) if len(sys.argv) > 2 else 8
    print(f"users={users}, simulator in its own process: {separate_process(users, concurrency)}")
    print(
        f"users={users}, simulator in-process (shares the GIL with the client): "
        f"{in_process(users, concurrency)}"
    )


if __name__ == "__main__":
    main()
