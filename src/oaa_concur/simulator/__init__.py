"""A faithful, seeded SAP Concur simulator (OAuth, Identity v4/v4.1, Spend v4.1) with faults.

It imports nothing from the rest of oaa_concur: it is an honest stand-in for Concur.
"""

from oaa_concur.simulator.config import DEFAULT_SCOPES, SimulatorConfig
from oaa_concur.simulator.server import RunningSimulator, SimulatorServer, running_simulator
from oaa_concur.simulator.state import SimulatorState
from oaa_concur.simulator.tenant import Tenant

__all__ = [
    "DEFAULT_SCOPES",
    "RunningSimulator",
    "SimulatorConfig",
    "SimulatorServer",
    "SimulatorState",
    "Tenant",
    "running_simulator",
]
