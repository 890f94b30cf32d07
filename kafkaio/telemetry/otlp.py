"""The few OTLP messages a telemetry push carries, written as protobuf by hand.

A push is one ``MetricsData`` (opentelemetry-proto ``metrics/v1``): one ``ResourceMetrics`` with
the client's resource attributes and one ``ScopeMetrics`` holding every metric, each a ``Gauge``
or a monotonic ``Sum`` of one ``NumberDataPoint`` (a double). These few messages do not justify
the protobuf runtime as a dependency of every install; the tests decode the bytes with
opentelemetry-proto.
"""
from __future__ import annotations

import struct
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

__all__ = ["DELTA", "CUMULATIVE", "Point", "encode_metrics_data"]

DELTA = 1          # AggregationTemporality.AGGREGATION_TEMPORALITY_DELTA
CUMULATIVE = 2     # AggregationTemporality.AGGREGATION_TEMPORALITY_CUMULATIVE

_VARINT, _FIXED64, _LEN = 0, 1, 2
_DOUBLE = struct.Struct("<d")
_U64 = struct.Struct("<Q")


@dataclass(frozen=True)
class Point:
    """One metric with its single data point. ``temporality`` is None for a gauge, else the sum's
    (:data:`DELTA` or :data:`CUMULATIVE`); sums are monotonic."""

    name: str
    value: float
    time_ns: int
    start_ns: int | None = None
    temporality: int | None = None
    attributes: tuple[tuple[str, str], ...] = ()


def _varint(out: bytearray, value: int) -> None:
    while value > 0x7F:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)


def _key(out: bytearray, field: int, wire: int) -> None:
    _varint(out, field << 3 | wire)


def _bytes(out: bytearray, field: int, data: bytes | bytearray) -> None:
    _key(out, field, _LEN)
    _varint(out, len(data))
    out += data


def _string(out: bytearray, field: int, text: str) -> None:
    _bytes(out, field, text.encode())


def _key_value(key: str, value: str) -> bytearray:
    any_value = bytearray()
    _string(any_value, 1, value)          # AnyValue.string_value
    kv = bytearray()
    _string(kv, 1, key)                   # KeyValue.key
    _bytes(kv, 2, any_value)              # KeyValue.value
    return kv


def _data_point(point: Point) -> bytearray:
    out = bytearray()
    if point.start_ns is not None:
        _key(out, 2, _FIXED64)            # start_time_unix_nano
        out += _U64.pack(point.start_ns)
    _key(out, 3, _FIXED64)                # time_unix_nano
    out += _U64.pack(point.time_ns)
    _key(out, 4, _FIXED64)                # as_double
    out += _DOUBLE.pack(point.value)
    for key, value in point.attributes:
        _bytes(out, 7, _key_value(key, value))   # attributes
    return out


def _metric(point: Point) -> bytearray:
    body = bytearray()
    _bytes(body, 1, _data_point(point))  # Gauge.data_points / Sum.data_points
    metric = bytearray()
    _string(metric, 1, point.name)
    if point.temporality is None:
        _bytes(metric, 5, body)           # Metric.gauge
    else:
        _key(body, 2, _VARINT)            # Sum.aggregation_temporality
        _varint(body, point.temporality)
        _key(body, 3, _VARINT)            # Sum.is_monotonic
        _varint(body, 1)
        _bytes(metric, 7, body)           # Metric.sum
    return metric


def encode_metrics_data(resource: Mapping[str, str], points: Sequence[Point]) -> bytes:
    """``MetricsData`` with one resource (its string attributes) and ``points`` as its metrics."""
    res = bytearray()
    for key, value in resource.items():
        _bytes(res, 1, _key_value(key, value))   # Resource.attributes
    scope = bytearray()
    for point in points:
        _bytes(scope, 2, _metric(point))           # ScopeMetrics.metrics
    resource_metrics = bytearray()
    _bytes(resource_metrics, 1, res)               # ResourceMetrics.resource
    _bytes(resource_metrics, 2, scope)             # ResourceMetrics.scope_metrics
    out = bytearray()
    _bytes(out, 1, resource_metrics)               # MetricsData.resource_metrics
    return bytes(out)
