"""What a push carries: the metrics() snapshot under KIP-714 names, totals as deltas or cumulative
sums, and the hand-written OTLP bytes decoded by opentelemetry-proto."""
from __future__ import annotations

import math
from collections.abc import Callable

import pytest

from kafkaio.metrics.snapshot import ConsumerMetrics, ProducerMetrics
from kafkaio.structs import TopicPartition
from kafkaio.telemetry.collect import MetricsCollector, resource_attributes, telemetry_name
from kafkaio.telemetry.otlp import CUMULATIVE, DELTA, Point, encode_metrics_data

metrics_pb2 = pytest.importorskip("opentelemetry.proto.metrics.v1.metrics_pb2")


def test_names_follow_javas_telemetry_naming() -> None:
    assert telemetry_name("producer", "record-send-total") == "org.apache.kafka.producer.record.send.total"
    assert telemetry_name("producer", "request-latency-avg") == "org.apache.kafka.producer.request.latency.avg"
    assert telemetry_name("consumer", "records-consumed-total") == \
        "org.apache.kafka.consumer.fetch.manager.records.consumed.total"
    assert telemetry_name("consumer", "commit-latency-avg") == "org.apache.kafka.consumer.coordinator.commit.latency.avg"
    assert telemetry_name("consumer", "connection-count") == "org.apache.kafka.consumer.connection.count"


def test_totals_go_as_deltas_of_what_was_sent(producer_snapshot: Callable[[int], ProducerMetrics]) -> None:
    producer = producer_snapshot
    c = MetricsCollector("producer", started_ns=1_000)
    first = {p.name: p for p in c.collect(producer(10), 5_000, delta=True)}
    send = first["org.apache.kafka.producer.record.send.total"]
    assert (send.value, send.start_ns, send.temporality) == (10.0, 1_000, DELTA)
    assert first["org.apache.kafka.producer.buffer.total.bytes"].temporality is None   # a gauge
    assert "org.apache.kafka.producer.batch.size.avg" not in first   # NaN: nothing measured
    c.commit(list(first.values()))
    second = {p.name: p for p in c.collect(producer(25), 9_000, delta=True)}
    send = second["org.apache.kafka.producer.record.send.total"]
    assert (send.value, send.start_ns) == (15.0, 5_000)
    # not committed (the push failed): the next delta still counts from the last one sent
    third = {p.name: p for p in c.collect(producer(30), 12_000, delta=True)}
    assert third["org.apache.kafka.producer.record.send.total"].value == 20.0


def test_cumulative_temporality_sends_the_totals(producer_snapshot: Callable[[int], ProducerMetrics]) -> None:
    producer = producer_snapshot
    c = MetricsCollector("producer", started_ns=1_000)
    send = {p.name: p for p in c.collect(producer(10), 5_000, delta=False)}["org.apache.kafka.producer.record.send.total"]
    assert (send.value, send.start_ns, send.temporality) == (10.0, 1_000, CUMULATIVE)


def test_per_partition_lag_carries_topic_and_partition(zero_snapshot: Callable[..., object]) -> None:
    snap = zero_snapshot(ConsumerMetrics, records_lag={TopicPartition("t", 3): 42}, fetch_latency_avg=math.nan,
                  commit_latency_avg=math.nan, rebalance_latency_avg=math.nan)
    points = MetricsCollector("consumer", 0).collect(snap, 1, delta=True)  # type: ignore[arg-type]
    lag = [p for p in points if p.name == "org.apache.kafka.consumer.fetch.manager.records.lag"]
    assert [(p.value, p.attributes) for p in lag] == [(42.0, (("topic", "t"), ("partition", "3")))]


def test_resource_attributes_are_javas() -> None:
    assert resource_attributes("producer", transactional_id="tx") == {"transactional_id": "tx"}
    assert resource_attributes("consumer", group_id="g", group_instance_id=None, client_rack="r1") == \
        {"group_id": "g", "client_rack": "r1"}
    assert resource_attributes("producer", group_id="g") == {}


def test_the_payload_decodes_as_otlp_metrics_data() -> None:
    points = [Point("org.apache.kafka.producer.record.send.total", 15.0, 9_000, 5_000, DELTA),
              Point("org.apache.kafka.producer.record.send.rate", 2.5, 9_000),
              Point("org.apache.kafka.consumer.fetch.manager.records.lag", 7.0, 9_000, None, None,
                    (("topic", "t"), ("partition", "0")))]
    data = metrics_pb2.MetricsData.FromString(encode_metrics_data({"group_id": "g"}, points))
    [rm] = data.resource_metrics
    assert {kv.key: kv.value.string_value for kv in rm.resource.attributes} == {"group_id": "g"}
    [sm] = rm.scope_metrics
    total, rate, lag = sm.metrics
    assert total.name == "org.apache.kafka.producer.record.send.total"
    assert total.WhichOneof("data") == "sum" and total.sum.is_monotonic
    assert total.sum.aggregation_temporality == metrics_pb2.AGGREGATION_TEMPORALITY_DELTA
    [dp] = total.sum.data_points
    assert (dp.as_double, dp.start_time_unix_nano, dp.time_unix_nano) == (15.0, 5_000, 9_000)
    assert rate.WhichOneof("data") == "gauge" and rate.gauge.data_points[0].as_double == 2.5
    assert {kv.key: kv.value.string_value for kv in lag.gauge.data_points[0].attributes} == \
        {"topic": "t", "partition": "0"}
