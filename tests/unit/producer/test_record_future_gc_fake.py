"""A record's future and the cyclic garbage collector, with the producer deciding the batches (fake
broker): a failed batch (split after MESSAGE_TOO_LARGE, expired, failed by a forced close()) leaves
no cycle the collector cannot see, whichever of its records the application holds unawaited; the
compiled append path leaves a record's future out of the collector only while that is safe.
"""
from __future__ import annotations

import asyncio
import gc
import weakref
from typing import Any

import pytest

from kafkaio import Producer
from kafkaio.errors import KafkaError, KafkaTimeoutError, ProducerClosedError
from kafkaio.producer.future import RecordFuture, batch_position
from kafkaio.protocol import ApiKey
from kafkaio.testing.fake import DELAY, FakeCluster

COMPILED = RecordFuture.__module__ == "kafkaio._speedups._producer"


class Marker:
    """Something the application keeps beside the record futures; collected with them or leaked."""


async def _decided(futs: list[Any]) -> None:
    # waits without awaiting a record (that would give the batch's records back to the collector)
    for _ in range(500):
        if all(f.done() for f in futs):
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the records were not decided")


async def _raise_through_a_frame_holding(futs: list[Any], error: type[BaseException]) -> weakref.ref[Marker]:
    """Await the records in turn in a frame that keeps them all; the first failed one raises
    through it. Returns a reference to what that frame kept beside them."""
    marker = Marker()

    async def await_all(fs: list[Any], m: Marker) -> None:
        for f in fs:
            await f

    with pytest.raises(error):
        await await_all(futs, marker)
    return weakref.ref(marker)


def _collected(ref: weakref.ref[Marker]) -> bool:
    gc.collect()
    return ref() is None


async def _freed_once_decided_and_raised(futs: list[Any], error: type[BaseException]) -> bool:
    """Whether the frame the first failed record of ``futs`` raised through is freed once the
    application drops the records (``futs`` is emptied)."""
    await _decided(futs)
    ref = await _raise_through_a_frame_holding(futs, error)
    futs.clear()
    return _collected(ref)


async def test_the_unawaited_records_of_a_split_batch_whose_part_failed_do_not_leak() -> None:
    async with FakeCluster(brokers=1, topics={}) as fake:
        fake.create_topic("t", 1, max_message_bytes=400)
        async with Producer(bootstrap_servers=fake.bootstrap_servers, linger_ms=50) as p:
            futs = [await p.send("t", b"a" * 50, partition=0), await p.send("t", b"b" * 1000, partition=0),
                    await p.send("t", b"c" * 50, partition=0)]
            assert len({id(batch_position(f)[0]) for f in futs}) == 1  # one batch, split by the broker
            assert await _freed_once_decided_and_raised(futs, KafkaError)
            assert len(fake.records("t", 0)) == 2  # the big one alone was refused


async def test_the_unawaited_records_of_an_expired_batch_do_not_leak() -> None:
    async with FakeCluster(brokers=1, topics={"t": 1}) as fake:
        fake.control(ApiKey.PRODUCE, lambda _info, _body: DELAY(2_000), persistent=True)
        async with Producer(bootstrap_servers=fake.bootstrap_servers, linger_ms=20, request_timeout_ms=300,
                            delivery_timeout_ms=400) as p:
            futs = [await p.send("t", b"v%d" % i, partition=0) for i in range(4)]
            assert await _freed_once_decided_and_raised(futs, KafkaTimeoutError)


async def test_the_unawaited_records_failed_by_a_forced_close_do_not_leak() -> None:
    async with FakeCluster(brokers=1, topics={"t": 1}) as fake:
        fake.control(ApiKey.PRODUCE, lambda _info, _body: DELAY(2_000), persistent=True)
        p = Producer(bootstrap_servers=fake.bootstrap_servers, linger_ms=0)
        await p.start()
        futs = [await p.send("t", b"v%d" % i, partition=0) for i in range(4)]
        queued = [await p.send("t", b"w%d" % i, partition=0) for i in range(4)]
        await p.close(timeout=0.05)
        assert all(f.done() for f in futs + queued)
        refs = [await _raise_through_a_frame_holding(group, ProducerClosedError) for group in (futs, queued)]
        del futs, queued, p  # batches still in flight when it was forced are the producer's until then
        assert all(_collected(ref) for ref in refs)


@pytest.mark.skipif(not COMPILED, reason="the pure twin's record futures are always tracked")
async def test_a_record_future_is_left_out_of_the_collector_only_until_its_batch_could_refer_back() -> None:
    async with FakeCluster(brokers=1, topics={"t": 1}) as fake:
        async with Producer(bootstrap_servers=fake.bootstrap_servers, linger_ms=60_000) as p:
            first = await p.send("t", b"v0", partition=0)  # starts the batch: made tracked
            rest = [await p.send("t", b"v%d" % i, partition=0) for i in range(1, 4)]
            assert gc.is_tracked(first) and not any(gc.is_tracked(f) for f in rest)
            flushing = asyncio.ensure_future(p.flush())  # a waiter on the batch
            await asyncio.sleep(0)
            assert all(gc.is_tracked(f) for f in rest)
            later = await p.send("t", b"late", partition=0)  # into a batch already waited on
            await flushing
            assert gc.is_tracked(later)
        async with Producer(bootstrap_servers=fake.bootstrap_servers, linger_ms=5) as p:
            # delivered cleanly: never tracked
            delivered = [await p.send("t", b"d%d" % i, partition=0) for i in range(3)]
            await _decided(delivered)
            assert not any(gc.is_tracked(f) for f in delivered[1:])
        # failed: tracked before the error can be raised anywhere
        fake.control(ApiKey.PRODUCE, lambda _info, _body: DELAY(2_000), persistent=True)
        async with Producer(bootstrap_servers=fake.bootstrap_servers, linger_ms=20, request_timeout_ms=300,
                            delivery_timeout_ms=400, retries=0) as p:
            failing = [await p.send("t", b"f%d" % i, partition=0) for i in range(3)]
            assert not any(gc.is_tracked(f) for f in failing[1:])
            await _decided(failing)
            assert all(gc.is_tracked(f) for f in failing)


async def test_a_closed_producer_keeps_none_of_the_batches_its_forced_close_failed() -> None:
    # an application keeps its closed producer (an attribute of a service object): the batches the
    # close failed, their records' data and their errors' frames must not stay with it
    from kafkaio.producer.accumulator import ProducerBatch

    def batches_alive() -> int:
        gc.collect()
        return sum(1 for o in gc.get_objects() if isinstance(o, ProducerBatch) and o.topic == "t")

    async with FakeCluster(brokers=1, topics={"t": 1}) as fake:
        fake.control(ApiKey.PRODUCE, lambda _info, _body: DELAY(2_000), persistent=True)
        p = Producer(bootstrap_servers=fake.bootstrap_servers, linger_ms=0)
        await p.start()
        futs = [await p.send("t", b"v%d" % i, partition=0) for i in range(4)]
        await p.close(timeout=0.05)
        assert all(isinstance(f.exception(), ProducerClosedError) for f in futs)
        del futs
        assert batches_alive() == 0
        assert p is not None
