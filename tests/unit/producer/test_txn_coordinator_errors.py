"""Each coordinator request's error codes, handled as the Java client's TransactionManager (4.4)
handles them, against the fake's coordinator answering the code: the error raised, the state after
it, and what begin_transaction(), send() and abort_transaction() do then. A code a handler does not
name is fatal (the producer is unusable), except in AddPartitionsToTxn, where it is abortable."""
from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
import contextlib
from pathlib import Path
from typing import Any, NamedTuple

import pytest

from kafkaio.consumer.coordinator import ConsumerGroupMetadata
from kafkaio.errors import (
    ClusterAuthorizationError,
    CommitFailedError,
    ErrorCode,
    FencedInstanceIdError,
    GroupAuthorizationError,
    IllegalStateError,
    KafkaTimeoutError,
    InvalidPidMappingError,
    InvalidTxnStateError,
    InvalidTxnTimeoutError,
    KafkaError,
    ProducerFencedError,
    TopicAuthorizationError,
    TransactionAbortableError,
    TransactionAbortedError,
    TransactionalIdAuthorizationError,
    TransactionCoordinatorFencedError,
    UnknownProducerIdError,
    UnknownServerError,
    UnsupportedForMessageFormatError,
)
from kafkaio.producer.producer import Producer
from kafkaio.producer.transactions import TransactionManager, TransactionState
from kafkaio.producer.txn_errors import Outcome, TxnRequest, outcome
from kafkaio.protocol import ApiKey
from kafkaio.structs import TopicPartition
from kafkaio.testing.fake import FakeCluster
from kafkaio.testing.fake.control import RequestInfo

E = ErrorCode
S = TransactionState
TP0 = TopicPartition("t", 0)
GROUP_KEY = 0


def _answer(api: ApiKey, code: int) -> Callable[[RequestInfo, dict[str, Any]], dict[str, Any] | None]:
    """A control answering the next request of ``api`` with ``code`` (for every partition it names)."""
    def fn(info: RequestInfo, body: dict[str, Any]) -> dict[str, Any] | None:
        if api == ApiKey.ADD_PARTITIONS_TO_TXN:
            return {"results_by_topic_v3_and_below": [
                {"name": t["name"], "results_by_partition": [
                    {"partition_index": q, "partition_error_code": code} for q in t["partitions"]]}
                for t in body["v3_and_below_topics"]]}
        if api == ApiKey.TXN_OFFSET_COMMIT:
            return {"topics": [
                {"name": t["name"], "topic_id": t["topic_id"], "partitions": [
                    {"partition_index": q["partition_index"], "error_code": code} for q in t["partitions"]]}
                for t in body["topics"]]}
        if api == ApiKey.PRODUCE:
            return {"responses": [
                {"name": t.get("name"), "topic_id": t.get("topic_id"), "partition_responses": [
                    {"index": q["index"], "error_code": code, "base_offset": -1} for q in t["partition_data"]]}
                for t in body["topic_data"]]}
        if api == ApiKey.FIND_COORDINATOR:
            if body["key_type"] != GROUP_KEY:
                return None
            return {"coordinators": [{"key": k, "node_id": -1, "host": "", "port": -1, "error_code": code}
                                     for k in body["coordinator_keys"]]}
        return {"error_code": code}
    return fn


@contextlib.asynccontextmanager
async def _producer(monkeypatch: pytest.MonkeyPatch, v2: bool = False) -> AsyncIterator[tuple[FakeCluster, Producer]]:
    if not v2:
        monkeypatch.setattr(TransactionManager, "max_transaction_version", 1)
    features = {"transaction.version": 2} if v2 else None
    async with FakeCluster(brokers=2, topics={"t": 1}, features=features) as fake:
        async with Producer(bootstrap_servers=fake.bootstrap_servers, transactional_id="tx", linger_ms=0,
                            max_block_ms=3000) as p:
            yield fake, p


Drive = Callable[[FakeCluster, Producer, int], Awaitable[None]]


# -- how each request is reached: the control is installed, then the operation that fails runs

async def _commit(fake: FakeCluster, p: Producer, code: int) -> None:
    p.begin_transaction()
    await p.send_and_wait("t", b"x", partition=0)
    fake.control(ApiKey.END_TXN, _answer(ApiKey.END_TXN, code))
    await p.commit_transaction()


async def _abort(fake: FakeCluster, p: Producer, code: int) -> None:
    p.begin_transaction()
    await p.send_and_wait("t", b"x", partition=0)
    fake.control(ApiKey.END_TXN, _answer(ApiKey.END_TXN, code))
    await p.abort_transaction()


async def _add_partitions(fake: FakeCluster, p: Producer, code: int) -> None:
    fake.control(ApiKey.ADD_PARTITIONS_TO_TXN, _answer(ApiKey.ADD_PARTITIONS_TO_TXN, code))
    p.begin_transaction()
    await p.send("t", b"x", partition=0)
    await p.commit_transaction()


def _send_offsets(api: ApiKey, name: str) -> Drive:
    """send_offsets_to_transaction, the request ``api`` on its way answered with the code."""
    async def drive(fake: FakeCluster, p: Producer, code: int) -> None:
        p.begin_transaction()
        await p.send_and_wait("t", b"x", partition=0)
        fake.control(api, _answer(api, code))
        await p.send_offsets_to_transaction({TP0: 1}, ConsumerGroupMetadata("g"))
    drive.__name__ = name
    return drive


_add_offsets = _send_offsets(ApiKey.ADD_OFFSETS_TO_TXN, "add_offsets")
_txn_offset_commit = _send_offsets(ApiKey.TXN_OFFSET_COMMIT, "txn_offset_commit")
_find_group_coordinator = _send_offsets(ApiKey.FIND_COORDINATOR, "find_group_coordinator")


async def _epoch_bump(fake: FakeCluster, p: Producer, code: int) -> None:
    """The abort after UNKNOWN_PRODUCER_ID bumps the epoch (classic protocol): InitProducerId fails."""
    with pytest.raises(UnknownProducerIdError):
        await _commit(fake, p, E.UNKNOWN_PRODUCER_ID)
    fake.control(ApiKey.INIT_PRODUCER_ID, _answer(ApiKey.INIT_PRODUCER_ID, code))
    await p.abort_transaction()


class Case(NamedTuple):
    drive: Drive
    code: int
    raised: type[KafkaError]
    state: TransactionState


FATAL, ABORTABLE = S.FATAL_ERROR, S.ABORTABLE_ERROR
CASES = [
    # EndTxn: a code Java's EndTxnHandler does not name is fatal ("Unhandled error in EndTxnResponse")
    Case(_commit, E.UNKNOWN_SERVER_ERROR, UnknownServerError, FATAL),
    Case(_commit, E.TRANSACTION_COORDINATOR_FENCED, TransactionCoordinatorFencedError, FATAL),
    Case(_commit, E.INVALID_PRODUCER_ID_MAPPING, InvalidPidMappingError, FATAL),
    Case(_commit, E.TRANSACTION_ABORTABLE, TransactionAbortableError, ABORTABLE),
    Case(_commit, E.UNKNOWN_PRODUCER_ID, UnknownProducerIdError, ABORTABLE),
    Case(_abort, E.UNKNOWN_SERVER_ERROR, UnknownServerError, FATAL),
    Case(_abort, E.TRANSACTION_ABORTABLE, TransactionAbortableError, FATAL),  # an abort that cannot abort
    # AddPartitionsToTxn: an unnamed code is abortable (the only handler where it is)
    Case(_add_partitions, E.UNKNOWN_SERVER_ERROR, UnknownServerError, ABORTABLE),
    Case(_add_partitions, E.CLUSTER_AUTHORIZATION_FAILED, ClusterAuthorizationError, ABORTABLE),
    Case(_add_partitions, E.TRANSACTION_COORDINATOR_FENCED, TransactionCoordinatorFencedError, ABORTABLE),
    Case(_add_partitions, E.TOPIC_AUTHORIZATION_FAILED, TopicAuthorizationError, ABORTABLE),
    Case(_add_partitions, E.INVALID_PRODUCER_ID_MAPPING, InvalidPidMappingError, FATAL),
    Case(_add_partitions, E.TRANSACTIONAL_ID_AUTHORIZATION_FAILED, TransactionalIdAuthorizationError, FATAL),
    # AddOffsetsToTxn
    Case(_add_offsets, E.UNKNOWN_SERVER_ERROR, UnknownServerError, FATAL),
    Case(_add_offsets, E.INVALID_PRODUCER_ID_MAPPING, InvalidPidMappingError, FATAL),
    Case(_add_offsets, E.GROUP_AUTHORIZATION_FAILED, GroupAuthorizationError, ABORTABLE),
    Case(_add_offsets, E.TRANSACTION_ABORTABLE, TransactionAbortableError, ABORTABLE),
    # TxnOffsetCommit
    Case(_txn_offset_commit, E.UNKNOWN_SERVER_ERROR, UnknownServerError, FATAL),
    Case(_txn_offset_commit, E.TOPIC_AUTHORIZATION_FAILED, TopicAuthorizationError, FATAL),
    Case(_txn_offset_commit, E.UNSUPPORTED_FOR_MESSAGE_FORMAT, UnsupportedForMessageFormatError, FATAL),
    Case(_txn_offset_commit, E.FENCED_INSTANCE_ID, FencedInstanceIdError, ABORTABLE),
    Case(_txn_offset_commit, E.ILLEGAL_GENERATION, CommitFailedError, ABORTABLE),
    Case(_txn_offset_commit, E.GROUP_AUTHORIZATION_FAILED, GroupAuthorizationError, ABORTABLE),
    # FindCoordinator (the group's)
    Case(_find_group_coordinator, E.UNKNOWN_SERVER_ERROR, UnknownServerError, FATAL),
    Case(_find_group_coordinator, E.GROUP_AUTHORIZATION_FAILED, GroupAuthorizationError, ABORTABLE),
    # InitProducerId bumping the epoch in an abort: Java's auth errors are not fatal, the rest are
    Case(_epoch_bump, E.UNKNOWN_SERVER_ERROR, UnknownServerError, FATAL),
    Case(_epoch_bump, E.INVALID_TRANSACTION_TIMEOUT, InvalidTxnTimeoutError, FATAL),
    Case(_epoch_bump, E.TRANSACTIONAL_ID_AUTHORIZATION_FAILED, TransactionalIdAuthorizationError, ABORTABLE),
]


def _id(case: Case) -> str:
    return f"{case.drive.__name__.lstrip('_')}-{E(case.code).name}"


@pytest.mark.parametrize("case", CASES, ids=[_id(c) for c in CASES])
async def test_a_coordinator_error_is_fatal_or_abortable_as_in_java(
        case: Case, monkeypatch: pytest.MonkeyPatch) -> None:
    async with _producer(monkeypatch) as (fake, p):
        with pytest.raises(case.raised) as raised:
            await case.drive(fake, p, case.code)
        assert E(case.code).name in str(raised.value)   # the message names the code ...
        txn = p._transactions()
        assert txn.state is case.state, (txn.state, txn.last_error)
        if case.state is FATAL:
            # the producer is unusable: every transactional call raises the error again
            with pytest.raises(case.raised):
                p.begin_transaction()
            with pytest.raises(case.raised):
                await p.send("t", b"after", partition=0)
            with pytest.raises(case.raised):
                await p.abort_transaction()
        else:
            with pytest.raises(TransactionAbortedError):
                await p.send("t", b"after", partition=0)
            with pytest.raises(IllegalStateError):
                p.begin_transaction()
            await p.abort_transaction()
            async with p.transaction():
                await p.send_and_wait("t", b"next", partition=0)
            assert txn.state is S.READY


@pytest.mark.parametrize("code,raised", [
    (E.TRANSACTIONAL_ID_AUTHORIZATION_FAILED, TransactionalIdAuthorizationError),
    (E.CLUSTER_AUTHORIZATION_FAILED, ClusterAuthorizationError),
])
async def test_an_authorization_error_of_the_first_init_producer_id_leaves_the_manager_uninitialized(
        code: int, raised: type[KafkaError]) -> None:
    # Java's initTransactions() may be called again after these; start() raises it and closes the
    # producer (a new one may start), the manager is not poisoned
    async with FakeCluster(topics={"t": 1}) as fake:
        fake.control(ApiKey.INIT_PRODUCER_ID, _answer(ApiKey.INIT_PRODUCER_ID, code))
        p = Producer(bootstrap_servers=fake.bootstrap_servers, transactional_id="tx")
        with pytest.raises(raised, match="InitProducerId"):
            await p.start()
        assert p._txn is not None and p._txn.state is S.UNINITIALIZED
        async with Producer(bootstrap_servers=fake.bootstrap_servers, transactional_id="tx") as again:
            async with again.transaction():
                await again.send_and_wait("t", b"x", partition=0)


@pytest.mark.parametrize("code,raised", [
    (E.INVALID_TRANSACTION_TIMEOUT, InvalidTxnTimeoutError),
    (E.UNKNOWN_SERVER_ERROR, UnknownServerError),
    (E.INVALID_PRODUCER_EPOCH, ProducerFencedError),
])
async def test_an_unexpected_error_of_the_first_init_producer_id_is_fatal(code: int, raised: type[KafkaError]) -> None:
    async with FakeCluster(topics={"t": 1}) as fake:
        fake.control(ApiKey.INIT_PRODUCER_ID, _answer(ApiKey.INIT_PRODUCER_ID, code))
        p = Producer(bootstrap_servers=fake.bootstrap_servers, transactional_id="tx")
        with pytest.raises(raised):
            await p.start()
        assert p._txn is not None and p._txn.state is S.FATAL_ERROR


async def test_an_unexpected_txn_offset_commit_error_under_transaction_v2_is_fatal(
        monkeypatch: pytest.MonkeyPatch) -> None:
    async with _producer(monkeypatch, v2=True) as (fake, p):
        with pytest.raises(UnknownServerError, match="TxnOffsetCommit"):
            await _txn_offset_commit(fake, p, E.UNKNOWN_SERVER_ERROR)
        assert p._transactions().state is S.FATAL_ERROR


async def test_an_unnamed_retriable_code_is_retried(monkeypatch: pytest.MonkeyPatch) -> None:
    # NOT_ENOUGH_REPLICAS: no handler names it; Java retries every retriable code
    async with _producer(monkeypatch) as (fake, p):
        p.begin_transaction()
        await p.send_and_wait("t", b"x", partition=0)
        c = fake.control(ApiKey.END_TXN, _answer(ApiKey.END_TXN, E.NOT_ENOUGH_REPLICAS))
        await p.commit_transaction()
        assert c.hits == 1 and p._transactions().state is S.READY


@pytest.mark.parametrize("code,raised,state,v2", [
    # Java's maybeTransitionToErrorState: fatal for this one (as for fencing and authorization)
    (E.INVALID_PRODUCER_ID_MAPPING, InvalidPidMappingError, FATAL, False),
    (E.INVALID_PRODUCER_ID_MAPPING, InvalidPidMappingError, FATAL, True),
    # abortable; under v2 the abort's EndTxn finds nothing in the transaction, which the
    # coordinator aborts all the same
    (E.INVALID_TXN_STATE, InvalidTxnStateError, ABORTABLE, False),
    (E.INVALID_TXN_STATE, InvalidTxnStateError, ABORTABLE, True),
], ids=["INVALID_PRODUCER_ID_MAPPING-v1", "INVALID_PRODUCER_ID_MAPPING-v2", "INVALID_TXN_STATE-v1",
        "INVALID_TXN_STATE-v2"])
async def test_a_batch_error_is_fatal_or_abortable_as_in_java(
        code: int, raised: type[KafkaError], state: TransactionState, v2: bool,
        monkeypatch: pytest.MonkeyPatch) -> None:
    async with _producer(monkeypatch, v2=v2) as (fake, p):
        p.begin_transaction()
        fake.control(ApiKey.PRODUCE, _answer(ApiKey.PRODUCE, code))
        with pytest.raises(raised):
            await p.send_and_wait("t", b"x", partition=0)
        assert p._transactions().state is state
        if state is FATAL:
            with pytest.raises(raised):
                await p.abort_transaction()
        else:
            await p.abort_transaction()
            async with p.transaction():
                await p.send_and_wait("t", b"next", partition=0)


# -- docs/transactions.md's per-request table is this module's tables

DOC = Path(__file__).resolve().parents[3] / "docs" / "transactions.md"
_DOC_ROWS = [
    ("NOT_COORDINATOR, COORDINATOR_NOT_AVAILABLE", [E.NOT_COORDINATOR, E.COORDINATOR_NOT_AVAILABLE]),
    ("REQUEST_TIMED_OUT", [E.REQUEST_TIMED_OUT]),
    ("CONCURRENT_TRANSACTIONS", [E.CONCURRENT_TRANSACTIONS]),
    ("another retriable code (COORDINATOR_LOAD_IN_PROGRESS, UNKNOWN_TOPIC_OR_PARTITION, NOT_ENOUGH_REPLICAS, ...)",
     [E.COORDINATOR_LOAD_IN_PROGRESS, E.UNKNOWN_TOPIC_OR_PARTITION, E.NOT_ENOUGH_REPLICAS]),
    ("INVALID_PRODUCER_EPOCH, PRODUCER_FENCED", [E.INVALID_PRODUCER_EPOCH, E.PRODUCER_FENCED]),
    ("TRANSACTIONAL_ID_AUTHORIZATION_FAILED", [E.TRANSACTIONAL_ID_AUTHORIZATION_FAILED]),
    ("CLUSTER_AUTHORIZATION_FAILED", [E.CLUSTER_AUTHORIZATION_FAILED]),
    ("TOPIC_AUTHORIZATION_FAILED", [E.TOPIC_AUTHORIZATION_FAILED]),
    ("GROUP_AUTHORIZATION_FAILED", [E.GROUP_AUTHORIZATION_FAILED]),
    ("INVALID_TXN_STATE", [E.INVALID_TXN_STATE]),
    ("INVALID_PRODUCER_ID_MAPPING", [E.INVALID_PRODUCER_ID_MAPPING]),
    ("UNKNOWN_PRODUCER_ID", [E.UNKNOWN_PRODUCER_ID]),
    ("TRANSACTION_ABORTABLE", [E.TRANSACTION_ABORTABLE]),
    ("OPERATION_NOT_ATTEMPTED", [E.OPERATION_NOT_ATTEMPTED]),
    ("UNKNOWN_MEMBER_ID, ILLEGAL_GENERATION, GROUP_ID_NOT_FOUND, STALE_MEMBER_EPOCH",
     [E.UNKNOWN_MEMBER_ID, E.ILLEGAL_GENERATION, E.GROUP_ID_NOT_FOUND, E.STALE_MEMBER_EPOCH]),
    ("FENCED_INSTANCE_ID", [E.FENCED_INSTANCE_ID]),
    ("UNSUPPORTED_FOR_MESSAGE_FORMAT", [E.UNSUPPORTED_FOR_MESSAGE_FORMAT]),
    ("any other code (UNKNOWN_SERVER_ERROR, INVALID_TRANSACTION_TIMEOUT, TRANSACTION_COORDINATOR_FENCED, "
     "UNSUPPORTED_VERSION, ...)",
     [E.UNKNOWN_SERVER_ERROR, E.INVALID_TRANSACTION_TIMEOUT, E.TRANSACTION_COORDINATOR_FENCED, E.UNSUPPORTED_VERSION]),
]
_DOC_WORDS = {Outcome.REDISCOVER: "rediscover", Outcome.RETRY: "retry", Outcome.RETRY_SOON_FIRST_ADD: "retry (20 ms if first)",
              Outcome.FENCED: "**fatal** (fenced)", Outcome.FATAL: "**fatal**", Outcome.ABORTABLE: "abortable",
              Outcome.ABORTABLE_BUMP: "abortable + bump", Outcome.COMMIT_FAILED: "abortable (`CommitFailedError`)"}


def _doc_table() -> str:
    requests = list(TxnRequest)
    lines = ["| code | " + " | ".join(r.value for r in requests) + " |", "|---|" + "---|" * len(requests)]
    for label, codes in _DOC_ROWS:
        cells = []
        for r in requests:
            outcomes = [outcome(r, c) for c in codes]
            assert len(set(outcomes)) == 1, (label, r, outcomes)  # a row's codes are handled alike
            cells.append(_DOC_WORDS[outcomes[0]])
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def test_the_docs_table_is_the_handling_tables() -> None:
    assert _doc_table() in DOC.read_text(), "docs/transactions.md's table of error codes per request is stale"


async def test_an_abort_whose_epoch_bump_timed_out_resumes_when_called_again(monkeypatch: pytest.MonkeyPatch) -> None:
    # the bump keeps getting CONCURRENT_TRANSACTIONS until max_block_ms: KafkaTimeoutError, and the
    # next abort_transaction() finishes it (as Java's abortTransaction() picks up its pending result)
    async with _producer(monkeypatch) as (fake, p):
        with pytest.raises(UnknownProducerIdError):
            await _commit(fake, p, E.UNKNOWN_PRODUCER_ID)
        busy = fake.control(ApiKey.INIT_PRODUCER_ID, _answer(ApiKey.INIT_PRODUCER_ID, E.CONCURRENT_TRANSACTIONS),
                            persistent=True)
        with pytest.raises(KafkaTimeoutError):
            await p.abort_transaction()
        fake.remove_control(busy)
        epoch = p._idem.producer_epoch if p._idem is not None else None
        await p.abort_transaction()
        assert p._transactions().state is S.READY
        assert p._idem is not None and p._idem.producer_epoch == (epoch or 0) + 1
        async with p.transaction():
            await p.send_and_wait("t", b"next", partition=0)
