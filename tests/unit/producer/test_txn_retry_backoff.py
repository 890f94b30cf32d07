"""Every retry of a transactional coordinator request waits ``retry_backoff_ms``, flat, as the Java
client (4.4) waits: a retried ``TxnRequestHandler`` is sent after ``time.sleep(retryBackoffMs())``
(Sender.maybeSendAndPollTransactionalRequest), the TransactionManager's ``retry.backoff.ms``; no
growth to ``retry_backoff_max_ms``, no jitter. A coordinator that moved (NOT_COORDINATOR) is looked
up again and the request waits the same before it is sent again.

The fake's coordinator answers a retriable code a few times; a controlled clock stands in for the
waits of the transaction manager and of the coordinator lookup (each wait is noted and returns at
once), and each request notes how many waits came before it."""
from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
import contextlib
from types import ModuleType
from typing import Any

import pytest

from kafkaio import retry as retry_module
from kafkaio.consumer.coordinator import ConsumerGroupMetadata
from kafkaio.errors import ErrorCode as E
from kafkaio.producer import transactions as transactions_module
from kafkaio.producer.producer import Producer
from kafkaio.producer.transactions import TransactionManager
from kafkaio.protocol import ApiKey
from kafkaio.structs import TopicPartition
from kafkaio.testing.fake import FakeCluster
from kafkaio.testing.fake.control import RequestInfo

BACKOFF_MS = 150
BACKOFF_MAX_MS = 5000  # far above BACKOFF_MS: a growing backoff would show
ERRORS = 3  # answers with the code before the coordinator succeeds
TXN_KEY = 1
TP0 = TopicPartition("t", 0)


class _Clock:
    """The ``asyncio`` the transaction manager and the retry helper see: ``sleep`` notes the wait
    and returns at once; everything else is asyncio's."""

    def __init__(self) -> None:
        self.waits_ms: list[float] = []

    async def sleep(self, delay: float) -> None:
        self.waits_ms.append(delay * 1000.0)
        await asyncio.sleep(0)

    def __getattr__(self, name: str) -> Any:
        return getattr(asyncio, name)


class _Failing:
    """A control answering the first ``ERRORS`` requests of ``api`` with ``code``, the others as the
    fake does; it notes how many waits the clock had seen when each request arrived."""

    def __init__(self, api: ApiKey, code: int, clock: _Clock) -> None:
        self.api, self.code, self.clock = api, code, clock
        self.arrivals: list[int] = []

    def __call__(self, info: RequestInfo, body: dict[str, Any]) -> dict[str, Any] | None:
        if self.api == ApiKey.FIND_COORDINATOR and body["key_type"] != TXN_KEY:
            return None
        self.arrivals.append(len(self.clock.waits_ms))
        if len(self.arrivals) > ERRORS:
            return None
        code = self.code
        if self.api == ApiKey.ADD_PARTITIONS_TO_TXN:
            return {"results_by_topic_v3_and_below": [
                {"name": t["name"], "results_by_partition": [
                    {"partition_index": q, "partition_error_code": code} for q in t["partitions"]]}
                for t in body["v3_and_below_topics"]]}
        if self.api == ApiKey.TXN_OFFSET_COMMIT:
            return {"topics": [
                {"name": t["name"], "topic_id": t["topic_id"], "partitions": [
                    {"partition_index": q["partition_index"], "error_code": code} for q in t["partitions"]]}
                for t in body["topics"]]}
        if self.api == ApiKey.FIND_COORDINATOR:
            return {"coordinators": [{"key": k, "node_id": -1, "host": "", "port": -1, "error_code": code}
                                     for k in body["coordinator_keys"]]}
        return {"error_code": code}

    def waits_between_requests_ms(self) -> list[list[float]]:
        """The waits before each retry: those noted between one request and the next."""
        assert len(self.arrivals) == ERRORS + 1, self.arrivals
        at = self.arrivals
        return [self.clock.waits_ms[at[i]:at[i + 1]] for i in range(ERRORS)]


@contextlib.asynccontextmanager
async def _producer(monkeypatch: pytest.MonkeyPatch, failing: _Failing,
                    install_first: bool) -> AsyncIterator[tuple[FakeCluster, Producer]]:
    monkeypatch.setattr(TransactionManager, "max_transaction_version", 1)  # AddPartitions/AddOffsets
    module: ModuleType
    for module in (transactions_module, retry_module):
        monkeypatch.setattr(module, "asyncio", failing.clock)
    async with FakeCluster(brokers=1, topics={"t": 2}) as fake:
        if install_first:
            fake.control(failing.api, failing, persistent=True)
        async with Producer(bootstrap_servers=fake.bootstrap_servers, transactional_id="tx", linger_ms=0,
                            retry_backoff_ms=BACKOFF_MS, retry_backoff_max_ms=BACKOFF_MAX_MS,
                            max_block_ms=60000) as p:
            yield fake, p


Drive = Callable[[FakeCluster, Producer, _Failing], Awaitable[None]]


async def _during_start(fake: FakeCluster, p: Producer, failing: _Failing) -> None:
    """The control was installed before start(): FindCoordinator and InitProducerId of start()."""
    async with p.transaction():
        await p.send_and_wait("t", b"a", partition=0)


async def _add_partitions(fake: FakeCluster, p: Producer, failing: _Failing) -> None:
    async with p.transaction():
        await p.send_and_wait("t", b"a", partition=0)
        fake.control(failing.api, failing, persistent=True)
        await p.send_and_wait("t", b"b", partition=1)


def _ending(committed: bool) -> Drive:
    async def drive(fake: FakeCluster, p: Producer, failing: _Failing) -> None:
        p.begin_transaction()
        await p.send_and_wait("t", b"a", partition=0)
        fake.control(failing.api, failing, persistent=True)
        if committed:
            await p.commit_transaction()
        else:
            await p.abort_transaction()
    drive.__name__ = "commit" if committed else "abort"
    return drive


async def _send_offsets(fake: FakeCluster, p: Producer, failing: _Failing) -> None:
    p.begin_transaction()
    await p.send_and_wait("t", b"a", partition=0)
    fake.control(failing.api, failing, persistent=True)
    await p.send_offsets_to_transaction({TP0: 1}, ConsumerGroupMetadata("g"))
    await p.commit_transaction()


# (request, code, how it is reached, the control installed before start())
CASES: list[tuple[ApiKey, int, Drive, bool]] = [
    (ApiKey.FIND_COORDINATOR, E.COORDINATOR_NOT_AVAILABLE, _during_start, True),
    (ApiKey.INIT_PRODUCER_ID, E.COORDINATOR_LOAD_IN_PROGRESS, _during_start, True),
    (ApiKey.INIT_PRODUCER_ID, E.NOT_COORDINATOR, _during_start, True),
    (ApiKey.ADD_PARTITIONS_TO_TXN, E.COORDINATOR_LOAD_IN_PROGRESS, _add_partitions, False),
    (ApiKey.ADD_PARTITIONS_TO_TXN, E.NOT_COORDINATOR, _add_partitions, False),
    (ApiKey.ADD_OFFSETS_TO_TXN, E.CONCURRENT_TRANSACTIONS, _send_offsets, False),
    (ApiKey.ADD_OFFSETS_TO_TXN, E.NOT_COORDINATOR, _send_offsets, False),
    (ApiKey.TXN_OFFSET_COMMIT, E.COORDINATOR_LOAD_IN_PROGRESS, _send_offsets, False),
    (ApiKey.TXN_OFFSET_COMMIT, E.NOT_COORDINATOR, _send_offsets, False),
    (ApiKey.END_TXN, E.CONCURRENT_TRANSACTIONS, _ending(True), False),
    (ApiKey.END_TXN, E.NOT_COORDINATOR, _ending(True), False),
    (ApiKey.END_TXN, E.COORDINATOR_LOAD_IN_PROGRESS, _ending(False), False),
    (ApiKey.END_TXN, E.NOT_COORDINATOR, _ending(False), False),
]


@pytest.mark.parametrize(("api", "code", "drive", "install_first"), CASES,
                         ids=[f"{a.name}-{E(c).name}-{d.__name__.strip('_')}" for a, c, d, _ in CASES])
async def test_each_retry_waits_retry_backoff_ms_flat_as_java(
        monkeypatch: pytest.MonkeyPatch, api: ApiKey, code: int, drive: Drive, install_first: bool) -> None:
    failing = _Failing(api, code, _Clock())
    async with _producer(monkeypatch, failing, install_first) as (fake, p):
        await drive(fake, p, failing)
    assert failing.waits_between_requests_ms() == [[BACKOFF_MS]] * ERRORS
