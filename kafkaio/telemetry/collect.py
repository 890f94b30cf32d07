"""A client's ``metrics()`` snapshot as KIP-714 metrics: names, kinds, deltas, resource.

Names follow Java's telemetry naming (``TelemetryMetricNamingConvention``): ``org.apache.kafka.``,
the Java metric group without its ``-metrics`` suffix, then the metric name, dashes turned into
dots: ``record-send-total`` of ``producer-metrics`` is ``org.apache.kafka.producer.record.send.total``.
As in Java's ``KafkaMetricsCollector``, totals are monotonic sums (deltas since the previous push
when the subscription asks for delta temporality, cumulative otherwise) and every other metric a
gauge; a metric with no value in its window (an average of nothing, NaN) is left out.
"""
from __future__ import annotations

import math
from collections.abc import Mapping

from kafkaio.metrics.snapshot import ConsumerMetrics, ProducerMetrics, ShareConsumerMetrics
from kafkaio.telemetry.otlp import CUMULATIVE, DELTA, Point

__all__ = ["MetricsCollector", "resource_attributes", "telemetry_name"]

_DOMAIN = "org.apache.kafka"

# The consumer's metrics live in three Java groups; whatever is not listed is consumer-metrics.
_CONSUMER_GROUPS: dict[str, str] = {
    **dict.fromkeys(("records-consumed-total", "records-consumed-rate", "bytes-consumed-total",
                     "bytes-consumed-rate", "fetch-total", "fetch-rate", "fetch-latency-avg",
                     "records-lag-max", "records-lag"), "consumer.fetch.manager"),
    **dict.fromkeys(("assigned-partitions", "commit-total", "commit-rate", "commit-latency-avg",
                     "rebalance-total", "failed-rebalance-total", "rebalance-latency-avg",
                     "last-rebalance-seconds-ago"), "consumer.coordinator"),
}

# The share consumer's, in Java's consumer-share-fetch-manager and consumer-share-coordinator
# groups; the rest (the connections, last-poll-seconds-ago) is consumer-share-metrics.
_SHARE_CONSUMER_GROUPS: dict[str, str] = {
    **dict.fromkeys(("records-consumed-total", "records-consumed-rate", "bytes-consumed-total",
                     "bytes-consumed-rate", "fetch-total", "fetch-rate", "fetch-latency-avg", "fetch-size-avg",
                     "records-per-request-avg", "acknowledgements-send-total", "acknowledgements-send-rate",
                     "acknowledgements-error-total", "acknowledgements-error-rate"),
                    "consumer.share.fetch.manager"),
    **dict.fromkeys(("assigned-partitions", "rebalance-total"), "consumer.share.coordinator"),
}


def telemetry_name(kind: str, java_name: str) -> str:
    """The KIP-714 name of the Java metric ``java_name`` of a ``kind`` ("producer", "consumer",
    "share_consumer") client."""
    if kind == "consumer":
        group = _CONSUMER_GROUPS.get(java_name, "consumer")
    elif kind == "share_consumer":
        group = _SHARE_CONSUMER_GROUPS.get(java_name, "consumer.share")
    else:
        group = kind
    return f"{_DOMAIN}.{group}.{java_name.replace('-', '.')}"


def resource_attributes(kind: str, *, transactional_id: str | None = None, group_id: str | None = None,
                        group_instance_id: str | None = None, client_rack: str | None = None) -> dict[str, str]:
    """The resource attributes Java's ``ClientTelemetryProvider`` sends: the transactional id of a
    producer, the group and instance ids of a consumer, the rack. The broker adds the client
    instance id, client id and the connection's details itself."""
    attrs: dict[str, str] = {}
    if kind == "producer" and transactional_id is not None:
        attrs["transactional_id"] = transactional_id
    if kind in ("consumer", "share_consumer"):
        if group_id is not None:
            attrs["group_id"] = group_id
        if group_instance_id is not None:
            attrs["group_instance_id"] = group_instance_id
    if client_rack:
        attrs["client_rack"] = client_rack
    return attrs


class MetricsCollector:
    """Turns snapshots into points, remembering the totals last sent for delta temporality."""

    def __init__(self, kind: str, started_ns: int) -> None:
        self.kind = kind
        self._started_ns = started_ns
        self._delta: bool | None = None
        self._last: dict[tuple[str, tuple[tuple[str, str], ...]], tuple[int, float]] = {}

    def collect(self, snapshot: ProducerMetrics | ConsumerMetrics | ShareConsumerMetrics, now_ns: int, *,
                delta: bool) -> list[Point]:
        """The snapshot's metrics as points at ``now_ns`` (unix nanoseconds)."""
        if delta != self._delta:   # a change of temporality starts the counting again, as in Java
            self._delta = delta
            self._last.clear()
        points = [self._point(telemetry_name(self.kind, name), value, (), now_ns)
                  for name, value in snapshot.as_dict().items()]
        if isinstance(snapshot, ConsumerMetrics):
            name = telemetry_name(self.kind, "records-lag")
            points += [self._point(name, lag, (("topic", tp.topic), ("partition", str(tp.partition))), now_ns)
                       for tp, lag in snapshot.records_lag.items()]
        return [p for p in points if p is not None]

    def commit(self, points: list[Point]) -> None:
        """Remember the totals of ``points`` as sent: the next deltas start from them."""
        for p in points:
            if p.temporality == DELTA:
                last = self._last.get((p.name, p.attributes))
                self._last[(p.name, p.attributes)] = (p.time_ns, (last[1] if last else 0.0) + p.value)

    def _point(self, name: str, value: float, attributes: tuple[tuple[str, str], ...], now_ns: int
               ) -> Point | None:
        value = float(value)
        if math.isnan(value):
            return None
        if not name.endswith(".total"):
            return Point(name, value, now_ns, attributes=attributes)
        if not self._delta:
            return Point(name, value, now_ns, self._started_ns, CUMULATIVE, attributes)
        start, sent = self._last.get((name, attributes), (self._started_ns, 0.0))
        return Point(name, value - sent, now_ns, start, DELTA, attributes)


