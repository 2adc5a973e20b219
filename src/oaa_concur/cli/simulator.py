"""CLI command `simulator`: run the bundled Concur simulator in the foreground.

Its fault, latency and tenant options come from ``simulator_options.KNOBS``.
"""

from __future__ import annotations

import signal
from pathlib import Path
from types import FrameType
from typing import Any

import click

from oaa_concur.cli.simulator_options import build_config, options
from oaa_concur.errors import ConfigError
from oaa_concur.simulator import SimulatorConfig, SimulatorServer
from oaa_concur.simulator.config import DEPRECATION_LINK
from oaa_concur.state.files import write_private


def write_env_file(path: Path, env: dict[str, str]) -> None:
    """KEY=value lines, mode 0600 (it holds the client secret and refresh token), written
    atomically and never through a symlink (``write_private``)."""
    write_private(path, "".join(f"{key}={value}\n" for key, value in env.items()))


def _raise_interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def _listen(config: SimulatorConfig, host: str, port: int) -> SimulatorServer:
    """Bind the simulator's sockets; a busy port or a host that is not ours is one sentence."""
    try:
        return SimulatorServer(config, host=host, port=port)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise ConfigError(
            f"The simulator cannot listen on {host}:{port} ({reason})",
            "choose another --port (0 picks a free one) or a --host of this machine",
        ) from None


def _run(config: SimulatorConfig, opts: dict[str, Any]) -> None:
    server = _listen(config, opts["host"], opts["port"])
    running = server.start()
    try:
        if opts["env_file"] is not None:
            write_env_file(opts["env_file"], running.env())
    except BaseException:
        server.stop()
        raise
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
    @click.option(
        "--port",
        type=click.IntRange(0, 65535),
        default=0,
        show_default=True,
        help="0: any free port.",
    )
    @click.option(
        "--env-file",
        type=click.Path(path_type=Path, dir_okay=False),
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
