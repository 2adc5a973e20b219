"""Helpers for client tests against the real simulator over loopback HTTP."""

from __future__ import annotations

from pathlib import Path

from oaa_concur.config import Secrets, Settings
from oaa_concur.simulator import RunningSimulator


class NoWait:
    """Injected sleep and clock: retries and backoff happen instantly, and are recorded."""

    def __init__(self, start: float = 1_800_000_000.0) -> None:
        self.now = start
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def client_for(
    sim: RunningSimulator, state_dir: Path, **env: str | None
) -> tuple[Settings, Secrets]:
    values: dict[str, str] = {**sim.env()}
    for key, value in env.items():
        if value is None:
            values.pop(key, None)
        else:
            values[key] = value
    settings = Settings(state_dir=state_dir, concur_url=values["CONCUR_URL"], concurrency=4)
    return settings, Secrets.from_env(values)
