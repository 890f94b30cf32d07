"""``kafkaio.metrics.otel``: the clients' metrics through the OpenTelemetry SDK's in-memory reader,
after a known workload against a real broker; the counts are the same as ``metrics()``'s."""
from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader

import kafkaio
from kafkaio.metrics.otel import instrument

pytestmark = pytest.mark.integration

RECORDS = 500


def points(reader: InMemoryMetricReader) -> dict[str, list[Any]]:
    """Each metric's data points, by name."""
    data = reader.get_metrics_data()
    assert data is not None
    out: dict[str, list[Any]] = {}
    for rm in data.resource_metrics:
        for sm in rm.scope_metrics:
            for metric in sm.metrics:
                out.setdefault(metric.name, []).extend(metric.data.data_points)
    return out


async def test_producer_and_consumer_metrics_through_the_otel_sdk(bootstrap_servers: str, topic_factory) -> None:
    topic = await topic_factory(partitions=2)
    reader = InMemoryMetricReader()
    provider = MeterProvider(metric_readers=[reader])
    try:
        async with kafkaio.Producer(bootstrap_servers=bootstrap_servers, client_id="otel-p") as producer:
            bridge = instrument(producer, provider)
            for i in range(RECORDS):
                await producer.send(topic, b"v", partition=i % 2)
            await producer.flush()
            # collected from another thread, as a periodic reader does: taken on the client's loop
            got = await asyncio.to_thread(points, reader)
            m = producer.metrics()
        total = got["kafka.producer.record_send_total"]
        # counted per attempt, as in Java: a batch retried (a busy broker) counts its records again
        sent = RECORDS + m.record_retry_total
        assert [(p.value, dict(p.attributes)) for p in total] == [(sent, {"client.id": "otel-p"})]
        assert got["kafka.producer.record_retry_total"][0].value == m.record_retry_total
        assert got["kafka.producer.record_error_total"][0].value == 0
        assert got["kafka.producer.byte_total"][0].value == m.byte_total
        assert got["kafka.producer.record_send_rate"][0].value > 0
        assert got["kafka.producer.request_latency_avg"][0].value > 0
        assert got["kafka.producer.connection_creation_total"][0].value >= 1
        bridge.stop()

        group = f"otel-{uuid.uuid4().hex[:8]}"
        consumer = kafkaio.Consumer(topic, bootstrap_servers=bootstrap_servers, group_id=group,
                                    client_id="otel-c", auto_offset_reset="earliest")
        await consumer.start()
        try:
            instrument(consumer, provider)
            got_records = 0
            for _ in range(600):
                if got_records == RECORDS:
                    break
                batch = await consumer.getmany(timeout_ms=100)
                got_records += sum(map(len, batch.values()))
            assert got_records == RECORDS
            got = points(reader)   # collected on the loop's own thread
        finally:
            await consumer.stop()
        assert got["kafka.consumer.records_consumed_total"][0].value == RECORDS
        lag = {(p.attributes["topic"], p.attributes["partition"]): p.value
               for p in got["kafka.consumer.records_lag"]}
        assert lag == {(topic, 0): 0, (topic, 1): 0}
        assert got["kafka.consumer.assigned_partitions"][0].value == 2
        assert got["kafka.consumer.rebalance_total"][0].value == 1
        # the stopped producer bridge reports nothing any more
        assert "kafka.producer.record_send_total" not in got or not got["kafka.producer.record_send_total"]
    finally:
        provider.shutdown()
