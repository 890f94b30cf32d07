"""Transactions through the fault-injection fault_proxy: lost coordinator responses and cut connections
are retried (with the coordinator looked up again) and the transaction still commits exactly once."""
from __future__ import annotations

import asyncio

import pytest

import kafkaio
from kafkaio.admin import Admin, NewTopic
from kafkaio.errors import KafkaTimeoutError, UnknownProducerIdError
from kafkaio.protocol import ApiKey
from kafkaio.protocol.api import decode_response, encode_response
from kafkaio.structs import TopicPartition
from kafkaio.testing.proxy import FaultProxy
from kafkaio.testing.tasks import client_tasks

from txn_helpers import read_all, unique, values

pytestmark = [pytest.mark.integration]


async def _topic(proxied_bootstrap: str) -> str:
    name = unique("txn-fault")
    async with Admin(proxied_bootstrap) as admin:
        await admin.create_topics([NewTopic(name, 1, 1)], wait_for_leaders=True)
    return name


def _producer(proxied_bootstrap: str) -> kafkaio.Producer:
    return kafkaio.Producer(proxied_bootstrap, transactional_id=unique("tid"), linger_ms=0, request_timeout_ms=1500,
                            retry_backoff_ms=50, max_block_ms=30_000)


@pytest.mark.parametrize("api", [ApiKey.ADD_PARTITIONS_TO_TXN, ApiKey.ADD_OFFSETS_TO_TXN,
                                 ApiKey.TXN_OFFSET_COMMIT, ApiKey.END_TXN])
async def test_a_lost_coordinator_response_is_retried_and_commits_once(proxied_bootstrap: str, fault_proxy: FaultProxy,
                                                                      api: ApiKey) -> None:
    topic, src = await _topic(proxied_bootstrap), await _topic(proxied_bootstrap)
    group = unique("group")
    async with _producer(proxied_bootstrap) as p:
        dropped = fault_proxy.responses_dropped[api]
        fault_proxy.drop_responses(1, api_key=api)
        async with p.transaction():
            for i in range(10):
                await p.send(topic, b"%d" % i)
            await p.send_offsets_to_transaction({TopicPartition(src, 0): 42}, group)
        if p._txn.protocol_v2 and api in (ApiKey.ADD_PARTITIONS_TO_TXN, ApiKey.ADD_OFFSETS_TO_TXN):
            # transaction v2: Produce and TxnOffsetCommit add to the transaction; no such request
            assert fault_proxy.responses_dropped[api] == dropped
        else:
            assert fault_proxy.responses_dropped[api] == dropped + 1
        async with p.transaction():  # and the producer goes on normally
            await p.send(topic, b"next")
    assert values(await read_all(proxied_bootstrap, topic)) == [b"%d" % i for i in range(10)] + [b"next"]
    async with Admin(proxied_bootstrap) as admin:
        offsets = await admin.list_consumer_group_offsets(group, require_stable=True)
    assert offsets[TopicPartition(src, 0)].offset == 42


async def test_a_lost_init_producer_id_response_is_retried(proxied_bootstrap: str, fault_proxy: FaultProxy) -> None:
    topic = await _topic(proxied_bootstrap)
    dropped = fault_proxy.responses_dropped[ApiKey.INIT_PRODUCER_ID]
    fault_proxy.drop_responses(1, api_key=ApiKey.INIT_PRODUCER_ID)
    async with _producer(proxied_bootstrap) as p:
        assert fault_proxy.responses_dropped[ApiKey.INIT_PRODUCER_ID] == dropped + 1
        async with p.transaction():
            await p.send(topic, b"after retry")
    assert values(await read_all(proxied_bootstrap, topic)) == [b"after retry"]


async def test_cut_connections_mid_transaction_commit_once(proxied_bootstrap: str, fault_proxy: FaultProxy) -> None:
    topic = await _topic(proxied_bootstrap)
    async with _producer(proxied_bootstrap) as p:
        async with p.transaction():
            for i in range(5):
                await (await p.send(topic, b"a%d" % i))
            fault_proxy.cut()  # every connection (coordinator and produce) is dropped
            for i in range(5):
                await p.send(topic, b"b%d" % i)
    want = [b"a%d" % i for i in range(5)] + [b"b%d" % i for i in range(5)]
    assert values(await read_all(proxied_bootstrap, topic)) == want


async def test_a_batch_expiring_in_a_transaction_aborts_it_and_bumps_the_epoch(proxied_bootstrap: str,
                                                                              fault_proxy: FaultProxy) -> None:
    topic = await _topic(proxied_bootstrap)
    async with kafkaio.Producer(proxied_bootstrap, transactional_id=unique("tid"), linger_ms=0, request_timeout_ms=1000,
                                delivery_timeout_ms=2500, retry_backoff_ms=50) as p:
        epoch = p._txn._idem.producer_epoch
        p.begin_transaction()
        fault_proxy.drop_responses(None, api_key=ApiKey.PRODUCE)  # written by the broker, never acknowledged
        fut = await p.send(topic, b"lost ack")
        with pytest.raises(KafkaTimeoutError):
            await fut
        fault_proxy.reset()
        with pytest.raises(KafkaTimeoutError):  # commit refuses, naming the cause
            await p.commit_transaction()
        await p.abort_transaction()
        # the failed batch had a sequence number: the abort continues with the next epoch (KIP-360)
        assert p._txn._idem.producer_epoch == epoch + 1
        async with p.transaction():
            await p.send(topic, b"next")
    assert values(await read_all(proxied_bootstrap, topic)) == [b"next"]
    assert values(await read_all(proxied_bootstrap, topic, committed=False, want=2)) == [b"lost ack", b"next"]


async def test_close_zero_ends_a_stuck_add_partitions(proxied_bootstrap: str, fault_proxy: FaultProxy) -> None:
    topic = await _topic(proxied_bootstrap)
    before = set(client_tasks())  # other tests' clients in this loop are not this one's
    p = _producer(proxied_bootstrap)
    await p.start()
    p.begin_transaction()
    # classic protocol: the partition waits for AddPartitionsToTxn, which never gets through
    # (transaction v2 adds partitions with the Produce request: nothing waits there)
    fault_proxy.drop_requests(None, api_key=ApiKey.ADD_PARTITIONS_TO_TXN)
    fut = await p.send(topic, b"never")
    await asyncio.sleep(0.5)
    await asyncio.wait_for(p.close(0), 10)
    await asyncio.sleep(0)
    assert set(client_tasks()) - before == set()
    assert fut.done()


def _unknown_producer_id(info, payload: bytes) -> bytes:
    """The broker's produce response with its first partition's error turned into
    UNKNOWN_PRODUCER_ID (which Kafka 4.x brokers no longer send: KIP-360)."""
    body = decode_response(ApiKey.PRODUCE, info.api_version, payload)
    part = body["responses"][0]["partition_responses"][0]
    part["error_code"] = UnknownProducerIdError.errno
    part["base_offset"] = -1
    return bytes(encode_response(ApiKey.PRODUCE, info.api_version, info.correlation_id, body))[4:]


async def test_unknown_producer_id_in_a_transaction_is_abortable_at_once(proxied_bootstrap: str,
                                                                       fault_proxy: FaultProxy) -> None:
    topic = await _topic(proxied_bootstrap)
    async with kafkaio.Producer(proxied_bootstrap, transactional_id=unique("tid"), linger_ms=0,
                                request_timeout_ms=1500, delivery_timeout_ms=120_000, retry_backoff_ms=50) as p:
        epoch = p._txn._idem.producer_epoch
        rewritten = fault_proxy.responses_rewritten[ApiKey.PRODUCE]
        p.begin_transaction()
        fault_proxy.rewrite_responses(_unknown_producer_id, 1, api_key=ApiKey.PRODUCE)
        fut = await p.send(topic, b"refused")
        # the batch fails at once (not after delivery_timeout_ms, with every partition held back)
        with pytest.raises(UnknownProducerIdError):
            await asyncio.wait_for(fut, 20)
        assert fault_proxy.responses_rewritten[ApiKey.PRODUCE] == rewritten + 1
        with pytest.raises(UnknownProducerIdError):
            await p.commit_transaction()
        await p.abort_transaction()
        assert p._txn._idem.producer_epoch > epoch  # the abort started a new epoch
        async with p.transaction():
            await p.send(topic, b"next")
    assert values(await read_all(proxied_bootstrap, topic)) == [b"next"]
