"""KIP-714 client telemetry: the client pushes the metrics a broker's subscription asks for."""
from __future__ import annotations

import uuid

from kafkaio.errors import IllegalArgumentError, IllegalStateError
from kafkaio.telemetry.reporter import TelemetryReporter

__all__ = ["TelemetryReporter", "telemetry_instance_id"]


async def telemetry_instance_id(reporter: TelemetryReporter | None, enabled: bool, timeout: float) -> uuid.UUID | None:
    """What a client's ``client_instance_id(timeout)`` returns (see there)."""
    if timeout < 0:
        raise IllegalArgumentError("client_instance_id: the timeout cannot be negative")
    if not enabled:
        raise IllegalStateError("telemetry is off: set enable_metrics_push=True to get a client instance id")
    if reporter is None:
        raise IllegalStateError("the client is not started (or already closed)")
    return await reporter.wait_for_instance_id(timeout)
