"""CLI command `simulator`: run the bundled Concur simulator in the foreground."""

from __future__ import annotations

import signal
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import Any, TypeVar

import click

from oaa_concur.simulator import DEFAULT_SCOPES, SimulatorConfig, SimulatorServer
from oaa_concur.state.files import write_private

_KINDS = ("identity", "spend")
F = TypeVar("F", bound=Callable[..., Any])


def _page(value: str | None) -> tuple[str, int] | None:
    """Parse KIND:N (e.g. identity:3) for --fail-page / --malformed-page."""
    if not value:
        return None
    kind, _, number = value.partition(":")
    if kind not in _KINDS or not number.isdigit() or int(number) < 1:
        raise click.BadParameter(f"{value!r}: expected identity:N or spend:N with N >= 1")
    return kind, int(number)


def _rate(ctx: click.Context, param: click.Parameter, value: float) -> float:
    if not 0.0 <= value <= 1.0:
        raise click.BadParameter("must be between 0 and 1")
    return value


def build_config(opts: dict[str, Any]) -> SimulatorConfig:
    """SimulatorConfig from the command's options."""
    scopes = tuple(opts["scopes"].split()) if opts["scopes"] else DEFAULT_SCOPES
    return SimulatorConfig(
        users=opts["users"],
        seed=opts["seed"],
        split_geolocation=opts["split_geolocation"],
        rotate_refresh_tokens=opts["rotate_refresh_tokens"],
        access_token_ttl=opts["access_token_ttl"],
        scopes=scopes,
        latency_s=opts["latency_ms"] / 1000.0,
        concurrency_limit=opts["concurrency_limit"],
        rate_429=opts["rate_429"],
        retry_after=opts["retry_after"],
        rate_5xx=opts["rate_5xx"],
        rate_drop=opts["rate_drop"],
        fail_page=_page(opts["fail_page"]),
        malformed_page=_page(opts["malformed_page"]),
        revoke_after_refreshes=opts["revoke_after_refreshes"],
    )


def write_env_file(path: Path, env: dict[str, str]) -> None:
    """KEY=value lines, mode 0600 (it holds the client secret and refresh token), written
    atomically and never through a symlink (``write_private``)."""
    write_private(path, "".join(f"{key}={value}\n" for key, value in env.items()))


def _raise_interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def _run(opts: dict[str, Any]) -> None:
    server = SimulatorServer(build_config(opts), host=opts["host"], port=opts["port"])
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


def _rate_option(name: str, help_text: str) -> Callable[[F], F]:
    return click.option(
        name, type=float, default=0.0, callback=_rate, show_default=True, help=help_text
    )


def register(root: click.Group) -> None:
    @root.command("simulator")
    @click.option("--host", default="127.0.0.1", show_default=True)
    @click.option("--port", type=int, default=0, show_default=True, help="0: any free port.")
    @click.option("--users", type=click.IntRange(0, 2_000_000), default=200, show_default=True)
    @click.option("--seed", type=int, default=1, show_default=True)
    @click.option(
        "--env-file",
        type=click.Path(path_type=Path),
        default=None,
        help="Write CONCUR_URL/CLIENT_ID/CLIENT_SECRET/REFRESH_TOKEN here (0600).",
    )
    @click.option(
        "--split-geolocation",
        is_flag=True,
        help="Token landing host and data-center host on two ports.",
    )
    @click.option(
        "--rotate-refresh-tokens",
        is_flag=True,
        help="Every refresh returns a new refresh token; the old one dies.",
    )
    @click.option("--access-token-ttl", type=click.IntRange(1), default=3600, show_default=True)
    @click.option("--latency-ms", type=click.FloatRange(0), default=0.0, show_default=True)
    @click.option(
        "--concurrency-limit",
        type=click.IntRange(1),
        default=None,
        help="More simultaneous API requests are answered 429.",
    )
    @_rate_option("--rate-429", "Fraction of API requests answered 429.")
    @_rate_option("--rate-5xx", "Fraction of API requests answered 500/502/503/504.")
    @_rate_option("--rate-drop", "Fraction of API requests dropped unanswered.")
    @click.option("--retry-after", default="0", show_default=True)
    @click.option("--fail-page", default=None, help="KIND:N, e.g. identity:3 (always 500).")
    @click.option("--malformed-page", default=None, help="KIND:N answered 200 with a bad body.")
    @click.option("--revoke-after-refreshes", type=click.IntRange(1), default=None)
    @click.option("--scopes", default=None, help="Space-separated scopes granted to the app.")
    def simulator(**opts: Any) -> None:
        """Run the bundled SAP Concur simulator in the foreground (Ctrl-C stops it)."""
        _page(opts["fail_page"])
        _page(opts["malformed_page"])
        _run(opts)
