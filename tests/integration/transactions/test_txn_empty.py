"""Transactions with no records in them, against a real broker: begin then commit or abort with
nothing sent, with only offsets sent, and an abort after every Produce of the transaction was lost
before the broker saw it (under transaction v2 the coordinator then holds no partition and no
group: the transaction never started there). What the broker answers to EndTxn for such a
transaction is what the fake broker answers too (tests/unit/fake/test_fake_txn_empty.py); so is its
answer to an EndTxn retried after its answer was lost."""
from __future__ import annotations

import asyncio

import pytest

import kafkaio
from kafkaio.admin import Admin, NewTopic
from kafkaio.cluster import Cluster
from kafkaio.config import ProducerConfig
from kafkaio.errors import ErrorCode, KafkaTimeoutError
from kafkaio.producer.transactions import TransactionState
from kafkaio.protocol import ApiKey
from kafkaio.structs import OffsetAndMetadata, TopicPartition
from kafkaio.testing.capabilities import TRANSACTION_V2
from kafkaio.testing.proxy import FaultProxy

from txn_helpers import group_member, read_all, unique, values

pytestmark = pytest.mark.integration

END_TXN_V1 = 4  # the last EndTxn version of the classic protocol
END_TXN_V2 = 5  # transaction v2 (KIP-890): every EndTxn bumps the epoch


def _producer(bootstrap: str, **kw: object) -> kafkaio.Producer:
    kw.setdefault("linger_ms", 0)
    return kafkaio.Producer(bootstrap, transactional_id=unique("tid"), **kw)


@pytest.mark.parametrize("commit", [True, False], ids=["commit", "abort"])
async def test_a_transaction_with_nothing_sent_ends_without_a_request(bootstrap_servers, topic, commit: bool) -> None:
    # as Java's TransactionManager: a transaction that never started (no partition, no offsets)
    # ends without EndTxn; the producer keeps its epoch (v2's EndTxn would have bumped it)
    async with _producer(bootstrap_servers) as p:
        epoch = p._txn._idem.producer_epoch
        p.begin_transaction()
        await (p.commit_transaction() if commit else p.abort_transaction())
        assert p._txn.state is TransactionState.READY
        assert p._txn._idem.producer_epoch == epoch
        async with p.transaction():
            await p.send(topic, b"next")
    # want: the commit's marker reaches the partition after EndTxn is answered; until then the
    # last stable offset is 0 and a read_committed read to the end offset sees nothing
    assert values(await read_all(bootstrap_servers, topic, want=1)) == [b"next"]


@pytest.mark.parametrize("commit", [True, False], ids=["commit", "abort"])
async def test_a_transaction_of_offsets_only_commits_or_aborts_them(bootstrap_servers, topic_factory,
                                                                    commit: bool) -> None:
    src = await topic_factory()
    tp = TopicPartition(src, 0)
    consumer = await group_member(bootstrap_servers, src, unique("group"))
    try:
        async with _producer(bootstrap_servers) as p:
            p.begin_transaction()
            await p.send_offsets_to_transaction({tp: OffsetAndMetadata(3, "only offsets")}, consumer.group_metadata())
            await (p.commit_transaction() if commit else p.abort_transaction())
            assert p._txn.state is TransactionState.READY
            committed = await consumer.committed(tp)
            if commit:
                assert committed is not None and (committed.offset, committed.metadata) == (3, "only offsets")
            else:
                assert committed is None
            # the producer goes on: the next transaction commits its offsets
            async with p.transaction():
                await p.send_offsets_to_transaction({tp: 4}, consumer.group_metadata())
            committed = await consumer.committed(tp)
            assert committed is not None and committed.offset == 4
    finally:
        await consumer.stop()


async def test_an_abort_after_every_produce_was_lost_ends_the_transaction(
        proxied_bootstrap: str, fault_proxy: FaultProxy, txn_version: int, broker_capabilities) -> None:
    name = unique("txn-empty")
    async with Admin(proxied_bootstrap) as admin:
        await admin.create_topics([NewTopic(name, 1, 1)], wait_for_leaders=True)
    async with _producer(proxied_bootstrap, request_timeout_ms=1000, delivery_timeout_ms=2500,
                         retry_backoff_ms=50, max_block_ms=30_000) as p:
        v2 = txn_version == 2 and broker_capabilities.has(TRANSACTION_V2)
        assert p._txn.protocol_v2 == v2
        p.begin_transaction()
        fault_proxy.drop_requests(None, api_key=ApiKey.PRODUCE)  # never reach the broker
        fut = await p.send(name, b"never written")
        with pytest.raises(KafkaTimeoutError):
            await fut
        fault_proxy.reset()
        with pytest.raises(KafkaTimeoutError):
            await p.commit_transaction()
        # v2: EndTxn(abort) for a transaction the coordinator holds nothing of (v1: the
        # partition was added by AddPartitionsToTxn)
        await p.abort_transaction()
        assert p._txn.state is TransactionState.READY
        async with p.transaction():
            await p.send(name, b"next")
    assert values(await read_all(proxied_bootstrap, name, want=1)) == [b"next"]


async def _end_txn_of_an_empty_transaction(bootstrap: str, commit: bool, version: int) -> tuple[int, int, int]:
    """(EndTxn's error, the epoch InitProducerId gave, the epoch EndTxn answered) for a transaction
    to which nothing was added, in raw requests at EndTxn ``version``."""
    cluster = Cluster(ProducerConfig.from_kwargs(bootstrap_servers=bootstrap))
    await cluster.bootstrap()
    try:
        tid = unique("tid")
        node = await cluster.find_coordinator(tid, 1, timeout_ms=30000)
        for _ in range(100):
            init = await cluster.request(node, ApiKey.INIT_PRODUCER_ID,
                                         {"transactional_id": tid, "transaction_timeout_ms": 60000})
            if init["error_code"] != ErrorCode.COORDINATOR_LOAD_IN_PROGRESS:
                break
            await asyncio.sleep(0.1)
        assert init["error_code"] == 0, init
        resp = await cluster.request(node, ApiKey.END_TXN, {
            "transactional_id": tid, "producer_id": init["producer_id"], "producer_epoch": init["producer_epoch"],
            "committed": commit}, version=version)
        return resp["error_code"], init["producer_epoch"], resp.get("producer_epoch", -1)
    finally:
        await cluster.close()


@pytest.mark.parametrize("commit", [True, False], ids=["commit", "abort"])
async def test_end_txn_of_an_empty_transaction_fails_but_a_v2_abort(
        bootstrap_servers, txn_version: int, broker_capabilities, commit: bool) -> None:
    # the classic protocol refuses to end a transaction that never started, and so does v2 to
    # commit one; v2 aborts it (bumping the epoch): the producer cannot know whether a Produce
    # that failed had reached the broker and started the transaction
    v2 = txn_version == 2 and broker_capabilities.has(TRANSACTION_V2)
    code, epoch, answered = await _end_txn_of_an_empty_transaction(
        bootstrap_servers, commit, END_TXN_V2 if v2 else END_TXN_V1)
    if v2 and not commit:
        assert (code, answered) == (ErrorCode.NONE, epoch + 1)
    else:
        assert code == ErrorCode.INVALID_TXN_STATE


@pytest.mark.parametrize("commit", [True, False], ids=["commit", "abort"])
async def test_an_end_txn_whose_answer_was_lost_is_retried_and_ends_once(
        proxied_bootstrap: str, fault_proxy: FaultProxy, commit: bool) -> None:
    # the coordinator answers the retry as the first: classic EndTxn with the same epoch, v2's
    # with the epoch before the bump it caused (the fake answers the same: test_transactions_fake.py)
    name = unique("txn-lost-end")
    async with Admin(proxied_bootstrap) as admin:
        await admin.create_topics([NewTopic(name, 1, 1)], wait_for_leaders=True)
    async with _producer(proxied_bootstrap, request_timeout_ms=1500, retry_backoff_ms=50, max_block_ms=30_000) as p:
        p.begin_transaction()
        await (await p.send(name, b"first"))
        dropped = fault_proxy.responses_dropped[ApiKey.END_TXN]
        fault_proxy.drop_responses(1, api_key=ApiKey.END_TXN)
        await (p.commit_transaction() if commit else p.abort_transaction())
        assert fault_proxy.responses_dropped[ApiKey.END_TXN] == dropped + 1
        async with p.transaction():
            await p.send(name, b"next")
    want = [b"first", b"next"] if commit else [b"next"]
    assert values(await read_all(proxied_bootstrap, name, want=len(want))) == want
