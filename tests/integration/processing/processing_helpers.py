"""Helpers of the processing layer's broker tests."""
from __future__ import annotations

import kafkaio


async def produce_keyed(bootstrap: str, topic: str, n: int, keys: int) -> None:
    """Record i has key i % keys and value "<i // keys>": the sequence number within its key."""
    async with kafkaio.Producer(bootstrap_servers=bootstrap, linger_ms=5) as producer:
        items = [(f"k{i % keys}".encode(), str(i // keys).encode()) for i in range(n)]
        for start in range(0, n, 5000):
            await (await producer.send_many(topic, items[start:start + 5000]))


def consumer_for(bootstrap: str, group: str, **extra: object) -> kafkaio.Consumer:
    return kafkaio.Consumer(bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False,
                            auto_offset_reset="earliest", heartbeat_interval_ms=300,
                            session_timeout_ms=6000, **extra)  # type: ignore[arg-type]
