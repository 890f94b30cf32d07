"""Producing with kafkaio: per-record send(), the batch API, delivery callbacks and errors.

    python examples/produce.py                      # starts a local broker (needs Java + Maven)
    KAFKAIO_BOOTSTRAP=host:port python examples/produce.py
"""
from __future__ import annotations

import asyncio
import contextlib
import json
import uuid

import kafkaio
from kafkaio.errors import KafkaError, RecordTooLargeError
from kafkaio.testing.broker import bootstrap_or_local


async def run(bootstrap: str) -> None:
    topic = f"example-orders-{uuid.uuid4().hex[:8]}"
    # Production clusters run with auto.create.topics.enable=false: create the topic first.
    async with kafkaio.Admin(bootstrap_servers=bootstrap) as admin:
        await admin.create_topics([kafkaio.NewTopic(topic, num_partitions=3, replication_factor=1)],
                                  wait_for_leaders=True)
    delivered = 0

    def on_delivery(md: kafkaio.RecordMetadata | None, exc: BaseException | None) -> None:
        nonlocal delivered
        if exc is None:
            delivered += 1
        else:
            print("delivery failed:", exc)

    # Idempotent by default (acks=all, retries within delivery_timeout_ms, 5 requests in flight).
    async with kafkaio.Producer(
        bootstrap_servers=bootstrap,
        linger_ms=5,
        compression_type="lz4",
        key_serializer=str.encode,
        value_serializer=lambda v: json.dumps(v).encode(),
        on_delivery=on_delivery,
    ) as producer:
        # One record at a time: send() returns once the record is buffered ...
        fut = await producer.send(topic, {"id": 1, "total": 9.99}, key="customer-7",
                                  headers=[("source", b"example")])
        md = await fut  # ... and the awaitable completes when the broker acknowledged it
        print(f"first record: partition {md.partition} offset {md.offset}")

        # Many records: keep the awaitables, await them together.
        futures = [await producer.send(topic, {"id": i}, key=f"customer-{i % 10}") for i in range(1000)]
        await asyncio.gather(*futures)

        # The batch API: one call for many records (values, or (key, value[, headers]) tuples).
        many = await producer.send_many(topic, [(f"customer-{i % 10}", {"id": i}) for i in range(10_000)])
        print(f"send_many: {len(await many)} records acknowledged")

        # Errors are typed: a record larger than max_request_size fails at send(), nothing else does.
        with contextlib.suppress(RecordTooLargeError):
            await producer.send(topic, {"blob": "x" * 2_000_000}, key="big")
            raise AssertionError("unreachable")
        await producer.flush()
    print(f"{delivered} records delivered to {topic}")


def main() -> None:
    with bootstrap_or_local(broker_properties={"num.partitions": 3}) as bootstrap:
        try:
            asyncio.run(run(bootstrap))
        except KafkaError as exc:
            raise SystemExit(f"failed: {exc}") from exc


if __name__ == "__main__":
    main()
