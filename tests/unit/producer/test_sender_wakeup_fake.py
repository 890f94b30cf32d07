"""The producer wakes the sender from what the accumulator reports: no batch waits for a sender
that nothing woke (fake broker)."""
from __future__ import annotations

import asyncio

import pytest

from kafkaio import Producer
from kafkaio.producer.accumulator import RecordAccumulator
from kafkaio.testing.fake import FakeCluster


async def test_a_send_waiting_for_buffer_memory_gets_lingering_batches_sent() -> None:
    # each batch reserves batch_size of buffer_memory: the fourth partition's first record waits
    # for memory while three one-record batches linger for a minute; unless the sender is woken to
    # send them (memory pressure makes every batch ready), the send fails after max_block_ms
    async with FakeCluster(brokers=1, topics={"t": 4}) as fake:
        async with Producer(bootstrap_servers=fake.bootstrap_servers, linger_ms=60_000, batch_size=1000,
                            buffer_memory=3000, max_block_ms=3000) as p:
            futs = [await p.send("t", b"v", partition=i) for i in range(3)]
            await asyncio.sleep(0.2)  # the sender has seen the three batches and sleeps until their linger
            futs.append(await p.send("t", b"v", partition=3))
            await p.flush()
            assert sorted(f.result().partition for f in futs) == [0, 1, 2, 3]
    assert sum(len(fake.records("t", i)) for i in range(4)) == 4


async def test_send_and_wait_with_linger_zero_delivers_each_record() -> None:
    async with FakeCluster(brokers=1, topics={"t": 1}) as fake:
        async with Producer(bootstrap_servers=fake.bootstrap_servers, linger_ms=0) as p:
            for i in range(5):
                md = await p.send_and_wait("t", b"v%d" % i)
                assert md.offset == i
    assert [r.value for r in fake.records("t", 0)] == [b"v%d" % i for i in range(5)]


def test_the_accumulator_has_no_sender_hooks() -> None:
    assert not hasattr(RecordAccumulator, "wakeup") and not hasattr(RecordAccumulator, "ship_now")


async def test_one_request_for_two_topics_settles_each_batch_from_its_topics_answer() -> None:
    # Produce v13+ names topics by id: each partition's answer is matched back to its batch
    # through the id of its topic, never another topic's
    async with FakeCluster(brokers=1, topics={"a": 1, "b": 1}) as fake:
        async with Producer(bootstrap_servers=fake.bootstrap_servers, linger_ms=50) as p:
            for _ in range(2):
                await p.send_and_wait("a", b"earlier")
            # b's metadata known first: the two sends below must fall within one linger
            assert await p.partitions_for("b") == {0}
            fa = await p.send("a", b"to a")
            fb = await p.send("b", b"to b")
            ma, mb = await fa, await fb
            # four records in three requests: the last two went in one request
            assert p.metrics().records_per_request_avg == 4 / 3
    assert (ma.topic, ma.offset, mb.topic, mb.offset) == ("a", 2, "b", 0)
    assert [r.value for r in fake.records("b", 0)] == [b"to b"]


async def test_send_and_wait_once_close_began_is_refused_and_writes_nothing() -> None:
    # close() moves the producer to CLOSING at once and switches the appender off a loop pass later,
    # in its own task: a send_and_wait between the two starts no batch
    from kafkaio.errors import ProducerClosedError
    async with FakeCluster(brokers=1, topics={"t": 1}) as fake:
        p = Producer(bootstrap_servers=fake.bootstrap_servers, linger_ms=0)
        await p.start()
        assert (await p.send_and_wait("t", b"before")).offset == 0
        closing = asyncio.get_running_loop().create_task(p.close())
        await asyncio.sleep(0)  # close() ran up to waiting for its task
        with pytest.raises(ProducerClosedError):
            await p.send_and_wait("t", b"during close")
        await closing
    assert [r.value for r in fake.records("t", 0)] == [b"before"]
