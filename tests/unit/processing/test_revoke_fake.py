"""On the in-process fake broker: a revocation waits for the running record of the revoked
partition and commits past it (``on_revoke="wait"``), or cancels it and commits the watermark
below it with the records finished above it in the metadata (``"cancel"``)."""
from __future__ import annotations

import asyncio

import pytest

import kafkaio
from kafkaio.processing import Processor
from kafkaio.processing.commit_metadata import encode
from kafkaio.testing.fake import FakeCluster


async def committed(fake: FakeCluster, group: str, want: int) -> tuple[int, str | None]:
    for _ in range(400):
        entry = fake.state.committed.get(group, {}).get(("t", 0))
        if entry is not None and entry[0] == want:
            return entry[0], entry[2]
        await asyncio.sleep(0.01)
    raise AssertionError(f"no commit of {want}: {fake.state.committed.get(group)}")


@pytest.mark.parametrize("on_revoke", ["wait", "cancel"])
async def test_revocation_waits_for_or_cancels_the_running_record(on_revoke: str) -> None:
    async with FakeCluster(brokers=1, topics={"t": 1}) as fake:
        async with kafkaio.Producer(bootstrap_servers=fake.bootstrap_servers) as producer:
            await (await producer.send_many("t", [(b"a", b"0"), (b"b", b"1"), (b"c", b"2")]))
        started, release = asyncio.Event(), asyncio.Event()
        finished: list[int] = []
        cancelled: list[int] = []

        async def handler(record: kafkaio.ConsumerRecord) -> None:
            if record.offset == 1:
                started.set()
                try:
                    await release.wait()
                except asyncio.CancelledError:
                    cancelled.append(record.offset)
                    raise
            finished.append(record.offset)

        consumer = kafkaio.Consumer(bootstrap_servers=fake.bootstrap_servers, group_id="g",
                                    enable_auto_commit=False, auto_offset_reset="earliest",
                                    heartbeat_interval_ms=100)
        async with consumer:
            async with Processor(consumer, handler, topics=["t"], on_revoke=on_revoke,
                                 commit_interval_ms=60_000) as proc:
                runner = asyncio.create_task(proc.run())
                await asyncio.wait_for(started.wait(), 10)
                while sorted(finished) != [0, 2]:
                    await asyncio.sleep(0.01)
                consumer.unsubscribe()              # revokes t-0 through the processor's listener
                if on_revoke == "wait":
                    await asyncio.sleep(0.2)
                    assert ("t", 0) not in fake.state.committed.get("g", {}), "committed before the record finished"
                    release.set()
                    assert await committed(fake, "g", 3) == (3, encode(3, []))
                    assert sorted(finished) == [0, 1, 2]
                else:
                    assert await committed(fake, "g", 1) == (1, encode(1, [2]))
                    assert cancelled == [1] and sorted(finished) == [0, 2]
                await proc.stop()
                await runner
