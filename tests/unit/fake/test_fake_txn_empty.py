"""The fake's transaction coordinator answers EndTxn for a transaction to which nothing was added as
a real broker (Kafka 4.4) does, seen in tests/integration/transactions/test_txn_empty.py:
INVALID_TXN_STATE for the classic protocol's commit and abort and for a transaction-v2 commit; a
transaction-v2 abort succeeds and bumps the epoch (the producer may not know whether its Produce
reached the broker, so it aborts a transaction the coordinator never saw start)."""
from __future__ import annotations

from typing import Any

import pytest

from kafkaio.cluster import Cluster
from kafkaio.config import ProducerConfig
from kafkaio.errors import ErrorCode, KafkaTimeoutError
from kafkaio.producer.producer import Producer
from kafkaio.producer.transactions import TransactionManager, TransactionState
from kafkaio.protocol import ApiKey
from kafkaio.testing.fake import DROP, FakeCluster, RequestInfo

END_TXN_V1 = 4
END_TXN_V2 = 5
TXN_KEY = 1


def _features(v2: bool) -> dict[str, int] | None:
    return {"transaction.version": 2} if v2 else None


@pytest.mark.parametrize(("v2", "commit", "code", "bumped"), [
    (False, True, ErrorCode.INVALID_TXN_STATE, None),
    (False, False, ErrorCode.INVALID_TXN_STATE, None),
    (True, True, ErrorCode.INVALID_TXN_STATE, None),
    (True, False, ErrorCode.NONE, 1),
], ids=["v1-commit", "v1-abort", "v2-commit", "v2-abort"])
async def test_end_txn_of_an_empty_transaction_is_answered_as_the_broker_does(
        v2: bool, commit: bool, code: int, bumped: int | None) -> None:
    async with FakeCluster(features=_features(v2)) as fake:
        cluster = Cluster(ProducerConfig.from_kwargs(bootstrap_servers=fake.bootstrap_servers))
        await cluster.bootstrap()
        try:
            node = await cluster.find_coordinator("tx", TXN_KEY)
            init = await cluster.request(node, ApiKey.INIT_PRODUCER_ID,
                                         {"transactional_id": "tx", "transaction_timeout_ms": 60000})
            assert init["error_code"] == 0
            resp = await cluster.request(node, ApiKey.END_TXN, {
                "transactional_id": "tx", "producer_id": init["producer_id"],
                "producer_epoch": init["producer_epoch"], "committed": commit},
                version=END_TXN_V2 if v2 else END_TXN_V1)
        finally:
            await cluster.close()
    assert resp["error_code"] == code
    if bumped is not None:
        assert (resp["producer_id"], resp["producer_epoch"]) == (init["producer_id"], init["producer_epoch"] + bumped)


def _drop(info: RequestInfo, body: dict[str, Any]) -> object:
    return DROP


@pytest.mark.parametrize("v2", [False, True], ids=["v1", "v2"])
async def test_an_abort_after_every_produce_was_lost_ends_the_transaction(
        monkeypatch: pytest.MonkeyPatch, v2: bool) -> None:
    if not v2:
        monkeypatch.setattr(TransactionManager, "max_transaction_version", 1)
    async with FakeCluster(topics={"t": 1}, features=_features(v2)) as fake:
        async with Producer(bootstrap_servers=fake.bootstrap_servers, transactional_id="tx", linger_ms=0,
                            request_timeout_ms=300, delivery_timeout_ms=800, retry_backoff_ms=20) as p:
            assert p._transactions().protocol_v2 is v2
            p.begin_transaction()
            lost = fake.control(ApiKey.PRODUCE, _drop, persistent=True)
            fut = await p.send("t", b"never written", partition=0)
            with pytest.raises(KafkaTimeoutError):
                await fut
            fake.remove_control(lost)
            with pytest.raises(KafkaTimeoutError):
                await p.commit_transaction()
            await p.abort_transaction()
            assert p._transactions().state is TransactionState.READY
            async with p.transaction():
                await p.send_and_wait("t", b"next", partition=0)
        assert [r.value for r in fake.records("t", 0)] == [b"next"]
