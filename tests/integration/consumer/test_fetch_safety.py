"""The fetch path against a real broker (issue 18): one partition waiting for its position never
stops the others; a fetch error acts on the position, after the records already fetched are handed
out; stop() wakes every waiting reader at once."""
from __future__ import annotations

import asyncio

import pytest

import kafkaio
from kafkaio.consumer.coordinator import ConsumerGroupMetadata
from kafkaio.errors import IllegalStateError, LogTruncationError, OffsetOutOfRangeError
from kafkaio.protocol import ApiKey
from kafkaio.structs import OffsetAndMetadata
from kafkaio.structs import TopicPartition as TP
from kafkaio.testing.proxy import proxied_cluster

from consumer_helpers import RawProducer, unique

pytestmark = [pytest.mark.integration]


def _offsets(batch: dict[TP, list]) -> list[int]:
    return [r.offset for records in batch.values() for r in records]


async def test_a_pending_transactional_commit_holds_only_its_own_partition(consumer_bootstrap: str) -> None:
    topic, group = unique(), unique("g")
    p0, p1 = TP(topic, 0), TP(topic, 1)
    async with RawProducer(consumer_bootstrap) as raw:
        await raw.create_topic(topic, 2)
        await raw.send_batch(topic, 1, [b"a", b"b"])
    producer = kafkaio.Producer(consumer_bootstrap, transactional_id=unique("tid"))
    await producer.start()
    try:
        # An open transaction holds a commit of p0 for the group: OffsetFetch answers
        # UNSTABLE_OFFSET_COMMIT for p0 until it ends.
        producer.begin_transaction()
        await producer.send_offsets_to_transaction({p0: 0}, ConsumerGroupMetadata(group))
        async with kafkaio.Consumer(bootstrap_servers=consumer_bootstrap, group_id=group,
                                    enable_auto_commit=False, auto_offset_reset="earliest") as c:
            c.assign([p0, p1])
            got = await c.getmany(timeout_ms=8000)
            assert {tp: [r.value for r in rs] for tp, rs in got.items()} == {p1: [b"a", b"b"]}, \
                "p1 is fetched within getmany's 8 s while p0 waits for the transaction"
            await producer.abort_transaction()
            # the aborted commit leaves p0 without one: auto_offset_reset applies
            assert await c.position(p0) == 0
    finally:
        await producer.close()


async def test_a_reset_that_gets_no_answer_holds_only_its_own_partition() -> None:
    async with proxied_cluster(1) as (cluster, proxies):
        topic = unique()
        p0, p1 = TP(topic, 0), TP(topic, 1)
        async with RawProducer(cluster.bootstrap_servers) as raw:
            await raw.create_topic(topic, 2)
            await raw.send_batch(topic, 0, [b"a", b"b"])
        async with kafkaio.Consumer(bootstrap_servers=cluster.bootstrap_servers,
                                    auto_offset_reset="earliest") as c:
            proxies[0].drop_requests(None, api_key=ApiKey.LIST_OFFSETS)  # p1's reset never completes
            c.assign([p0, p1])
            c.seek(p0, 0)
            got = await c.getmany(timeout_ms=8000)
            assert {tp: [r.value for r in rs] for tp, rs in got.items()} == {p0: [b"a", b"b"]}, \
                "p0 is fetched within getmany's 8 s while p1's reset waits"
            proxies[0].reset()


async def _prefetched_then_deleted(bootstrap: str, reset: str) -> tuple[kafkaio.Consumer, TP, list[int], int]:
    """A consumer of a 200-record partition that handed out offset 0 and has prefetched up to
    the returned offset; then every record is deleted, so the fetch there is out of range."""
    topic = unique()
    tp = TP(topic, 0)
    async with RawProducer(bootstrap) as raw:
        await raw.create_topic(topic, 1)
        for _ in range(20):
            await raw.send_batch(topic, 0, [b"x" * 50] * 10)
    c = kafkaio.Consumer(bootstrap_servers=bootstrap, auto_offset_reset=reset,
                         max_partition_fetch_bytes=1000, fetch_max_wait_ms=100)
    await c.start()
    c.assign([tp])
    c.seek(tp, 0)
    first = _offsets(await c.getmany(timeout_ms=10000, max_records=1))
    assert first == [0]
    # The precondition only, read from the inside: the prefetch buffer is full (two fetches'
    # worth), so no fetch is in flight and the next one starts where the buffer ends.
    st = c._subs.state(tp)
    buffer = c._fetcher._buffer
    for _ in range(200):
        if buffer.buffered_bytes(st) >= 2000:
            break
        await asyncio.sleep(0.05)
    assert buffer.buffered_bytes(st) >= 2000 and st.fetch_offset is not None and st.fetch_offset > 10
    prefetched_to = st.fetch_offset
    async with kafkaio.Admin(bootstrap) as admin:
        assert (await admin.delete_records({tp: -1}))[tp] == 200
    return c, tp, first, prefetched_to


async def test_out_of_range_after_prefetch_hands_out_the_buffered_records_then_resets(
        consumer_bootstrap: str) -> None:
    c, tp, got, prefetched_to = await _prefetched_then_deleted(consumer_bootstrap, "earliest")
    try:
        for _ in range(100):
            batch = await c.getmany(timeout_ms=200, max_records=7)
            got += _offsets(batch)
            await asyncio.sleep(0.05)   # the application works: the fetcher runs meanwhile
            if not batch and await c.position(tp) == 200:
                break
        assert got == list(range(prefetched_to)), "every prefetched record is handed out, once, in order"
        assert await c.position(tp) == 200, "then the position is reset to the new log start"
    finally:
        await c.stop()


async def test_out_of_range_after_prefetch_with_reset_none_names_the_position(consumer_bootstrap: str) -> None:
    c, tp, got, prefetched_to = await _prefetched_then_deleted(consumer_bootstrap, "none")
    try:
        with pytest.raises(OffsetOutOfRangeError) as info:
            for _ in range(100):
                got += _offsets(await c.getmany(timeout_ms=200, max_records=7))
                await asyncio.sleep(0.05)   # the application works: the fetcher runs meanwhile
        assert got == list(range(prefetched_to)), "every prefetched record came first"
        assert await c.position(tp) == prefetched_to
        assert info.value.offset == prefetched_to and info.value.topic_partition == tp
        assert f"offset {prefetched_to} " in str(info.value)
    finally:
        await c.stop()


async def test_stop_wakes_every_waiting_reader(consumer_bootstrap: str) -> None:
    topic = unique()
    async with RawProducer(consumer_bootstrap) as raw:
        await raw.create_topic(topic, 1)
    c = kafkaio.Consumer(bootstrap_servers=consumer_bootstrap, auto_offset_reset="earliest")
    await c.start()
    c.assign([TP(topic, 0)])

    async def iterate() -> list:
        return [r async for r in c]

    many = asyncio.ensure_future(c.getmany(timeout_ms=60000))
    one = asyncio.ensure_future(c.getone())
    loop = asyncio.ensure_future(iterate())
    await asyncio.sleep(1.0)
    assert not (many.done() or one.done() or loop.done())
    await c.stop()
    # far below the 60 s getmany would otherwise wait
    done, _ = await asyncio.wait([many, one, loop], timeout=10)
    assert done == {many, one, loop}, "stop() woke them"
    assert many.result() == {}
    assert isinstance(one.exception(), IllegalStateError)
    assert loop.result() == []


async def test_a_position_from_a_truncated_epoch_goes_back_to_the_divergence_point() -> None:
    """KIP-320 on one broker: a restart moves the partition to a new leader epoch; an offset
    committed under the old epoch beyond that epoch's end says the committer read records the log
    no longer has (what an unclean leader election leaves). The fetch names the position's epoch
    (last_fetched_epoch) and the broker answers with the diverging epoch."""
    async with proxied_cluster(1) as (cluster, _proxies):
        bootstrap = cluster.bootstrap_servers
        topic = unique()
        tp = TP(topic, 0)
        async with RawProducer(bootstrap) as raw:
            await raw.create_topic(topic, 1)
            await raw.send_batch(topic, 0, [b"%d" % i for i in range(10)])
        await asyncio.to_thread(cluster.restart_broker, 0)
        async with RawProducer(bootstrap) as raw:
            await raw.send_batch(topic, 0, [b"%d" % i for i in range(10, 20)])
        async with kafkaio.Consumer(bootstrap_servers=bootstrap, auto_offset_reset="earliest") as c:
            c.assign([tp])
            c.seek(tp, 0)
            records = []
            while len(records) < 20:
                records += (await c.getmany(timeout_ms=10000)).get(tp, [])
        old_epoch, new_epoch = records[0].leader_epoch, records[10].leader_epoch
        assert 0 <= old_epoch < new_epoch, "the restart began a new leader epoch at offset 10"

        groups = {reset: unique("g") for reset in ("earliest", "none")}
        for reset, group in groups.items():
            # no auto commit: it would commit the committer's own position (the end of the log,
            # once its lookup resets it) over the offset committed here
            async with kafkaio.Consumer(bootstrap_servers=bootstrap, group_id=group,
                                        enable_auto_commit=False) as committer:
                committer.assign([tp])
                await committer.commit({tp: OffsetAndMetadata(15, "", old_epoch)})
            async with kafkaio.Consumer(bootstrap_servers=bootstrap, group_id=group,
                                        auto_offset_reset=reset, enable_auto_commit=False) as c:
                c.assign([tp])
                if reset == "earliest":
                    got = (await c.getmany(timeout_ms=10000)).get(tp, [])
                    assert [r.offset for r in got][:1] == [10], "back to where the old epoch ended"
                else:
                    with pytest.raises(LogTruncationError) as info:
                        await c.getmany(timeout_ms=10000)
                    assert (info.value.topic_partition, info.value.offset) == (tp, 15)
                    assert info.value.divergent_offset == OffsetAndMetadata(10, "", old_epoch)
                    assert await c.position(tp) == 15, "the position stays until the application seeks"
