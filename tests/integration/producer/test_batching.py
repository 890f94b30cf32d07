"""How the producer fills batches: keyless records stay on one partition until its batch is about
full (KIP-794 counts the bytes records add to a batch, as Java does), and a tight send() loop lets
the sender ship full batches while it goes on."""
from __future__ import annotations

import asyncio
import itertools
import time

import pytest
from producer_helpers import create_topic, read_topic, unique

from kafkaio.producer.producer import Producer

pytestmark = pytest.mark.integration

BATCH_SIZE = 16384
VALUE = b"v" * 100
# a 100-byte value without key adds 110 bytes to a v2 batch (varint length, attributes, timestamp
# and offset deltas, null key, value length, header count) once offset deltas take two bytes
RECORDS_PER_FULL_BATCH = (BATCH_SIZE - 61) // 110


async def test_sticky_partition_moves_on_when_its_batch_is_about_full(producer_bootstrap: str) -> None:
    topic = await create_topic(producer_bootstrap, unique("sticky-fill"), 4)
    async with Producer(bootstrap_servers=producer_bootstrap, batch_size=BATCH_SIZE, linger_ms=5) as p:
        futs = [await p.send(topic, VALUE) for _ in range(3000)]
        await p.flush()
        partitions = [f.partition for f in futs]
    runs = [len(list(g)) for _, g in itertools.groupby(partitions)]
    # every stay but the last covers about one full batch: not the 60% that counting the records'
    # upper-bound size (182 bytes each) gave
    assert all(0.9 * RECORDS_PER_FULL_BATCH <= n <= RECORDS_PER_FULL_BATCH + 2 for n in runs[:-1]), runs
    got = await read_topic(producer_bootstrap, topic, 4)
    assert sum(len(v) for v in got.values()) == 3000
    # the batches the broker holds: full ones, apart from the last of a stay
    per_batch = [len(list(g)) for recs in got.values()
                 for _, g in itertools.groupby(recs, key=lambda r: r.base_sequence)]
    assert sum(n >= 0.9 * RECORDS_PER_FULL_BATCH for n in per_batch) >= len(per_batch) - len(runs), per_batch


async def test_a_send_cancelled_while_it_yields_for_a_new_batch_buffers_nothing(producer_bootstrap: str) -> None:
    # a batch holds one 150-byte record here: with "a" in the open batch, the next send() finds it
    # full and yields once (to let the sender ship it) before it appends: cancelled there, nothing
    # is sent
    topic = await create_topic(producer_bootstrap, unique("cancel-send"), 1)
    async with Producer(bootstrap_servers=producer_bootstrap, batch_size=200, linger_ms=60_000) as p:
        first = await p.send(topic, b"a" * 150)
        task = asyncio.ensure_future(p.send(topic, b"b" * 150))
        await asyncio.sleep(0)  # the task runs up to its yield
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        await p.flush()
        await first
        await p.send(topic, b"c" * 150)
        await p.flush()
    got = await read_topic(producer_bootstrap, topic, 1)
    assert [r.value[:1] for r in got[0]] == [b"a", b"c"]


@pytest.mark.parametrize("api", ["send", "send_many"])
async def test_records_larger_than_estimated_do_not_leave_one_record_batches(producer_bootstrap: str, api: str) -> None:
    # timestamps far apart make each record's timestamp delta a 4-byte varint, 3 bytes more than
    # the partitioner's estimate: the batch fills before the byte count says so, and the sticky
    # partition must move on then instead of starting a batch there for a single record
    topic = await create_topic(producer_bootstrap, unique("sticky-full"), 4)
    # within the broker's 7-day retention: older timestamps get whole segments deleted at its next
    # retention check (seen: records vanishing between producing and reading)
    base = int(time.time() * 1000) - 20 * 3600 * 1000
    # linger_ms=0: a batch the partitioner leaves part-full is sent at the sender's next pass,
    # instead of maybe being filled further when the partitioner comes back
    async with Producer(bootstrap_servers=producer_bootstrap, batch_size=BATCH_SIZE, linger_ms=0) as p:
        if api == "send":
            futs = [await p.send(topic, VALUE, timestamp_ms=base + i * 20_000) for i in range(3000)]
        else:  # one timestamp per call: spread them over the calls
            futs = [await p.send_many(topic, [VALUE] * 500, timestamp_ms=base + i * 20_000)
                    for i in range(0, 3000, 500)]
        await p.flush()
        for fut in futs:
            await fut  # every record delivered (raises its error otherwise)
    got = await read_topic(producer_bootstrap, topic, 4)
    assert sum(len(v) for v in got.values()) == 3000
    per_batch = [len(list(g)) for recs in got.values()
                 for _, g in itertools.groupby(recs, key=lambda r: r.base_sequence)]
    small = [n for n in per_batch if n < 100]
    # at most the last batch of each partition's final stay is part-full
    assert len(small) <= 4, per_batch
