"""isolation_level: read_committed skips aborted transactions and control records and stops at the
last stable offset; read_uncommitted sees everything but control records."""
from __future__ import annotations

import asyncio
import time

import pytest

import kafkaio
from kafkaio.structs import TopicPartition as TP

from consumer_helpers import RawTransaction, unique

pytestmark = pytest.mark.integration


async def values(c: kafkaio.Consumer, want: int, timeout: float = 20) -> list[bytes]:
    got: list[bytes] = []
    deadline = time.monotonic() + timeout
    while len(got) < want and time.monotonic() < deadline:
        for recs in (await c.getmany(timeout_ms=300)).values():
            got.extend(r.value for r in recs)
    return got


async def test_read_committed_skips_aborted_and_waits_for_open_transactions(consumer_bootstrap, raw_producer) -> None:
    topic = unique()
    await raw_producer.create_topic(topic, 1)
    tp = TP(topic, 0)
    txn = RawTransaction(raw_producer, unique("txn"))
    await txn.init()
    await txn.send(topic, 0, [b"c0", b"c1"])
    await txn.end(commit=True)
    await txn.send(topic, 0, [b"a0", b"a1", b"a2"])
    await txn.send(topic, 0, [b"a3"])
    await txn.end(commit=False)
    await raw_producer.send_batch(topic, 0, [b"n0"])
    await txn.send(topic, 0, [b"c2"])
    await txn.end(commit=True)

    async with kafkaio.Consumer(bootstrap_servers=consumer_bootstrap, auto_offset_reset="earliest",
                                isolation_level="read_committed") as rc, \
            kafkaio.Consumer(bootstrap_servers=consumer_bootstrap, auto_offset_reset="earliest") as ru:
        rc.assign([tp])
        ru.assign([tp])
        assert await values(rc, 4) == [b"c0", b"c1", b"n0", b"c2"]
        assert await values(ru, 8) == [b"c0", b"c1", b"a0", b"a1", b"a2", b"a3", b"n0", b"c2"]
        end = (await rc.end_offsets([tp]))[tp]
        # The position steps over the commit/abort markers: nothing is left to read.
        for _ in range(50):
            if await rc.position(tp) == end:
                break
            await rc.getmany(timeout_ms=100)
        assert await rc.position(tp) == end

        # An open transaction holds read_committed back at the last stable offset.
        await txn.send(topic, 0, [b"o0"])
        await raw_producer.send_batch(topic, 0, [b"n1"])
        assert await values(ru, 2) == [b"o0", b"n1"]
        assert await values(rc, 1, timeout=2) == []
        await txn.end(commit=True)
        assert await values(rc, 2) == [b"o0", b"n1"]
