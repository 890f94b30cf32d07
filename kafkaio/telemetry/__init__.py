"""KIP-714 client telemetry: the client pushes the metrics a broker's subscription asks for."""
from kafkaio.telemetry.reporter import TelemetryReporter

__all__ = ["TelemetryReporter"]
