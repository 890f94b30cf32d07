"""send_offsets_to_transaction against the fake: which TxnOffsetCommit version names the topics
(v6 by id under transaction v2 when the producer knows every id, else v5 by name; v4 under classic
transactions) and what the producer does with the errors v6 adds (KIP-1319), as Java 4.4 does."""
from __future__ import annotations

from collections.abc import AsyncIterator
import contextlib
from typing import Any

import pytest

from kafkaio.consumer.coordinator import ConsumerGroupMetadata
from kafkaio.errors import CommitFailedError, ErrorCode, KafkaTimeoutError
from kafkaio.producer.producer import Producer
from kafkaio.producer.transactions import TransactionState
from kafkaio.protocol import ApiKey
from kafkaio.structs import TopicPartition
from kafkaio.testing.fake import FakeCluster
from kafkaio.testing.fake.control import RequestInfo

TV2 = {"transaction.version": 2}
TP0 = TopicPartition("t", 0)


@contextlib.asynccontextmanager
async def _producer(features: dict[str, int] | None = TV2, **config: Any) -> AsyncIterator[tuple[FakeCluster, Producer]]:
    async with FakeCluster(brokers=2, topics={"t": 1, "out": 1}, features=features) as fake:
        async with Producer(bootstrap_servers=fake.bootstrap_servers, transactional_id="tx", linger_ms=0,
                            **config) as p:
            yield fake, p


def _versions(fake: FakeCluster) -> list[int]:
    return [r.version for r in fake.requests if r.api_key == ApiKey.TXN_OFFSET_COMMIT]


async def test_offsets_go_by_topic_id_when_the_producer_knows_the_topic() -> None:
    async with _producer() as (fake, p):
        async with p.transaction():
            await p.send_and_wait("t", b"the producer learns t's id", partition=0)
            await p.send_offsets_to_transaction({TP0: 7}, ConsumerGroupMetadata("g"))
        assert _versions(fake) == [6]
        assert fake.state.committed["g"][("t", 0)][0] == 7
        assert fake.state.committed_ids["g"][("t", 0)] == fake.state.topics["t"].topic_id


async def test_offsets_of_a_topic_the_producer_never_saw_go_by_name() -> None:
    async with _producer() as (fake, p):
        async with p.transaction():
            await p.send_and_wait("out", b"x", partition=0)
            # the input topic is not in the producer's metadata: no lookup, v5 by name (as Java)
            await p.send_offsets_to_transaction({TP0: 4, TopicPartition("out", 0): 1}, ConsumerGroupMetadata("g"))
        assert _versions(fake) == [5]
        assert fake.state.committed["g"][("t", 0)][0] == 4


async def test_classic_transactions_stay_at_version_4() -> None:
    async with _producer(features=None) as (fake, p):
        async with p.transaction():
            await p.send_and_wait("t", b"x", partition=0)
            await p.send_offsets_to_transaction({TP0: 2}, ConsumerGroupMetadata("g"))
        assert _versions(fake) == [4]
        assert fake.state.committed["g"][("t", 0)][0] == 2


async def _abortable_then_usable(fake: FakeCluster, p: Producer, meta: ConsumerGroupMetadata) -> None:
    """send_offsets raises CommitFailedError, the transaction can only be aborted, then works again."""
    p.begin_transaction()
    await p.send_and_wait("t", b"x", partition=0)
    with pytest.raises(CommitFailedError):
        await p.send_offsets_to_transaction({TP0: 9}, meta)
    assert p._transactions().state is TransactionState.ABORTABLE_ERROR
    await p.abort_transaction()
    async with p.transaction():
        await p.send_offsets_to_transaction({TP0: 3}, ConsumerGroupMetadata("g"))
    assert fake.state.committed["g"][("t", 0)][0] == 3


async def test_group_id_not_found_is_a_failed_commit_and_the_transaction_abortable() -> None:
    # the group metadata names a generation of a group the coordinator does not have: v6 answers
    # GROUP_ID_NOT_FOUND where older versions answer ILLEGAL_GENERATION; Java makes both a
    # CommitFailedException that aborts the transaction
    async with _producer() as (fake, p):
        await _abortable_then_usable(fake, p, ConsumerGroupMetadata("gone", 3, "member-1"))
        assert _versions(fake)[0] == 6


def _every_partition(body: dict[str, Any], code: int) -> dict[str, Any]:
    """A v6 TxnOffsetCommit answer with ``code`` for every partition of the request ``body``."""
    return {"throttle_time_ms": 0, "topics": [
        {"topic_id": t["topic_id"], "partitions": [
            {"partition_index": q["partition_index"], "error_code": code} for q in t["partitions"]]}
        for t in body["topics"]]}


async def test_stale_member_epoch_is_a_failed_commit_and_the_transaction_abortable() -> None:
    def stale(info: RequestInfo, body: dict[str, Any]) -> dict[str, Any] | None:
        return _every_partition(body, ErrorCode.STALE_MEMBER_EPOCH) if body["member_id"] == "member-1" else None

    async with _producer() as (fake, p):
        fake.control(ApiKey.TXN_OFFSET_COMMIT, stale, persistent=True)
        await _abortable_then_usable(fake, p, ConsumerGroupMetadata("g", 5, "member-1"))
        assert _versions(fake)[0] == 6


async def test_unknown_topic_id_is_retried_with_the_same_id() -> None:
    sent: list[Any] = []

    def unknown_once(info: RequestInfo, body: dict[str, Any]) -> dict[str, Any] | None:
        sent.append([t["topic_id"] for t in body["topics"]])
        return _every_partition(body, ErrorCode.UNKNOWN_TOPIC_ID) if len(sent) == 1 else None

    async with _producer() as (fake, p):
        fake.control(ApiKey.TXN_OFFSET_COMMIT, unknown_once, persistent=True)
        async with p.transaction():
            await p.send_and_wait("t", b"x", partition=0)
            await p.send_offsets_to_transaction({TP0: 6}, ConsumerGroupMetadata("g"))
        tid = fake.state.topics["t"].topic_id
        assert sent == [[tid], [tid]]
        assert _versions(fake) == [6, 6]
        assert fake.state.committed["g"][("t", 0)][0] == 6


async def test_offsets_of_a_deleted_topic_are_never_committed_to_its_successor() -> None:
    # the topic is deleted and created again (a new id) after the producer learnt its id: the
    # commit keeps naming the old id, which the broker does not know, until max_block_ms
    async with _producer(max_block_ms=1500) as (fake, p):
        p.begin_transaction()
        await p.send_and_wait("t", b"x", partition=0)
        old = fake.state.topics["t"].topic_id
        del fake.state.topics["t"]
        fake.create_topic("t", 1)
        assert fake.state.topics["t"].topic_id != old
        with pytest.raises(KafkaTimeoutError):
            await p.send_offsets_to_transaction({TP0: 8}, ConsumerGroupMetadata("g"))
        assert ("t", 0) not in fake.state.committed.get("g", {})
        await p.abort_transaction()
