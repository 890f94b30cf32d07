"""on_partitions_assigned runs before anything of the partitions it names is fetched (as Java's
ConsumerRebalanceListener promises): an async listener that loads offsets stored outside Kafka and
seeks decides where the first record comes from, on the eager and the cooperative protocol. The
consumer group protocol's twin is in tests/integration/consumer/test_consumer_protocol.py."""
from __future__ import annotations

import asyncio
from typing import Awaitable, Callable

import pytest

import kafkaio
from kafkaio.consumer.consumer import Consumer
from kafkaio.producer.producer import Producer
from kafkaio.structs import TopicPartition as TP
from kafkaio.testing.fake import FakeCluster

TP0 = TP("t", 0)
STRATEGIES = ["range", "cooperative-sticky"]


class HeldListener(kafkaio.ConsumerRebalanceListener):
    """Runs ``body`` on the assigned partitions once ``release`` is set (a database read that
    takes as long as the test wants)."""

    def __init__(self, body: Callable[[set[TP]], Awaitable[None]]) -> None:
        self.body = body
        self.started = asyncio.Event()
        self.release = asyncio.Event()
        self.returned = False

    async def on_partitions_assigned(self, assigned: set[TP]) -> None:
        self.started.set()
        await self.release.wait()
        try:
            await self.body(assigned)
        finally:
            self.returned = True


async def consumer_with(fake: FakeCluster, strategy: str, body: Callable[[Consumer, set[TP]], Awaitable[None]]
                        ) -> tuple[Consumer, HeldListener]:
    async with Producer(bootstrap_servers=fake.bootstrap_servers, linger_ms=0) as p:
        for i in range(10):
            await p.send_and_wait("t", str(i).encode())
    c = Consumer(bootstrap_servers=fake.bootstrap_servers, group_id="g", enable_auto_commit=False,
                 auto_offset_reset="earliest", fetch_max_wait_ms=10, partition_assignment_strategy=strategy)
    listener = HeldListener(lambda assigned: body(c, assigned))
    await c.start()
    c.subscribe(["t"], listener=listener)
    return c, listener


async def offsets_while_held(c: Consumer, listener: HeldListener) -> list[int]:
    """What getmany() hands out while the listener is held, over many fetch waits."""
    while not listener.started.is_set():
        assert not await c.getmany(timeout_ms=20)
    handed: list[int] = []
    for _ in range(20):
        handed += [r.offset for recs in (await c.getmany(timeout_ms=20)).values() for r in recs]
    return handed


async def first_offset(c: Consumer) -> int:
    while True:
        batch = await c.getmany(timeout_ms=20)
        if batch:
            return batch[TP0][0].offset


@pytest.mark.parametrize("strategy", STRATEGIES)
async def test_nothing_is_handed_out_before_the_assigned_listener_returns_and_its_seek_is_the_start(
        strategy: str) -> None:
    async def seek_to_stored(c: Consumer, assigned: set[TP]) -> None:
        for tp in assigned:
            c.seek(tp, 5)

    async with FakeCluster(brokers=1, topics={"t": 1}) as fake:
        c, listener = await consumer_with(fake, strategy, seek_to_stored)
        try:
            assert await offsets_while_held(c, listener) == []
            listener.release.set()
            assert await first_offset(c) == 5
        finally:
            listener.release.set()   # stop() waits for the listener
            await c.stop()


@pytest.mark.parametrize("strategy", STRATEGIES)
async def test_no_committed_offset_lookup_races_the_assigned_listener(strategy: str) -> None:
    """The group's committed offset (3) is not looked up behind the listener's back: its seek_to_end
    stands."""
    async def seek_to_end(c: Consumer, assigned: set[TP]) -> None:
        await c.seek_to_end(*assigned)

    async with FakeCluster(brokers=1, topics={"t": 1}) as fake:
        async with Consumer(bootstrap_servers=fake.bootstrap_servers, group_id="g", enable_auto_commit=False) as c0:
            c0.assign([TP0])
            await c0.commit({TP0: kafkaio.OffsetAndMetadata(3, "")})
        c, listener = await consumer_with(fake, strategy, seek_to_end)
        try:
            assert await offsets_while_held(c, listener) == []
            listener.release.set()
            while not listener.returned:
                assert not await c.getmany(timeout_ms=20)
            assert await c.position(TP0) == 10
        finally:
            listener.release.set()   # stop() waits for the listener
            await c.stop()


@pytest.mark.parametrize("strategy", STRATEGIES)
async def test_position_in_the_assigned_listener_is_answered(strategy: str) -> None:
    positions: list[int] = []

    async def read_position(c: Consumer, assigned: set[TP]) -> None:
        for tp in assigned:
            positions.append(await c.position(tp))
            c.seek(tp, 7)

    async with FakeCluster(brokers=1, topics={"t": 1}) as fake:
        c, listener = await consumer_with(fake, strategy, read_position)
        try:
            listener.release.set()
            assert await first_offset(c) == 7
            assert positions == [0]
        finally:
            listener.release.set()   # stop() waits for the listener
            await c.stop()


@pytest.mark.parametrize("strategy", STRATEGIES)
async def test_an_assigned_listener_that_raises_reaches_getmany_and_its_partitions_are_fetched(strategy: str) -> None:
    """As Java's classic consumer: the listener's error is raised by the next poll, and the
    partitions stay assigned and are fetched from where the listener left them."""
    async def seek_then_fail(c: Consumer, assigned: set[TP]) -> None:
        for tp in assigned:
            c.seek(tp, 4)
        raise ValueError("the offset store is down")

    async with FakeCluster(brokers=1, topics={"t": 1}) as fake:
        c, listener = await consumer_with(fake, strategy, seek_then_fail)
        try:
            listener.release.set()
            with pytest.raises(ValueError, match="offset store"):
                await first_offset(c)
            assert c.assignment() == {TP0}
            assert await first_offset(c) == 4
        finally:
            listener.release.set()   # stop() waits for the listener
            await c.stop()
