"""Support for the simulated downstream trackers: fault injection, request recording, servers.

Every simulator under ``connectors/<name>/simulator.py`` wraps its Starlette app in
:class:`~unigate.simulation.control.SimulatorControl`, which adds the ``/__sim`` control
endpoints, and is served for tests and the sandbox by
:class:`~unigate.simulation.server.BackgroundServer`.
"""

from unigate.simulation.control import FaultPlan, SimulatorControl
from unigate.simulation.server import BackgroundServer

__all__ = ["BackgroundServer", "FaultPlan", "SimulatorControl"]
