"""Quickstart: start a local Kafka broker (or use KAFKAIO_BOOTSTRAP), produce records, consume them back.

Run with ``make demo`` or ``python examples/quickstart.py``. Prints a short summary.
"""
from __future__ import annotations

import asyncio
import time
import uuid

import kafkaio
from kafkaio.testing.broker import bootstrap_or_local

RECORDS = 5_000


async def run(bootstrap: str) -> None:
    topic = f"quickstart-{uuid.uuid4().hex[:8]}"
    async with kafkaio.Admin(bootstrap_servers=bootstrap) as admin:
        await admin.create_topics([kafkaio.NewTopic(topic, num_partitions=3, replication_factor=1)])

    started = time.perf_counter()
    async with kafkaio.Producer(bootstrap_servers=bootstrap, acks="all", linger_ms=5,
                                compression_type="lz4") as producer:
        futures = [
            await producer.send(topic, value=f"order #{i}".encode(), key=f"customer-{i % 50}".encode(),
                                headers=[("source", b"quickstart")])
            for i in range(RECORDS)
        ]
        metadata = await asyncio.gather(*futures)
    produce_s = time.perf_counter() - started
    per_partition: dict[int, int] = {}
    for md in metadata:
        per_partition[md.partition] = per_partition.get(md.partition, 0) + 1

    started = time.perf_counter()
    seen = 0
    keys: set[bytes] = set()
    async with kafkaio.Consumer(topic, bootstrap_servers=bootstrap, group_id=f"{topic}-group",
                                auto_offset_reset="earliest", enable_auto_commit=False) as consumer:
        while seen < RECORDS:
            batches = await consumer.getmany(timeout_ms=1000)
            for records in batches.values():
                seen += len(records)
                keys.update(r.key for r in records)
            await consumer.commit()
    consume_s = time.perf_counter() - started

    print(f"kafkaio {kafkaio.__version__} (speedups enabled: {kafkaio.speedups_enabled()})")
    print(f"broker: {bootstrap}   topic: {topic}")
    print(f"produced {len(metadata)} records in {produce_s:.2f}s "
          f"(acks=all, idempotent, lz4), per partition: {dict(sorted(per_partition.items()))}")
    print(f"consumed {seen} records from {len(keys)} keys in {consume_s:.2f}s and committed offsets")
    print("OK" if seen == RECORDS == len(metadata) else "MISMATCH")
    if seen != RECORDS:
        raise SystemExit(1)


def main() -> None:
    with bootstrap_or_local() as bootstrap:
        asyncio.run(run(bootstrap))


if __name__ == "__main__":
    main()
