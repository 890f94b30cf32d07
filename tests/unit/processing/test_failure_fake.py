"""On the fake broker: a handler exception that no retry policy takes stops the processor; run()
raises it after the other running records finished, and the commit stays on the failed record."""
from __future__ import annotations

import asyncio

import pytest

import kafkaio
from kafkaio.processing import Processor, ProcessorState
from kafkaio.processing.commit_metadata import encode
from kafkaio.testing.fake import FakeCluster


class Broken(Exception):
    pass


async def test_an_unhandled_failure_stops_the_processor_and_is_raised_from_run() -> None:
    async with FakeCluster(brokers=1, topics={"t": 1}) as fake:
        async with kafkaio.Producer(bootstrap_servers=fake.bootstrap_servers) as producer:
            await (await producer.send_many("t", [(b"a", b"0"), (b"b", b"1"), (b"c", b"2")]))
        finished: list[int] = []
        slow_done = asyncio.Event()

        async def handler(record: kafkaio.ConsumerRecord) -> None:
            if record.offset == 1:
                raise Broken("offset 1")
            if record.offset == 2:
                await asyncio.sleep(0.2)     # still running when offset 1 fails: it is waited for
                slow_done.set()
            finished.append(record.offset)

        consumer = kafkaio.Consumer(bootstrap_servers=fake.bootstrap_servers, group_id="g",
                                    enable_auto_commit=False, auto_offset_reset="earliest")
        async with consumer:
            proc = Processor(consumer, handler, topics=["t"])
            with pytest.raises(Broken, match="offset 1"):
                await asyncio.wait_for(proc.run(), 30)
            assert proc.state is ProcessorState.STOPPED and slow_done.is_set()
            assert sorted(finished) == [0, 2]
            offset, _, metadata = fake.state.committed["g"][("t", 0)]
            assert (offset, metadata) == (1, encode(1, [2]))
            await proc.stop()                # after run() ended: returns at once
            with pytest.raises(kafkaio.errors.IllegalStateError):
                await proc.run()
