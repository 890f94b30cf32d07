"""kafkaio's transactional Producer and read_committed Consumer against the fake's transaction
coordinator: markers, the last stable offset, aborted transactions, fencing and offsets."""
from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import pytest

from kafkaio.consumer.consumer import Consumer
from kafkaio.consumer.coordinator import ConsumerGroupMetadata
from kafkaio.errors import ProducerFencedError
from kafkaio.health import ProducerState
from kafkaio.producer.producer import Producer
from kafkaio.producer.transactions import TransactionManager
from kafkaio.protocol import ApiKey
from kafkaio.structs import TopicPartition
from kafkaio.testing.fake import DROP_RESPONSE, FakeCluster

TP0 = TopicPartition("t", 0)


async def _read_all(bootstrap: str, isolation: str) -> list[bytes]:
    """Every record a consumer with ``isolation`` returns, up to its end offset."""
    out: list[bytes] = []
    async with Consumer(bootstrap_servers=bootstrap, auto_offset_reset="earliest", isolation_level=isolation,
                        fetch_max_wait_ms=10) as c:
        c.assign([TP0])
        end = (await c.end_offsets([TP0]))[TP0]
        while await c.position(TP0) < end:
            for records in (await c.getmany(timeout_ms=50)).values():
                out.extend(r.value for r in records)
    return out


async def test_committed_transactions_are_read_and_aborted_ones_are_not() -> None:
    async with FakeCluster(brokers=2, topics={"t": 1}) as fake:
        async with Producer(bootstrap_servers=fake.bootstrap_servers, transactional_id="tx", linger_ms=0) as p:
            async with p.transaction():
                await p.send("t", b"c1", partition=0)
                await p.send("t", b"c2", partition=0)
            p.begin_transaction()
            await p.send_and_wait("t", b"aborted", partition=0)
            await p.abort_transaction()
            async with p.transaction():
                await p.send("t", b"c3", partition=0)
        batches = fake.batches("t", 0)
        committed = await _read_all(fake.bootstrap_servers, "read_committed")
        uncommitted = await _read_all(fake.bootstrap_servers, "read_uncommitted")
        log = [r.value for r in fake.records("t", 0)]
    assert log == [b"c1", b"c2", b"aborted", b"c3"]  # data records; markers are batches of their own
    assert sum(b.transactional and b.base_sequence == -1 for b in batches) == 3  # commit, abort, commit
    assert committed == [b"c1", b"c2", b"c3"]
    assert uncommitted == [b"c1", b"c2", b"aborted", b"c3"]


async def test_an_open_transaction_holds_read_committed_readers_at_its_first_offset() -> None:
    async with FakeCluster(topics={"t": 1}) as fake:
        async with Producer(bootstrap_servers=fake.bootstrap_servers, transactional_id="tx", linger_ms=0) as p:
            async with p.transaction():
                await p.send("t", b"before", partition=0)
            p.begin_transaction()
            await p.send_and_wait("t", b"open", partition=0)
            log = fake.state.partition("t", 0)
            assert (log.last_stable_offset, log.high_watermark) == (2, 3)  # marker at 1, "open" at 2
            assert await _read_all(fake.bootstrap_servers, "read_committed") == [b"before"]
            await p.commit_transaction()
        assert await _read_all(fake.bootstrap_servers, "read_committed") == [b"before", b"open"]


@contextlib.asynccontextmanager
async def _zombie(fake: FakeCluster) -> AsyncIterator[Producer]:
    """A transactional producer with a transaction open and one record written in it."""
    old = Producer(bootstrap_servers=fake.bootstrap_servers, transactional_id="tx", linger_ms=0)
    await old.start()
    try:
        old.begin_transaction()
        await old.send_and_wait("t", b"zombie", partition=0)
        yield old
    finally:
        await old.close(0)


async def test_a_new_producer_with_the_same_transactional_id_fences_the_old_one() -> None:
    async with FakeCluster(topics={"t": 1}) as fake:
        async with _zombie(fake) as old:
            async with Producer(bootstrap_servers=fake.bootstrap_servers, transactional_id="tx", linger_ms=0) as new:
                async with new.transaction():  # its InitProducerId aborted the old transaction
                    await new.send("t", b"fresh", partition=0)
                with pytest.raises(ProducerFencedError):
                    await old.commit_transaction()
        assert await _read_all(fake.bootstrap_servers, "read_committed") == [b"fresh"]


async def test_offsets_sent_with_a_transaction_are_committed_only_with_it() -> None:
    group = ConsumerGroupMetadata("g")
    async with FakeCluster(brokers=3, topics={"t": 1}) as fake:
        async with Producer(bootstrap_servers=fake.bootstrap_servers, transactional_id="tx", linger_ms=0) as p:
            p.begin_transaction()
            await p.send_offsets_to_transaction({TP0: 5}, group)
            await p.abort_transaction()
            assert ("t", 0) not in fake.state.committed.get("g", {})
            async with p.transaction():
                await p.send_offsets_to_transaction({TP0: 7}, group)
        assert fake.state.committed["g"][("t", 0)][0] == 7


async def test_a_fenced_add_partitions_fails_the_queued_records_of_the_fenced_producer(
        monkeypatch: pytest.MonkeyPatch) -> None:
    # only the transaction manager hears the fencing (AddPartitionsToTxn answers PRODUCER_FENCED):
    # the sender, which asks the manager for its fatal error, must fail the record it holds back
    # for that partition instead of keeping it until its delivery timeout
    monkeypatch.setattr(TransactionManager, "max_transaction_version", 1)  # AddPartitionsToTxn, not Produce v12
    async with FakeCluster(topics={"t": 2}) as fake, _zombie(fake) as old:
        async with Producer(bootstrap_servers=fake.bootstrap_servers, transactional_id="tx"):
            pass  # its InitProducerId bumped the epoch: the old producer is fenced
        held = await old.send("t", b"held back", partition=1)
        with pytest.raises(ProducerFencedError):
            await asyncio.wait_for(held, 30)  # a hang guard: delivery_timeout_ms is two minutes
        assert old.state is ProducerState.FATAL


@pytest.mark.parametrize("v2", [False, True], ids=["v1", "v2"])
@pytest.mark.parametrize("commit", [True, False], ids=["commit", "abort"])
async def test_an_end_txn_whose_answer_was_lost_is_retried_and_ends_once(
        monkeypatch: pytest.MonkeyPatch, v2: bool, commit: bool) -> None:
    # a real broker answers the retry as the first (tests/integration/transactions/test_txn_faults.py):
    # the classic protocol's with the same epoch, v2's with the epoch before the bump it caused
    if not v2:
        monkeypatch.setattr(TransactionManager, "max_transaction_version", 1)
    async with FakeCluster(topics={"t": 1}, features={"transaction.version": 2} if v2 else None) as fake:
        async with Producer(bootstrap_servers=fake.bootstrap_servers, transactional_id="tx", linger_ms=0,
                            request_timeout_ms=300) as p:
            epoch = p._transactions()._idem.producer_epoch
            p.begin_transaction()
            await p.send_and_wait("t", b"first", partition=0)
            lost = fake.control(ApiKey.END_TXN, lambda info, body: DROP_RESPONSE)
            await (p.commit_transaction() if commit else p.abort_transaction())
            assert lost.hits == 1
            assert p._transactions()._idem.producer_epoch == epoch + (1 if v2 else 0)
            async with p.transaction():
                await p.send("t", b"next", partition=0)
        markers = [b for b in fake.batches("t", 0) if b.transactional and b.base_sequence == -1]
        committed = await _read_all(fake.bootstrap_servers, "read_committed")
    assert len(markers) == 2  # one per transaction: the retry wrote none
    assert committed == ([b"first", b"next"] if commit else [b"next"])
