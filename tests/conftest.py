"""Fixtures every test directory shares: the bundled Concur simulator and a state directory.

A module that needs one simulator for all its tests sets ``SIMULATOR = SimulatorConfig(...)``
and asks for ``sim``; a test that needs a simulator of its own asks for ``simulators`` and
starts it with ``simulators(config)``. Either way it runs on a free loopback port and stops
when the module's tests are done.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest

from oaa_concur.simulator import RunningSimulator, SimulatorConfig, running_simulator

SimulatorFactory = Callable[[SimulatorConfig], RunningSimulator]


@pytest.fixture(scope="module")
def simulators() -> Iterator[SimulatorFactory]:
    """Starts simulators: ``simulators(config)``; each stops at the end of the module."""
    with ExitStack() as running:

        def start(config: SimulatorConfig) -> RunningSimulator:
            return running.enter_context(running_simulator(config))

        yield start


@pytest.fixture(scope="module")
def sim(request: pytest.FixtureRequest, simulators: SimulatorFactory) -> RunningSimulator:
    """The module's simulator, configured by the module's ``SIMULATOR``."""
    config = getattr(request.module, "SIMULATOR", None)
    assert isinstance(config, SimulatorConfig), (
        f"{request.module.__name__} asks for `sim` but sets no SIMULATOR = SimulatorConfig(...)"
    )
    return simulators(config)


@pytest.fixture
def state(tmp_path: Path) -> Path:
    """A state directory that does not exist yet (the run creates it, mode 0700)."""
    return tmp_path / "state"
