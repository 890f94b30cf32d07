"""OpenTelemetry tracing of sends and of processed batches (``pip install kafkaio[otel]``), with
the OpenTelemetry messaging semantic conventions; off unless used, so free when off.

``TracedProducer(producer)`` sends as the producer does, with a PRODUCER span per record
(``send <topic>``, ended when the broker acknowledges it or its delivery fails) whose context goes
in the record's headers as W3C ``traceparent`` (and ``tracestate``), through the globally
configured propagator. ``processing(records)`` is a CONSUMER span (``process <topic>``) for a
batch of records the application handles, linked to the span of each record's send.
"""
from __future__ import annotations

from collections.abc import Generator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from opentelemetry import propagate, trace
from opentelemetry.trace import Link, Span, SpanKind, Status, StatusCode, TracerProvider

from kafkaio.producer.future import RecordFuture
from kafkaio.producer.producer import Headers, Producer
from kafkaio.records import ConsumerRecord

__all__ = ["TracedProducer", "processing"]

_SCOPE = "kafkaio"


def _key_attribute(key: Any) -> dict[str, str]:
    # the conventions record the key when it is text; a binary key is left out
    if isinstance(key, str):
        return {"messaging.kafka.message.key": key}
    if isinstance(key, bytes):
        try:
            return {"messaging.kafka.message.key": key.decode()}
        except UnicodeDecodeError:
            return {}
    return {}


def _with_context(headers: Headers, span: Span) -> list[tuple[str, bytes | None]]:
    """``headers`` as a list, with the span's context added (``traceparent``, ``tracestate``)."""
    carrier: dict[str, str] = {}
    propagate.inject(carrier, context=trace.set_span_in_context(span))
    if headers is None:
        out: list[tuple[str, bytes | None]] = []
    elif isinstance(headers, Mapping):
        out = list(headers.items())
    else:
        out = list(headers)
    out.extend((name, value.encode()) for name, value in carrier.items())
    return out


def _end_send(span: Span, future: RecordFuture) -> None:
    exc = future.exception()
    if exc is not None:
        span.record_exception(exc)
        span.set_status(Status(StatusCode.ERROR, type(exc).__name__))
    else:
        md = future.result()
        span.set_attribute("messaging.destination.partition.id", str(md.partition))
        if md.offset >= 0:
            span.set_attribute("messaging.kafka.offset", md.offset)
    span.end()


class TracedProducer:
    """A :class:`~kafkaio.Producer`'s ``send``/``send_and_wait`` with a span per record."""

    def __init__(self, producer: Producer, tracer_provider: TracerProvider | None = None) -> None:
        self.producer = producer
        self._tracer = trace.get_tracer(_SCOPE, tracer_provider=tracer_provider)
        self._client_id = str(producer.config.client_id)

    async def send(self, topic: str, value: Any = None, key: Any = None, partition: int | None = None,
                   timestamp_ms: int | None = None, headers: Headers = None) -> RecordFuture:
        """:meth:`Producer.send`, in a ``send <topic>`` span that ends with the record's delivery."""
        attributes: dict[str, Any] = {
            "messaging.system": "kafka", "messaging.operation.type": "send",
            "messaging.operation.name": "send", "messaging.destination.name": topic,
            "messaging.client.id": self._client_id, **_key_attribute(key)}
        if partition is not None:
            attributes["messaging.destination.partition.id"] = str(partition)
        span = self._tracer.start_span(f"send {topic}", kind=SpanKind.PRODUCER, attributes=attributes)
        try:
            future = await self.producer.send(topic, value, key, partition, timestamp_ms,
                                              _with_context(headers, span))
        except BaseException as exc:
            span.record_exception(exc)
            span.set_status(Status(StatusCode.ERROR, type(exc).__name__))
            span.end()
            raise
        future.add_done_callback(lambda f: _end_send(span, f))
        return future

    async def send_and_wait(self, topic: str, value: Any = None, key: Any = None,
                            partition: int | None = None, timestamp_ms: int | None = None,
                            headers: Headers = None) -> Any:
        """:meth:`send`, then the record's ``RecordMetadata``."""
        return await (await self.send(topic, value, key, partition, timestamp_ms, headers))


def _sender_context(record: ConsumerRecord) -> trace.SpanContext | None:
    carrier = {name: value.decode("latin-1") for name, value in record.headers
               if value is not None and name in ("traceparent", "tracestate")}
    if not carrier:
        return None
    span_context = trace.get_current_span(propagate.extract(carrier)).get_span_context()
    return span_context if span_context.is_valid else None


@contextmanager
def processing(records: Sequence[ConsumerRecord], tracer_provider: TracerProvider | None = None, *,
               consumer_group: str | None = None) -> Generator[Span, None, None]:
    """A ``process <topic>`` CONSUMER span around the application's handling of ``records`` (one
    topic's; a span per partition's list from ``getmany()`` is the usual use), linked to the
    span that sent each record, current while the block runs. An exception from the block is
    recorded on it and raised."""
    topics = {r.topic for r in records}
    topic = next(iter(topics)) if len(topics) == 1 else "multiple"
    attributes: dict[str, Any] = {
        "messaging.system": "kafka", "messaging.operation.type": "process",
        "messaging.operation.name": "process", "messaging.destination.name": topic,
        "messaging.batch.message_count": len(records)}
    partitions = {r.partition for r in records}
    if len(topics) == 1 and len(partitions) == 1:
        attributes["messaging.destination.partition.id"] = str(next(iter(partitions)))
    if consumer_group is not None:
        attributes["messaging.consumer.group.name"] = consumer_group
    links = [Link(ctx, {"messaging.kafka.offset": r.offset})
             for r in records if (ctx := _sender_context(r)) is not None]
    tracer = trace.get_tracer(_SCOPE, tracer_provider=tracer_provider)
    # the records' senders are linked, not parents (the conventions for a batch): the parent is
    # the application's current span, if any
    with tracer.start_as_current_span(f"process {topic}", kind=SpanKind.CONSUMER,
                                      attributes=attributes, links=links) as span:
        yield span
