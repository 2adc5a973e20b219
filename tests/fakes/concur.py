"""The real simulator for client tests, over loopback or in process, and client settings for it.

``in_process(config)`` serves the simulator's Starlette app through ``httpx.ASGITransport``
(``Runtime.concur_transport``): no socket, no uvicorn thread, and every request is scheduled
on the client's own event loop, so ordering is deterministic. It cannot drop a connection or
time out: tests of those stay on loopback (``running_simulator``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import httpx

from oaa_concur.config import Secrets, Settings
from oaa_concur.simulator import RunningSimulator, SimulatorConfig, SimulatorState
from oaa_concur.simulator.app import create_app
from oaa_concur.simulator.faults import ASGIApp, FaultLayer, Receive, Scope, Send

LANDING_PORT, API_PORT = 18001, 18002


@dataclass
class InProcess:
    """An in-process simulator: ``sim`` as ``running_simulator`` gives it, plus its transport."""

    sim: RunningSimulator
    transport: httpx.ASGITransport


def in_process(config: SimulatorConfig | None = None) -> InProcess:
    """The simulator of ``config`` behind an ASGI transport (``http://127.0.0.1:18001``; with
    ``split_geolocation`` the company's data center answers at port 18002)."""
    config = config or SimulatorConfig()
    state = SimulatorState.create(config)
    split = config.split_geolocation
    roles = {LANDING_PORT: "landing", API_PORT: "api"} if split else {LANDING_PORT: "both"}
    state.landing_url = f"http://127.0.0.1:{LANDING_PORT}"
    state.api_url = f"http://127.0.0.1:{max(roles)}"
    state.tenant.base_url = state.api_url
    apps = {port: FaultLayer(create_app(state, role), state) for port, role in roles.items()}

    async def by_port(scope: Scope, receive: Receive, send: Send) -> None:
        app: ASGIApp = apps[scope["server"][1]]
        await app(scope, receive, send)

    tokens = state.tokens
    sim = RunningSimulator(
        url=state.landing_url,
        api_url=state.api_url,
        client_id=tokens.client_id,
        client_secret=tokens.client_secret,
        refresh_token=tokens.new_refresh_token(),
        company_uuid=tokens.company_uuid,
        request_token=tokens.new_request_token(),
        state=state,
        tenant=state.tenant,
    )
    return InProcess(sim, httpx.ASGITransport(app=by_port))


def client_for(
    sim: RunningSimulator, state_dir: Path, **env: str | None
) -> tuple[Settings, Secrets]:
    """Settings and secrets of a client of ``sim`` (``env`` overrides: None removes a value)."""
    values: dict[str, str] = {**sim.env()}
    for key, value in env.items():
        if value is None:
            values.pop(key, None)
        else:
            values[key] = value
    settings = Settings(state_dir=state_dir, concur_url=values["CONCUR_URL"], concurrency=4)
    return settings, Secrets.from_env(values)
