"""Client telemetry (KIP-714): the client asks the broker which metrics it wants and how often,
then pushes them as an OTLP ``MetricsData`` payload.

Written from Kafka's message definitions (GetTelemetrySubscriptions, PushTelemetry); Kafka 4.4
defines version 0 of both, flexible.
"""
from __future__ import annotations

from kafkaio.protocol.schema import Api, F


GET_TELEMETRY_SUBSCRIPTIONS = Api(
    71, 'GetTelemetrySubscriptions', versions="0", flexible='0+',
    request=(
        F('client_instance_id', 'uuid', '0+'),
    ),
    response=(
        F('throttle_time_ms', 'int32', '0+'),
        F('error_code', 'int16', '0+'),
        F('client_instance_id', 'uuid', '0+'),
        F('subscription_id', 'int32', '0+'),
        F('accepted_compression_types', '[]int8', '0+'),
        F('push_interval_ms', 'int32', '0+'),
        F('telemetry_max_bytes', 'int32', '0+'),
        F('delta_temporality', 'bool', '0+'),
        F('requested_metrics', '[]string', '0+'),
    ),
)


PUSH_TELEMETRY = Api(
    72, 'PushTelemetry', versions="0", flexible='0+',
    request=(
        F('client_instance_id', 'uuid', '0+'),
        F('subscription_id', 'int32', '0+'),
        F('terminating', 'bool', '0+'),
        F('compression_type', 'int8', '0+'),
        F('metrics', 'bytes', '0+'),
    ),
    response=(
        F('throttle_time_ms', 'int32', '0+'),
        F('error_code', 'int16', '0+'),
    ),
)


APIS = (GET_TELEMETRY_SUBSCRIPTIONS, PUSH_TELEMETRY,)
