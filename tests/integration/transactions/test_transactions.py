"""The transactional producer against a real broker: commit and abort visibility, the state rules,
zombie fencing, the broker's transaction timeout, abortable errors, and offsets in transactions."""
from __future__ import annotations

import asyncio
import time

import pytest

import kafkaio
from kafkaio.errors import (
    CommitFailedError,
    IllegalStateError,
    InvalidProducerEpochError,
    InvalidTxnStateError,
    ProducerFencedError,
    RecordTooLargeError,
    TransactionAbortedError,
)
from kafkaio.producer.transactions import TransactionState
from kafkaio.structs import OffsetAndMetadata, TopicPartition
from kafkaio.testing.capabilities import TRANSACTION_V2

from txn_helpers import group_member, read_all, unique, values

pytestmark = pytest.mark.integration


def producer(bootstrap: str, txn_id: str | None = None, **kw) -> kafkaio.Producer:
    kw.setdefault("linger_ms", 5)
    return kafkaio.Producer(bootstrap, transactional_id=txn_id or unique("tid"), **kw)


async def test_committed_transaction_is_visible_to_read_committed(bootstrap_servers, topic_factory,
                                                                  txn_version, broker_capabilities) -> None:
    topic = await topic_factory(partitions=3)
    async with producer(bootstrap_servers) as p:
        # v2 exactly when allowed and finalized by the broker (Kafka 4.0+); v1 on older brokers
        assert p._txn.protocol_v2 == (txn_version == 2 and broker_capabilities.has(TRANSACTION_V2))
        async with p.transaction():
            for i in range(30):
                await p.send(topic, b"v%d" % i, key=b"k%d" % (i % 5))
            many = await p.send_many(topic, [(b"m", b"many%d" % i) for i in range(10)])
        assert len(await many) == 10  # delivered before the commit returned
    got = await read_all(bootstrap_servers, topic, 3, want=40)
    assert sorted(values(got)) == sorted([b"v%d" % i for i in range(30)] + [b"many%d" % i for i in range(10)])
    by_key: dict[bytes, list[bytes]] = {}
    for r in got:
        by_key.setdefault(r.key, []).append(r.value)
    for k in range(5):  # per key, in send order
        assert by_key[b"k%d" % k] == [b"v%d" % i for i in range(30) if i % 5 == k]


async def test_aborted_transaction_is_invisible_to_read_committed_only(bootstrap_servers, topic_factory) -> None:
    topic = await topic_factory(partitions=2)
    async with producer(bootstrap_servers) as p:
        p.begin_transaction()
        futs = [await p.send(topic, b"aborted%d" % i, partition=i % 2) for i in range(10)]
        await p.flush()  # really written to the log before the abort
        await asyncio.gather(*futs)
        await p.abort_transaction()
        async with p.transaction():
            await p.send(topic, b"committed", partition=0)
    assert values(await read_all(bootstrap_servers, topic, 2)) == [b"committed"]
    uncommitted = values(await read_all(bootstrap_servers, topic, 2, committed=False, want=11))
    assert sorted(uncommitted) == sorted([b"aborted%d" % i for i in range(10)] + [b"committed"])


async def test_unsent_records_of_an_aborted_transaction_fail(bootstrap_servers, topic) -> None:
    async with producer(bootstrap_servers, linger_ms=60_000) as p:
        p.begin_transaction()
        fut = await p.send(topic, b"never sent")  # lingers: still queued at the abort
        await p.abort_transaction()
        with pytest.raises(TransactionAbortedError):
            await fut
        assert p._txn.state is TransactionState.READY
    assert values(await read_all(bootstrap_servers, topic, committed=False)) == []


async def test_operations_outside_a_transaction_are_refused(bootstrap_servers, topic) -> None:
    async with producer(bootstrap_servers) as p:
        with pytest.raises(IllegalStateError):
            await p.send(topic, b"x")
        with pytest.raises(IllegalStateError):
            await p.send_many(topic, [b"x"])
        with pytest.raises(IllegalStateError):
            await p.commit_transaction()
        with pytest.raises(IllegalStateError):
            await p.abort_transaction()
        p.begin_transaction()
        with pytest.raises(IllegalStateError):
            p.begin_transaction()
        await p.send(topic, b"ok")
        await p.commit_transaction()
        with pytest.raises(IllegalStateError):
            await p.send(topic, b"after commit")
    assert values(await read_all(bootstrap_servers, topic)) == [b"ok"]
    async with kafkaio.Producer(bootstrap_servers) as plain:
        with pytest.raises(IllegalStateError):
            plain.begin_transaction()


async def test_context_manager_aborts_on_exception(bootstrap_servers, topic) -> None:
    async with producer(bootstrap_servers) as p:
        with pytest.raises(ZeroDivisionError):
            async with p.transaction():
                await p.send(topic, b"doomed")
                await p.flush()
                1 / 0
        assert p._txn.state is TransactionState.READY
        async with p.transaction():
            await p.send(topic, b"kept")
    assert values(await read_all(bootstrap_servers, topic)) == [b"kept"]
    assert values(await read_all(bootstrap_servers, topic, committed=False, want=2)) == [b"doomed", b"kept"]


async def test_a_second_producer_fences_the_first(bootstrap_servers, topic) -> None:
    tid = unique("zombie")
    zombie = producer(bootstrap_servers, tid)
    await zombie.start()
    try:
        zombie.begin_transaction()
        await (await zombie.send(topic, b"zombie"))
        async with producer(bootstrap_servers, tid) as successor:  # InitProducerId: bumps the epoch
            with pytest.raises(ProducerFencedError):
                await zombie.commit_transaction()
            # fatal: nothing but close() works any more
            with pytest.raises(ProducerFencedError):
                zombie.begin_transaction()
            with pytest.raises(ProducerFencedError):
                await zombie.send(topic, b"more")
            with pytest.raises(ProducerFencedError):
                await zombie.abort_transaction()
            async with successor.transaction():
                await successor.send(topic, b"successor")
    finally:
        await zombie.close()
    assert values(await read_all(bootstrap_servers, topic)) == [b"successor"]


async def test_fenced_producer_fails_its_next_send(bootstrap_servers, topic) -> None:
    tid = unique("zombie")
    async with producer(bootstrap_servers, tid) as zombie:
        zombie.begin_transaction()
        await (await zombie.send(topic, b"first"))
        async with producer(bootstrap_servers, tid):
            # the partition is in the (now aborted) transaction: Produce with the old epoch fails
            fut = await zombie.send(topic, b"second")
            with pytest.raises(InvalidProducerEpochError):  # the record's own error, as in Java
                await fut
            with pytest.raises(ProducerFencedError):
                await zombie.send(topic, b"third")
            assert zombie._txn.state is TransactionState.FATAL_ERROR
    assert values(await read_all(bootstrap_servers, topic)) == []


async def test_the_broker_aborts_a_transaction_open_past_its_timeout(bootstrap_servers, topic) -> None:
    # v1: the coordinator's bumped epoch fences the producer (PRODUCER_FENCED), as in Java;
    # v2: a commit of the aborted transaction is an invalid state (INVALID_TXN_STATE) on Kafka 4.4, and
    # the bumped epoch fences the producer (PRODUCER_FENCED) on 4.3.2; no ApiVersions field tells the
    # two apart, and both are fatal, in Java too
    # The coordinator looks for expired transactions every 10 s (the broker default of
    # transaction.abort.timed.out.transaction.cleanup.interval.ms), then aborts with a bumped epoch.
    async with producer(bootstrap_servers, transaction_timeout_ms=2000) as p:
        p.begin_transaction()
        await (await p.send(topic, b"timed out"))
        # wait until the broker's abort marker is in the log (the LSO passes the record)
        for _ in range(100):
            if values(await read_all(bootstrap_servers, topic, committed=False, want=1, timeout=2)) and \
                    await _lso_past_record(bootstrap_servers, topic):
                break
            await asyncio.sleep(0.5)
        else:
            pytest.fail("the broker did not abort the timed-out transaction within 50 s")
        with pytest.raises(ProducerFencedError if not p._txn.protocol_v2 else (InvalidTxnStateError,
                                                                               ProducerFencedError)):
            await p.commit_transaction()
        assert p._txn.state is TransactionState.FATAL_ERROR
    assert values(await read_all(bootstrap_servers, topic)) == []


async def _lso_past_record(bootstrap: str, topic: str) -> bool:
    tp = TopicPartition(topic, 0)
    async with kafkaio.Consumer(bootstrap_servers=bootstrap, isolation_level="read_committed") as c:
        return (await c.end_offsets([tp]))[tp] >= 2  # the record and the marker


async def test_a_failed_batch_only_allows_abort_then_the_producer_is_usable(bootstrap_servers, topic_factory) -> None:
    small = await topic_factory(configs={"max.message.bytes": "1000"})
    async with producer(bootstrap_servers) as p:
        p.begin_transaction()
        ok = await p.send(small, b"small")
        big = await p.send(small, b"x" * 5000)  # accepted by the client, refused by the broker
        with pytest.raises(RecordTooLargeError):
            await big
        with pytest.raises(RecordTooLargeError):
            await p.commit_transaction()
        assert p._txn.state is TransactionState.ABORTABLE_ERROR
        with pytest.raises(RecordTooLargeError):  # again: only abort is allowed
            await p.commit_transaction()
        with pytest.raises(TransactionAbortedError):
            await p.send(small, b"more")
        await p.abort_transaction()
        await asyncio.gather(ok, return_exceptions=True)
        async with p.transaction():
            await p.send(small, b"after abort")
    assert values(await read_all(bootstrap_servers, small)) == [b"after abort"]


async def test_offsets_sent_to_a_transaction_are_committed_only_on_commit(bootstrap_servers, topic_factory) -> None:
    src = await topic_factory()
    dst = await topic_factory()
    tp = TopicPartition(src, 0)
    group = unique("group")
    consumer = await group_member(bootstrap_servers, src, group)
    try:
        meta = consumer.group_metadata()
        assert meta.generation_id > 0 and meta.member_id
        async with producer(bootstrap_servers) as p:
            p.begin_transaction()
            await p.send(dst, b"out")
            await p.send_offsets_to_transaction({tp: OffsetAndMetadata(5, "aborted")}, meta)
            await p.abort_transaction()
            assert await consumer.committed(tp) is None
            async with p.transaction():
                await p.send(dst, b"out")
                await p.send_offsets_to_transaction({tp: OffsetAndMetadata(7, "committed")}, meta)
            committed = await consumer.committed(tp)
            assert committed is not None and (committed.offset, committed.metadata) == (7, "committed")
            # KIP-447: an old generation is refused; the transaction must be aborted
            stale = meta._replace(generation_id=meta.generation_id + 1000)
            p.begin_transaction()
            with pytest.raises(CommitFailedError):
                await p.send_offsets_to_transaction({tp: 9}, stale)
            assert p._txn.state is TransactionState.ABORTABLE_ERROR
            await p.abort_transaction()
            committed = await consumer.committed(tp)
            assert committed is not None and committed.offset == 7
    finally:
        await consumer.stop()


async def test_close_aborts_an_open_transaction(bootstrap_servers, topic) -> None:
    p = producer(bootstrap_servers)
    await p.start()
    p.begin_transaction()
    await (await p.send(topic, b"open at close"))
    await p.close()
    tp = TopicPartition(topic, 0)
    async with kafkaio.Consumer(bootstrap_servers=bootstrap_servers) as c:
        # The abort marker follows the record within moments, not after transaction_timeout_ms
        # (60 s). Not at once: EndTxn is answered when the coordinator has logged the abort, and
        # it writes the markers to the partitions after that (a CI run read the end offset at 1).
        deadline = time.monotonic() + 10.0
        while (end := (await c.end_offsets([tp]))[tp]) < 2 and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        assert end == 2
    assert values(await read_all(bootstrap_servers, topic)) == []
