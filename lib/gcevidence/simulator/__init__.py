"""The embedded Genesys Cloud simulator: a synthetic org served over HTTP (genesys-api.md)."""

from gcevidence.simulator.config import FaultConfig, SimConfig
from gcevidence.simulator.sim import Simulator

__all__ = ["FaultConfig", "SimConfig", "Simulator"]
