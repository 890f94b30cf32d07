"""How the producer fills batches: keyless records stay on one partition until its batch is about
full (KIP-794 counts the bytes records add to a batch, as Java does), and a tight send() loop lets
the sender ship full batches while it goes on."""
from __future__ import annotations

import itertools

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
