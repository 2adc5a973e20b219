"""Runs the simulator with uvicorn in a background thread (one or two loopback listeners)."""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

from oaa_concur.simulator.app import create_app
from oaa_concur.simulator.config import SimulatorConfig
from oaa_concur.simulator.faults import DROP_EXTENSION, FaultLayer
from oaa_concur.simulator.state import SimulatorState
from oaa_concur.simulator.tenant import Tenant


class DroppingProtocol(H11Protocol):
    """uvicorn's h11 protocol plus a hook that closes the socket without any response."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        inner = self.app

        async def app(scope: Any, receive: Any, send: Any) -> None:
            scope.setdefault("extensions", {})[DROP_EXTENSION] = self._drop
            await inner(scope, receive, send)

        self.app = app

    async def _drop(self) -> None:
        if self.cycle is not None:
            self.cycle.disconnected = True  # uvicorn must not answer 500 for us
        self.transport.abort()
        await asyncio.sleep(0)


@dataclass
class RunningSimulator:
    """Handle on a running simulator: where it listens and the app's credentials."""

    url: str
    api_url: str
    client_id: str
    client_secret: str
    refresh_token: str
    company_uuid: str
    request_token: str
    state: SimulatorState
    tenant: Tenant

    def env(self) -> dict[str, str]:
        """The environment a client needs (design.md §2.2)."""
        return {
            "CONCUR_URL": self.url,
            "CONCUR_CLIENT_ID": self.client_id,
            "CONCUR_CLIENT_SECRET": self.client_secret,
            "CONCUR_REFRESH_TOKEN": self.refresh_token,
        }


def bind(host: str, port: int) -> socket.socket:
    """A listening TCP socket (port 0: any free port)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # proto must be IPPROTO_TCP: asyncio only sets TCP_NODELAY on such sockets, and without it
    # every response (headers and body are two writes) waits ~40 ms for a delayed ACK.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(1024)
    sock.setblocking(False)
    return sock


def _url(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


class SimulatorServer:
    """Owns the listeners and the uvicorn thread; start() then stop()."""

    def __init__(self, config: SimulatorConfig, host: str = "127.0.0.1", port: int = 0) -> None:
        self.state = SimulatorState.create(config)
        self.sockets = [bind(host, port)]
        if config.split_geolocation:
            self.sockets.append(bind(host, 0))
        self.state.landing_url = _url(self.sockets[0])
        self.state.api_url = _url(self.sockets[-1])
        self.state.tenant.base_url = self.state.api_url
        roles = ["landing", "api"] if config.split_geolocation else ["both"]
        self.servers = [self._server(role) for role in roles]
        self.thread = threading.Thread(target=self._run, name="concur-simulator", daemon=True)
        self.error: BaseException | None = None

    def _server(self, role: str) -> Any:
        app = FaultLayer(create_app(self.state, role), self.state)
        config = uvicorn.Config(
            app,
            http=DroppingProtocol,
            lifespan="off",
            access_log=False,
            log_level="warning",
            loop="asyncio",
            timeout_keep_alive=30,
        )
        return uvicorn.Server(config)

    def _run(self) -> None:
        async def serve_all() -> None:
            await asyncio.gather(
                *(
                    server.serve(sockets=[sock])
                    for server, sock in zip(self.servers, self.sockets, strict=True)
                )
            )

        try:
            asyncio.run(serve_all())
        except BaseException as exc:  # surfaced by start()
            self.error = exc

    def start(self, timeout: float = 10.0) -> RunningSimulator:
        self.thread.start()
        self.ready(timeout)
        tokens = self.state.tokens
        return RunningSimulator(
            url=self.state.landing_url,
            api_url=self.state.api_url,
            client_id=tokens.client_id,
            client_secret=tokens.client_secret,
            refresh_token=tokens.new_refresh_token(),
            company_uuid=tokens.company_uuid,
            request_token=tokens.new_request_token(),
            state=self.state,
            tenant=self.state.tenant,
        )

    def ready(self, timeout: float) -> None:
        done = threading.Event()
        for _ in range(int(timeout / 0.005)):
            if all(s.started for s in self.servers) or not self.thread.is_alive():
                break
            done.wait(0.005)
        if not all(s.started for s in self.servers):
            self.stop()
            raise RuntimeError(f"simulator did not start: {self.error!r}")

    def stop(self) -> None:
        for server in self.servers:
            server.should_exit = True
        self.thread.join(timeout=10)
        for sock in self.sockets:
            sock.close()


@contextmanager
def running_simulator(config: SimulatorConfig | None = None) -> Iterator[RunningSimulator]:
    """Start uvicorn in a background thread on 127.0.0.1 free port(s); stop on exit."""
    server = SimulatorServer(config or SimulatorConfig())
    running = server.start()
    try:
        yield running
    finally:
        server.stop()
