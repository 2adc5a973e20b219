"""The real CLI in-process, with the environment a scheduled run would have."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from click.testing import CliRunner, Result

from oaa_concur.cli import main
from oaa_concur.runtime import Runtime
from oaa_concur.simulator import RunningSimulator
from tests.fakes.veza import FakeVeza

CLEARED = (
    "CONCUR_URL",
    "CONCUR_CLIENT_ID",
    "CONCUR_CLIENT_SECRET",
    "CONCUR_REFRESH_TOKEN",
    "CONCUR_REQUEST_TOKEN",
    "VEZA_URL",
    "VEZA_API_KEY",
    "OAA_CONCUR_STATE_DIR",
    "OAA_CONCUR_TRUSTED_HOSTS",
    "VEZA_UNSAFE_HTTPS",
    "REQUESTS_CA_BUNDLE",
    "HTTPS_PROXY",
    "HTTP_PROXY",
    "ALL_PROXY",
)
"""Variables the product reads: unset for every run unless the test gives them."""


def sim_env(sim: RunningSimulator, state: Path, veza: FakeVeza | None = None) -> dict[str, str]:
    """The environment a scheduled run would have: Concur app, refresh token, Veza, state dir."""
    env = {**sim.env(), "OAA_CONCUR_STATE_DIR": str(state)}
    if veza is not None:
        env |= {
            "VEZA_URL": veza.url,
            "VEZA_API_KEY": veza.api_key,
            "REQUESTS_CA_BUNDLE": str(veza.ca_path),
        }
    return env


def run_cli(
    args: list[str], env: Mapping[str, str | None], runtime: Runtime | None = None
) -> Result:
    """Invoke ``oaa-concur`` in-process with exactly ``env`` for the variables we read (a None
    value unsets that variable for the run) and ``runtime`` as its injected effects."""
    full: dict[str, str | None] = dict.fromkeys(CLEARED)
    full.update(env)
    return CliRunner().invoke(main, args, env=full, obj=runtime)
