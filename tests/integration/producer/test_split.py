"""A batch the broker refuses with MESSAGE_TOO_LARGE is split and resent: only the oversized record
fails, its batch mates are delivered in order, with gap-free sequences (idempotence)."""
from __future__ import annotations

import asyncio

import pytest
from producer_helpers import create_topic, read_partition, unique

from kafkaio.errors import RecordTooLargeError
from kafkaio.producer.producer import Producer

pytestmark = pytest.mark.integration

NO_HANG_S = 30.0


@pytest.mark.parametrize("idempotent", [True, False])
async def test_oversized_record_alone_fails_and_batch_mates_land_in_order(
        producer_bootstrap: str, idempotent: bool) -> None:
    topic = await create_topic(producer_bootstrap, unique("split"), 1, configs={"max.message.bytes": "2000"})
    # without idempotence only one request in flight keeps the order (retries may reorder otherwise)
    async with Producer(bootstrap_servers=producer_bootstrap, linger_ms=500, enable_idempotence=idempotent,
                        acks="all", max_in_flight_requests_per_connection=5 if idempotent else 1,
                        request_timeout_ms=10_000, delivery_timeout_ms=30_000) as p:
        assert p.config.idempotence_enabled == idempotent
        await p.send_and_wait(topic, b"warm-up")
        futs = []
        for i in range(7):  # one batch (linger 500 ms): three small, the oversized one, three small
            futs.append(await p.send(topic, b"B" * 5000 if i == 3 else b"small-%d" % i, partition=0))
        await asyncio.wait_for(p.flush(), NO_HANG_S)
        big = futs.pop(3)
        assert isinstance(big.exception(), RecordTooLargeError)
        with pytest.raises(RecordTooLargeError):
            await big
        mds = [await f for f in futs]
        assert [md.offset for md in mds] == [1, 2, 3, 4, 5, 6]
        # the producer keeps working, with its offsets continuing
        later = [await p.send_and_wait(topic, b"later-%d" % i, partition=0) for i in range(3)]
        assert [md.offset for md in later] == [7, 8, 9]
    recs = await read_partition(producer_bootstrap, topic, 0)
    assert [r.value for r in recs] == [b"warm-up"] + [b"small-%d" % i for i in (0, 1, 2, 4, 5, 6)] + \
        [b"later-%d" % i for i in range(3)]
    assert [r.offset for r in recs] == list(range(10))
    if idempotent:
        # the first part took over the refused batch's sequence range (it follows the warm-up's
        # sequence 0 in the same epoch), so no sequence gap; one producer id throughout
        assert len({r.producer_id for r in recs}) == 1 and recs[0].producer_id >= 0
        assert (recs[1].producer_epoch, recs[1].base_sequence) == (recs[0].producer_epoch, 1)


async def test_send_many_reports_the_oversized_record_of_a_split_batch(producer_bootstrap: str) -> None:
    topic = await create_topic(producer_bootstrap, unique("split-many"), 1, configs={"max.message.bytes": "2000"})
    async with Producer(bootstrap_servers=producer_bootstrap, linger_ms=500, acks="all",
                        request_timeout_ms=10_000, delivery_timeout_ms=30_000) as p:
        await p.send_and_wait(topic, b"warm-up")
        many = await p.send_many(topic, [b"B" * 5000 if i == 3 else b"small-%d" % i for i in range(7)], partition=0)
        await asyncio.wait_for(p.flush(), NO_HANG_S)
        assert many.done()
        assert isinstance(many.exception(), RecordTooLargeError)  # the split batch holds no error: its part does
        with pytest.raises(RecordTooLargeError):
            await many
    recs = await read_partition(producer_bootstrap, topic, 0)
    assert [r.value for r in recs] == [b"warm-up"] + [b"small-%d" % i for i in (0, 1, 2, 4, 5, 6)]
