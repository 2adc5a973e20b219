"""Small HTTP helpers for the simulator's tests (real HTTP over loopback with httpx)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import httpx

from oaa_concur.simulator import RunningSimulator, SimulatorState

SEARCH = "urn:ietf:params:scim:api:messages:concur:2.0:SearchRequest"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
ROLE = "urn:ietf:params:scim:schemas:extension:spend:2.0:Role"


def token_form(sim: RunningSimulator, **fields: str) -> dict[str, str]:
    return {"client_id": sim.client_id, "client_secret": sim.client_secret, **fields}


def refresh(
    client: httpx.Client, sim: RunningSimulator, token: str | None = None, host: str | None = None
) -> httpx.Response:
    form = token_form(sim, grant_type="refresh_token", refresh_token=token or sim.refresh_token)
    return client.post(f"{host or sim.api_url}/oauth2/v0/token", data=form)


def bearer(client: httpx.Client, sim: RunningSimulator) -> dict[str, str]:
    response = refresh(client, sim)
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def search(
    client: httpx.Client, sim: RunningSimulator, headers: dict[str, str], **body: Any
) -> httpx.Response:
    return client.post(
        f"{sim.api_url}/profile/identity/v4.1/Users/.search",
        json={"schemas": [SEARCH], **body},
        headers=headers,
    )


def all_identity(
    client: httpx.Client, sim: RunningSimulator, headers: dict[str, str], **body: Any
) -> list[dict[str, Any]]:
    """Follow nextCursor to the end; refuses a repeated cursor."""
    users: list[dict[str, Any]] = []
    seen: set[str] = set()
    cursor = None
    while True:
        extra: dict[str, Any] = {"cursor": cursor} if cursor else {}
        page = search(client, sim, headers, **body, **extra)
        assert page.status_code == 200, page.text
        data = page.json()
        users.extend(data["Resources"])
        cursor = data.get("nextCursor")
        if cursor is None:
            return users
        assert cursor not in seen
        seen.add(cursor)


class HoldUntil:
    """An injected server sleep that returns (without real waiting) once ``ready`` holds for
    the running simulator: requests stay in flight until the others have arrived."""

    def __init__(self, ready: Callable[[SimulatorState], bool]) -> None:
        self.ready = ready
        self.state: SimulatorState | None = None
        self.released = False  # latched: the last to arrive may finish before the others look

    async def __call__(self, seconds: float) -> None:
        for _ in range(5000):  # bounded: a blocked server fails the test, not hangs it
            if self.released or (self.state is not None and self.ready(self.state)):
                self.released = True
                return
            await asyncio.sleep(0.001)  # a poll that lets the GIL go, not a modelled delay


async def concurrent_spend(sim: RunningSimulator, headers: dict[str, str], n: int) -> list[int]:
    """Status codes of ``n`` simultaneous Spend list requests."""
    async with httpx.AsyncClient(timeout=10) as aclient:
        url = f"{sim.api_url}/profile/spend/v4.1/Users"
        responses = await asyncio.gather(*(aclient.get(url, headers=headers) for _ in range(n)))
    return [r.status_code for r in responses]
