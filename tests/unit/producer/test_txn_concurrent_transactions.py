"""CONCURRENT_TRANSACTIONS (the coordinator is still writing the previous transaction's markers),
retried as the Java client (4.4) retries it: only its AddPartitionsToTxnHandler names the code, and
waits 20 ms instead of retry.backoff.ms while no partition is in the transaction yet (the first add of
a transaction); InitProducerId, AddOffsetsToTxn and EndTxn retry it as any retriable code, after
retry.backoff.ms. Timed against the fake's coordinator answering the code once."""
from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
import contextlib
from typing import Any

import pytest

from kafkaio.consumer.coordinator import ConsumerGroupMetadata
from kafkaio.errors import ErrorCode as E
from kafkaio.producer.producer import Producer
from kafkaio.producer.transactions import TransactionManager
from kafkaio.producer.txn_errors import Outcome, TxnRequest, outcome
from kafkaio.protocol import ApiKey
from kafkaio.structs import TopicPartition
from kafkaio.testing.fake import FakeCluster
from kafkaio.testing.fake.control import RequestInfo

BACKOFF_MS = 600  # retry_backoff_ms (and its cap): jittered by a fifth at most
SOON_MS = 300.0  # well above 20 ms, well below BACKOFF_MS


@pytest.mark.parametrize("request_", [TxnRequest.INIT_PRODUCER_ID, TxnRequest.ADD_OFFSETS,
                                      TxnRequest.END_TXN_COMMIT, TxnRequest.END_TXN_ABORT],
                         ids=lambda r: r.name)
def test_concurrent_transactions_is_retried_after_retry_backoff_as_java(request_: TxnRequest) -> None:
    assert outcome(request_, E.CONCURRENT_TRANSACTIONS) is Outcome.RETRY


def test_add_partitions_names_concurrent_transactions() -> None:
    assert outcome(TxnRequest.ADD_PARTITIONS, E.CONCURRENT_TRANSACTIONS) is Outcome.RETRY_SOON_FIRST_ADD


class _BusyOnce:
    """A control answering the first request of ``api`` CONCURRENT_TRANSACTIONS, the others as the
    fake does; it notes when each request arrived."""

    def __init__(self, api: ApiKey) -> None:
        self.api = api
        self.arrivals: list[float] = []

    def __call__(self, info: RequestInfo, body: dict[str, Any]) -> dict[str, Any] | None:
        self.arrivals.append(asyncio.get_running_loop().time())
        if len(self.arrivals) > 1:
            return None
        if self.api == ApiKey.ADD_PARTITIONS_TO_TXN:
            return {"results_by_topic_v3_and_below": [
                {"name": t["name"], "results_by_partition": [
                    {"partition_index": q, "partition_error_code": E.CONCURRENT_TRANSACTIONS}
                    for q in t["partitions"]]}
                for t in body["v3_and_below_topics"]]}
        return {"error_code": E.CONCURRENT_TRANSACTIONS}

    def retried_after_ms(self) -> float:
        assert len(self.arrivals) == 2, self.arrivals
        return (self.arrivals[1] - self.arrivals[0]) * 1000.0


@contextlib.asynccontextmanager
async def _producer(monkeypatch: pytest.MonkeyPatch,
                    busy: _BusyOnce | None = None) -> AsyncIterator[tuple[FakeCluster, Producer]]:
    monkeypatch.setattr(TransactionManager, "max_transaction_version", 1)  # AddPartitionsToTxn
    async with FakeCluster(brokers=1, topics={"t": 2}) as fake:
        if busy is not None:
            fake.control(busy.api, busy, persistent=True)
        async with Producer(bootstrap_servers=fake.bootstrap_servers, transactional_id="tx", linger_ms=0,
                            retry_backoff_ms=BACKOFF_MS, retry_backoff_max_ms=BACKOFF_MS) as p:
            yield fake, p


def _busy(fake: FakeCluster, api: ApiKey) -> _BusyOnce:
    busy = _BusyOnce(api)
    fake.control(api, busy, persistent=True)
    return busy


async def test_the_first_add_of_a_transaction_is_retried_after_20_ms(monkeypatch: pytest.MonkeyPatch) -> None:
    async with _producer(monkeypatch) as (fake, p):
        async with p.transaction():
            await p.send_and_wait("t", b"a", partition=0)
        busy = _busy(fake, ApiKey.ADD_PARTITIONS_TO_TXN)
        async with p.transaction():
            await p.send_and_wait("t", b"b", partition=0)
        assert busy.retried_after_ms() < SOON_MS


async def test_a_later_add_is_retried_after_retry_backoff_ms(monkeypatch: pytest.MonkeyPatch) -> None:
    async with _producer(monkeypatch) as (fake, p):
        async with p.transaction():
            await p.send_and_wait("t", b"a", partition=0)
            busy = _busy(fake, ApiKey.ADD_PARTITIONS_TO_TXN)
            await p.send_and_wait("t", b"b", partition=1)
        assert busy.retried_after_ms() >= BACKOFF_MS * 0.8


async def _commit(p: Producer) -> None:
    await p.commit_transaction()


async def _abort(p: Producer) -> None:
    await p.abort_transaction()


async def _send_offsets(p: Producer) -> None:
    await p.send_offsets_to_transaction({TopicPartition("t", 0): 1}, ConsumerGroupMetadata("g"))
    await p.commit_transaction()


@pytest.mark.parametrize(("api", "finish"), [
    (ApiKey.END_TXN, _commit),
    (ApiKey.END_TXN, _abort),
    (ApiKey.ADD_OFFSETS_TO_TXN, _send_offsets),
], ids=["EndTxn(commit)", "EndTxn(abort)", "AddOffsetsToTxn"])
async def test_other_requests_are_retried_after_retry_backoff_ms(
        monkeypatch: pytest.MonkeyPatch, api: ApiKey, finish: Callable[[Producer], Awaitable[None]]) -> None:
    async with _producer(monkeypatch) as (fake, p):
        p.begin_transaction()
        await p.send_and_wait("t", b"a", partition=0)
        busy = _busy(fake, api)
        await finish(p)
        assert busy.retried_after_ms() >= BACKOFF_MS * 0.8


async def test_init_producer_id_is_retried_after_retry_backoff_ms(monkeypatch: pytest.MonkeyPatch) -> None:
    busy = _BusyOnce(ApiKey.INIT_PRODUCER_ID)
    async with _producer(monkeypatch, busy) as (_, p):
        async with p.transaction():
            await p.send_and_wait("t", b"a", partition=0)
    assert busy.retried_after_ms() >= BACKOFF_MS * 0.8
