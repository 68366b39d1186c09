"""Fluent Bit's monitoring HTTP API (``HTTP_Server``), health check and metric exposition.

The engine builds a :class:`MonitoringServer` from the ``[SERVICE]`` settings
when ``HTTP_Server`` is on, hands it the process-wide metrics, a getter for
the current pipeline and its reload callback, and starts/stops it around the
pipeline's life.
"""

from shipper.monitoring.health import HealthCheck
from shipper.monitoring.server import MonitoringServer

__all__ = ["HealthCheck", "MonitoringServer"]
