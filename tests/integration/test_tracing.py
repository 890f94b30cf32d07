"""``kafkaio.tracing`` against a real broker: a traced produce -> consume round trip gives a PRODUCER
span per record, W3C ``traceparent`` in the records' headers, and a CONSUMER span per processed
batch linked to the spans that sent its records, with the messaging conventions' attributes."""
from __future__ import annotations

import time
import uuid

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

import kafkaio
from kafkaio.errors import RecordTooLargeError
from kafkaio.tracing import TracedProducer, processing

pytestmark = pytest.mark.integration

WAIT_S = 60.0   # upper bound for waits on a loaded machine; never asserted as a duration


async def consume(bootstrap: str, topic: str, want: int) -> list[kafkaio.ConsumerRecord]:
    out: list[kafkaio.ConsumerRecord] = []
    async with kafkaio.Consumer(bootstrap_servers=bootstrap, auto_offset_reset="earliest") as consumer:
        consumer.assign([kafkaio.TopicPartition(topic, 0)])
        deadline = time.monotonic() + WAIT_S
        while len(out) < want:
            assert time.monotonic() < deadline, f"read {len(out)} of {want}"
            for records in (await consumer.getmany(timeout_ms=500)).values():
                out.extend(records)
    return out


async def test_a_traced_round_trip_links_the_consumer_span_to_the_producer_spans(
        bootstrap_servers: str, topic_factory) -> None:
    topic = await topic_factory(partitions=1)
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    async with kafkaio.Producer(bootstrap_servers=bootstrap_servers, client_id="traced") as producer:
        traced = TracedProducer(producer, provider)
        for i in range(3):
            await traced.send(topic, b"v%d" % i, key=f"k{i}", headers=[("app", b"x")])
        await producer.flush()
        await producer.send_and_wait(topic, b"untraced")   # the producer itself adds nothing
    sends = [s for s in exporter.get_finished_spans() if s.kind is SpanKind.PRODUCER]
    assert [s.name for s in sends] == [f"send {topic}"] * 3
    for i, s in enumerate(sends):
        assert s.attributes is not None
        assert dict(s.attributes) == {
            "messaging.system": "kafka", "messaging.operation.type": "send",
            "messaging.operation.name": "send", "messaging.destination.name": topic,
            "messaging.client.id": "traced", "messaging.kafka.message.key": f"k{i}",
            "messaging.destination.partition.id": "0", "messaging.kafka.offset": i}
        assert s.status.status_code is StatusCode.UNSET

    records = await consume(bootstrap_servers, topic, 4)
    for r, s in zip(records[:3], sends):
        headers = dict(r.headers)
        assert headers["app"] == b"x"
        assert headers["traceparent"] == (
            f"00-{s.context.trace_id:032x}-{s.context.span_id:016x}-{int(s.context.trace_flags):02x}").encode()
    assert records[3].headers == []

    with processing(records, provider, consumer_group="g1") as span:
        span.set_attribute("app.handled", True)
    (process,) = [s for s in exporter.get_finished_spans() if s.kind is SpanKind.CONSUMER]
    assert process.name == f"process {topic}"
    assert process.attributes is not None
    assert dict(process.attributes) == {
        "messaging.system": "kafka", "messaging.operation.type": "process",
        "messaging.operation.name": "process", "messaging.destination.name": topic,
        "messaging.batch.message_count": 4, "messaging.destination.partition.id": "0",
        "messaging.consumer.group.name": "g1", "app.handled": True}
    # a link per traced record, to the span that sent it; the untraced record has none
    assert [(link.context.trace_id, link.context.span_id) for link in process.links] == [
        (s.context.trace_id, s.context.span_id) for s in sends]
    assert [link.attributes["messaging.kafka.offset"] for link in process.links
            if link.attributes is not None] == [0, 1, 2]


async def test_a_failed_delivery_ends_its_span_with_the_error(bootstrap_servers: str, topic_factory) -> None:
    topic = await topic_factory(partitions=1, configs={"max.message.bytes": "1000"})
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    async with kafkaio.Producer(bootstrap_servers=bootstrap_servers, linger_ms=0) as producer:
        with pytest.raises(RecordTooLargeError):
            await TracedProducer(producer, provider).send_and_wait(topic, b"x" * 2000)
    (span,) = exporter.get_finished_spans()
    assert span.status.status_code is StatusCode.ERROR
    assert [e.name for e in span.events] == ["exception"]


async def test_processing_records_an_error_of_the_block(bootstrap_servers: str) -> None:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    record = kafkaio.ConsumerRecord(f"t-{uuid.uuid4().hex[:6]}", 0, 7, 0, 0, None, b"v", [])
    with pytest.raises(ValueError), processing([record], provider):
        raise ValueError("handler failed")
    (span,) = exporter.get_finished_spans()
    assert span.status.status_code is StatusCode.ERROR and span.links == ()
