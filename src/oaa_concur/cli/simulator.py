"""CLI command `simulator`: run the bundled Concur simulator in the foreground.

Its fault, latency and tenant options come from ``simulator_options.KNOBS``.
"""

from __future__ import annotations

import os
import signal
from pathlib import Path
from types import FrameType
from typing import Any

import click

from oaa_concur.cli.simulator_options import build_config, options
from oaa_concur.simulator import SimulatorConfig, SimulatorServer
from oaa_concur.simulator.config import DEPRECATION_LINK


def write_env_file(path: Path, env: dict[str, str]) -> None:
    """KEY=value lines, created mode 0600 (it holds the client secret and refresh token)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.writelines(f"{key}={value}\n" for key, value in env.items())


def _raise_interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def _run(config: SimulatorConfig, opts: dict[str, Any]) -> None:
    server = SimulatorServer(config, host=opts["host"], port=opts["port"])
    running = server.start()
    if opts["env_file"] is not None:
        write_env_file(opts["env_file"], running.env())
    click.echo(f"Concur simulator listening on {running.url}")
    if running.api_url != running.url:
        click.echo(f"  data-center (geolocation) URL: {running.api_url}")
    click.echo(f"  users: {running.tenant.users}  company UUID: {running.company_uuid}")
    for key, value in running.env().items():
        click.echo(f"  {key}={value}")
    click.echo(f"  CONCUR_REQUEST_TOKEN={running.request_token}  (valid 24 h)")
    click.echo("Press Ctrl-C to stop.")
    signal.signal(signal.SIGTERM, _raise_interrupt)
    try:
        while server.thread.is_alive():
            server.thread.join(0.5)
    except KeyboardInterrupt:
        click.echo("stopping simulator")
    finally:
        server.stop()


def register(root: click.Group) -> None:
    @root.command("simulator")
    @click.option("--host", default="127.0.0.1", show_default=True)
    @click.option("--port", type=int, default=0, show_default=True, help="0: any free port.")
    @click.option(
        "--env-file",
        type=click.Path(path_type=Path),
        default=None,
        help="Write CONCUR_URL/CLIENT_ID/CLIENT_SECRET/REFRESH_TOKEN here (0600).",
    )
    @options
    @click.option(
        "--deprecation-link",
        default=DEPRECATION_LINK,
        show_default=True,
        help="The link named in x-api-warn (with --deprecate).",
    )
    def simulator(**opts: Any) -> None:
        """Run the bundled SAP Concur simulator in the foreground (Ctrl-C stops it)."""
        _run(build_config(opts), opts)
