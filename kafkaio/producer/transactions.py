"""Transactions (KIP-98): the transactional producer's state machine and its coordinator requests.

A producer with a ``transactional_id`` owns one :class:`TransactionManager`. It

* gets the producer id and epoch from the *transaction coordinator* (InitProducerId with the
  transactional id), which fences every older producer with the same id and aborts (or completes)
  the transaction that producer left open;
* adds each partition to the transaction (AddPartitionsToTxn) before the partition's first batch of
  the transaction is drained: the sender asks :meth:`TransactionManager.partition_gate` for every
  partition's first batch, and partitions met in one sender pass go in one request;
* adds a consumer group's offsets to the transaction (AddOffsetsToTxn, then TxnOffsetCommit to the
  group coordinator with the consumer's generation, member id and group instance id: KIP-447);
* ends the transaction (EndTxn commit/abort) after every batch of it was delivered.

Errors are sorted as in the Java client, per request (:mod:`kafkaio.producer.txn_errors`): *fatal*
(fenced by a newer producer, invalid state, a code the request's handler does not name): every later
operation raises the error again, only ``close()`` is left; *abortable* (a batch failed, a topic or
group authorization error, a stale consumer generation): the transaction must be aborted, after
which the producer is usable again; *retriable* (coordinator moved or loading,
CONCURRENT_TRANSACTIONS, lost connections): retried after ``retry_backoff_ms`` each time (flat, as
Java's sender sleeps ``retry.backoff.ms`` before a retried transactional request), each public
operation for up to ``max_block_ms``.

Two protocols, chosen once at start as the Java client does: transaction v2 (KIP-890 part 2) when
the cluster finalized ``transaction.version`` >= 2 -- Produce and TxnOffsetCommit add to the
transaction themselves (no AddPartitionsToTxn/AddOffsetsToTxn) and every EndTxn returns the next
epoch; otherwise the classic protocol (v1), with Produce, EndTxn and TxnOffsetCommit capped at
:data:`kafkaio.protocol.LAST_TXN_V1_VERSIONS`. See docs/transactions.md.
"""
from __future__ import annotations

import asyncio
import contextlib
import enum
import logging
from typing import TYPE_CHECKING, Any, AsyncIterator, Awaitable, Callable, Mapping, NamedTuple, NoReturn, TypeVar, cast

from kafkaio.errors import (
    ClusterAuthorizationError,
    CommitFailedError,
    ErrorCode,
    IllegalStateError,
    InvalidPidMappingError,
    InvalidProducerEpochError,
    KafkaConnectionError,
    KafkaError,
    KafkaTimeoutError,
    NoBrokersAvailableError,
    ProducerFencedError,
    TransactionAbortedError,
    TopicAuthorizationError,
    TransactionalIdAuthorizationError,
    UnsupportedVersionError,
    error_for_code,
)
from kafkaio.producer.txn_errors import Outcome, TxnRequest, outcome, severity
from kafkaio.protocol import LAST_TXN_V1_VERSIONS, ApiKey
from kafkaio.protocol.primitives import ZERO_UUID
from kafkaio.retry import ExponentialBackoff

if TYPE_CHECKING:
    from kafkaio.cluster import Cluster
    from kafkaio.config import ProducerConfig
    from kafkaio.producer.accumulator import RecordAccumulator
    from kafkaio.producer.idempotence import IdempotenceState
    from kafkaio.consumer.coordinator import ConsumerGroupMetadata
    from kafkaio.producer.accumulator import ProducerBatch
    from kafkaio.protocol.bodies import AddPartitionsToTxnResponse, EndTxnResponse, InitProducerIdResponse
    from kafkaio.structs import OffsetAndMetadata, TopicPartition

__all__ = ["TransactionManager", "TransactionState", "TransactionalProducerMixin"]

_T = TypeVar("_T")

log = logging.getLogger("kafkaio.producer.transactions")

_COORDINATOR_KEY_GROUP = 0
_COORDINATOR_KEY_TRANSACTION = 1


class TransactionState(enum.Enum):
    UNINITIALIZED = "UNINITIALIZED"
    INITIALIZING = "INITIALIZING"
    READY = "READY"
    IN_TRANSACTION = "IN_TRANSACTION"
    COMMITTING = "COMMITTING"
    ABORTING = "ABORTING"
    ABORTABLE_ERROR = "ABORTABLE_ERROR"
    FATAL_ERROR = "FATAL_ERROR"


S = TransactionState

# state -> the states it may move to (FATAL_ERROR is reachable from everywhere)
_TRANSITIONS: dict[TransactionState, frozenset[TransactionState]] = {
    S.UNINITIALIZED: frozenset({S.INITIALIZING}),
    S.INITIALIZING: frozenset({S.INITIALIZING, S.READY, S.ABORTABLE_ERROR}),
    S.READY: frozenset({S.IN_TRANSACTION}),
    S.IN_TRANSACTION: frozenset({S.COMMITTING, S.ABORTING, S.ABORTABLE_ERROR}),
    S.COMMITTING: frozenset({S.READY, S.ABORTABLE_ERROR}),
    S.ABORTING: frozenset({S.READY, S.INITIALIZING}),
    # UNINITIALIZED: the first InitProducerId was refused for authorization; start again
    S.ABORTABLE_ERROR: frozenset({S.ABORTING, S.ABORTABLE_ERROR, S.UNINITIALIZED}),
    S.FATAL_ERROR: frozenset(),
}

_FIRST_ADD_BACKOFF_MS = 20.0  # Java's ADD_PARTITIONS_RETRY_BACKOFF_MS
TXN_OFFSET_COMMIT_TOPIC_ID_VERSION = 6  # TxnOffsetCommit names topics by id from here on (KIP-1319)

# errors of a batch that make the producer unusable rather than just the transaction (Java's
# maybeTransitionToErrorState)
_FATAL_BATCH_ERRORS = (ProducerFencedError, InvalidProducerEpochError, ClusterAuthorizationError,
                       TransactionalIdAuthorizationError, UnsupportedVersionError, InvalidPidMappingError)


def _no_wakeup() -> None:
    """The wake-up of a manager without a sender (the bare state machine)."""


class _Rediscover(Exception):
    def __init__(self, cause: KafkaError) -> None:
        self.cause = cause


class _Retry(Exception):
    def __init__(self, cause: KafkaError, backoff_ms: float | None = None) -> None:
        self.cause = cause
        self.backoff_ms = backoff_ms


class _Wiring(NamedTuple):
    """What a wired manager talks to."""

    cluster: Cluster
    acc: RecordAccumulator
    idem: IdempotenceState


class TransactionManager:
    """The transactional producer's state and its requests to the transaction and group coordinators.

    ``cluster``, ``accumulator`` and ``idempotence`` are the producer's own; ``wakeup`` wakes the
    sender when the manager has made work for it (partitions added, a new producer id, a flush, a
    fatal error). The sender is given the manager and asks it (``partition_gate``,
    ``on_batch_failed``, ``fatal_error``); the manager knows nothing of the sender.
    Constructed without them (all None) it is the bare state machine, for unit tests.
    """

    #: the highest transaction protocol version used when the broker offers it (1: classic only)
    max_transaction_version = 2

    def __init__(self, transactional_id: str, transaction_timeout_ms: int, *, cluster: Cluster | None = None,
                 accumulator: RecordAccumulator | None = None, idempotence: IdempotenceState | None = None,
                 wakeup: Callable[[], None] | None = None,
                 request_timeout_ms: float = 30000, retry_backoff_ms: float = 100,
                 max_block_ms: float = 60000) -> None:
        self.transactional_id = transactional_id
        self.transaction_timeout_ms = transaction_timeout_ms
        self._cluster = cluster
        self._acc = accumulator
        self._idem = idempotence
        self._wakeup = wakeup if wakeup is not None else _no_wakeup
        self._request_timeout_ms = float(request_timeout_ms)
        self._backoff = ExponentialBackoff.flat(retry_backoff_ms)
        self._max_block_ms = float(max_block_ms)
        self.state = S.UNINITIALIZED
        self.last_error: KafkaError | None = None     # the abortable or fatal error
        self._coordinator: int | None = None
        self._in_txn: set[tuple[str, int]] = set()    # partitions the coordinator added
        self._pending: set[tuple[str, int]] = set()   # partitions waiting for AddPartitionsToTxn
        self._denied: set[str] = set()                 # topics AddPartitionsToTxn refused (ACLs)
        self._add_task: asyncio.Task[None] | None = None
        self._offsets_added = False                    # AddOffsetsToTxn succeeded in this transaction
        self._bumping = False                          # an abort's epoch bump (InitProducerId) is unfinished
        self._op_lock: asyncio.Lock | None = None
        self.protocol_v2 = False                       # KIP-890 part 2, decided by initialize()

    # -- state machine ------------------------------------------------------------------------
    def _transition(self, target: TransactionState) -> None:
        if target is not S.FATAL_ERROR and target not in _TRANSITIONS[self.state]:
            raise IllegalStateError(
                f"transactional producer {self.transactional_id!r}: invalid transition "
                f"{self.state.value} -> {target.value}")
        log.debug("transactional producer %r: %s -> %s", self.transactional_id, self.state.value, target.value)
        self.state = target

    def _raise_if_failed(self) -> None:
        """A fatal error is raised again by every operation (a fresh instance, chained)."""
        if self.state is S.FATAL_ERROR:
            err = self.last_error
            assert err is not None
            raise type(err)(err.message or str(err)) from err

    def fatal(self, exc: KafkaError) -> KafkaError:
        """Move to FATAL_ERROR for good; returns the error the caller should raise."""
        if isinstance(exc, InvalidProducerEpochError):
            exc = ProducerFencedError(
                f"transactional id {self.transactional_id!r}: the producer's epoch is no longer "
                f"current (fenced by a newer producer, or its transaction timed out): {exc}")
        if self.state is not S.FATAL_ERROR:
            log.error("transactional producer %r: fatal error: %r", self.transactional_id, exc)
            self.last_error = exc
            self._transition(S.FATAL_ERROR)
            self._wakeup()   # the sender fails everything still queued
        err = self.last_error
        assert err is not None  # set when the state became FATAL_ERROR
        return err

    def abortable(self, exc: KafkaError) -> None:
        """The current transaction cannot commit any more; only ``abort_transaction()`` is allowed.
        Also from INITIALIZING, as in Java (InitProducerId's abortable errors); while aborting,
        the abort goes on."""
        if self.state in (S.IN_TRANSACTION, S.COMMITTING, S.ABORTABLE_ERROR, S.INITIALIZING):
            if self.state is not S.ABORTABLE_ERROR:
                log.warning("transactional producer %r: transaction must be aborted: %r",
                            self.transactional_id, exc)
                self.last_error = exc
            self._transition(S.ABORTABLE_ERROR)
            if self._acc is not None:
                # queued batches of a doomed transaction are never sent (as Java's abortUndrainedBatches)
                asyncio.get_running_loop().call_soon(self._abort_queued)

    def _abort_queued(self) -> None:
        n = self._wired.acc.abort_queued(self._aborted_error)
        if n:
            log.debug("transactional producer %r: %d queued batch(es) aborted", self.transactional_id, n)

    def check_send(self) -> None:
        """Raise unless records may be sent now (inside a transaction)."""
        state = self.state
        if state is S.IN_TRANSACTION:
            return
        self._raise_if_failed()
        if state is S.ABORTABLE_ERROR:
            err = self.last_error
            raise TransactionAbortedError(
                f"the transaction must be aborted after an earlier error: {err!r}") from err
        raise IllegalStateError(
            f"transactional producer {self.transactional_id!r} cannot send in state {state.value}: "
            "call begin_transaction() (or use 'async with producer.transaction()') first")

    def begin(self) -> None:
        """READY -> IN_TRANSACTION (no request: the transaction starts with its first partition)."""
        self._raise_if_failed()
        if self.state is S.ABORTABLE_ERROR:
            raise IllegalStateError("abort_transaction() first: the previous transaction failed") \
                from self.last_error
        if self.state is not S.READY:
            raise IllegalStateError(
                f"begin_transaction() needs state READY, not {self.state.value}"
                + (": call start() first" if self.state is S.UNINITIALIZED else ""))
        self._transition(S.IN_TRANSACTION)

    def _check_commit(self) -> None:
        self._raise_if_failed()
        if self.state is S.ABORTABLE_ERROR:
            err = self.last_error  # the typed cause, so that callers can tell what went wrong
            assert err is not None  # set with ABORTABLE_ERROR
            raise type(err)(f"cannot commit, only abort_transaction() is allowed: the transaction "
                            f"failed with {err}") from err
        if self.state not in (S.IN_TRANSACTION, S.COMMITTING):
            raise IllegalStateError(f"commit_transaction() needs an open transaction, not {self.state.value}")

    def _check_abort(self) -> None:
        self._raise_if_failed()
        if self.state is S.INITIALIZING and self._bumping:
            return  # the bump of an abort that timed out: this abort finishes it
        if self.state not in (S.IN_TRANSACTION, S.ABORTABLE_ERROR, S.ABORTING):
            raise IllegalStateError(f"abort_transaction() needs an open transaction, not {self.state.value}")

    def _check_offsets(self) -> None:
        self.check_send()

    @property
    def fatal_error(self) -> KafkaError | None:
        """The error that made the producer unusable, once in FATAL_ERROR; else None."""
        return self.last_error if self.state is S.FATAL_ERROR else None

    @property
    def has_open_transaction(self) -> bool:
        return self.state in (S.IN_TRANSACTION, S.COMMITTING, S.ABORTING, S.ABORTABLE_ERROR)

    # -- hooks called by the sender -----------------------------------------------------------
    def partition_gate(self, batch: ProducerBatch) -> bool:
        """May the sender drain ``batch`` (its partition's first)? Only once its partition is in the
        transaction; otherwise the partition is queued for the next AddPartitionsToTxn."""
        tp = batch.tp
        if tp in self._in_txn:
            return True
        if self.protocol_v2:
            # transaction v2: Produce adds the partition to the transaction itself
            if self.state in (S.IN_TRANSACTION, S.COMMITTING):
                self._in_txn.add(tp)
                return True
            return False
        if self.state in (S.IN_TRANSACTION, S.COMMITTING) and tp not in self._pending:
            self._pending.add(tp)
            if self._add_task is None or self._add_task.done():
                # started after this drain pass: every partition met in the pass goes in one request
                self._add_task = asyncio.get_running_loop().create_task(self._add_partitions())
        return False

    def on_batch_failed(self, batch: ProducerBatch, exc: BaseException) -> None:
        """A batch failed for good: the transaction can no longer commit (or the producer is done)."""
        if self.state is S.FATAL_ERROR or self.state is S.ABORTING:
            return
        if isinstance(exc, _FATAL_BATCH_ERRORS):
            self.fatal(exc)
        elif isinstance(exc, KafkaError):
            self.abortable(exc)
        else:
            self.abortable(KafkaError(f"{batch.topic}-{batch.partition}: {exc!r}"))

    # -- requests -------------------------------------------------------------------------------
    @property
    def _wired(self) -> _Wiring:
        """The collaborators; a manager made without them (a state-machine test) does no I/O."""
        cluster, acc, idem = self._cluster, self._acc, self._idem
        assert cluster is not None and acc is not None and idem is not None
        return _Wiring(cluster, acc, idem)

    async def _coordinator_node(self) -> int:
        if self._coordinator is None:
            self._coordinator = await self._find_coordinator(self.transactional_id, _COORDINATOR_KEY_TRANSACTION)
        return self._coordinator

    async def _find_coordinator(self, key: str, key_type: int) -> int:
        """FindCoordinator, its errors classified as Java's FindCoordinatorHandler does (the
        FIND_COORDINATOR table): lost connections and timeouts are retried by the caller."""
        try:
            return await self._wired.cluster.find_coordinator(key, key_type, timeout_ms=self._request_timeout_ms,
                                                              backoff=self._backoff)
        except (KafkaConnectionError, KafkaTimeoutError, NoBrokersAvailableError):
            raise
        except KafkaError as exc:
            if exc.retriable or exc.invalid_metadata or exc.code_name is None:
                raise   # still failing when find_coordinator's own retries ran out; not an answer
            self._fail(outcome(TxnRequest.FIND_COORDINATOR, exc.errno), exc)

    async def _request(self, node: int, api_key: ApiKey, body: dict[str, Any],
                       max_version: int | None = None) -> dict[str, Any]:
        conn = await self._wired.cluster.connection(node)
        version = conn.version(api_key)
        cap = None if self.protocol_v2 else LAST_TXN_V1_VERSIONS.get(api_key)
        if cap is not None and version > cap:
            version = cap  # classic transactions: newer versions mean transaction protocol v2
        if max_version is not None:
            version = min(version, max_version)
        return await conn.request(api_key, body, version=version, timeout_ms=self._request_timeout_ms)

    def _classify(self, request: TxnRequest, code: int, what: str) -> NoReturn:
        """Raise what the caller must do about a non-zero error ``code`` in the answer to
        ``request`` (its table in :mod:`kafkaio.producer.txn_errors`), recording it first."""
        exc = error_for_code(code)(what)
        self._fail(outcome(request, code), exc)

    def _fail(self, what: Outcome, exc: KafkaError) -> NoReturn:
        """Record ``exc`` as ``what`` says (fatal, abortable) and raise what the caller acts on."""
        if what is Outcome.REDISCOVER:
            raise _Rediscover(exc)
        if what is Outcome.RETRY:
            raise _Retry(exc)
        if what is Outcome.RETRY_SOON_FIRST_ADD:
            raise _Retry(exc, None if self._in_txn else min(_FIRST_ADD_BACKOFF_MS, self._backoff.initial_ms))
        if what is Outcome.FENCED or what is Outcome.FATAL:
            raise self.fatal(exc) from None
        if what is Outcome.COMMIT_FAILED:
            err = CommitFailedError(
                f"the consumer's group generation is no longer current ({exc}); the "
                "partitions may have moved to another member")
            self.abortable(err)
            raise err from exc
        if what is Outcome.ABORTABLE_BUMP and self._idem is not None:
            self._idem.request_epoch_bump(f"{exc} in a transaction")
        self.abortable(exc)
        raise exc

    def _aborted_error(self, batch: ProducerBatch) -> KafkaError:
        """The error of a queued batch failed by an abort (for ``accumulator.abort_queued``).

        A batch that already had a sequence number (queued for a retry) may or may not be in the
        log: the idempotence state must know it failed, so that the abort bumps the epoch."""
        if self._idem is not None:
            self._idem.gave_up(batch, "aborted while waiting for a retry")
        if batch.topic in self._denied:
            # the batch's own failure, as under transaction v2 where Produce itself is refused
            return _denied(batch, self._denied)
        return _aborted(batch, self.last_error)

    async def _with_retries(self, what: str, attempt: Callable[[], Awaitable[_T]],
                            deadline_ms: float | None = None, group: bool = False,
                            keep_going: Callable[[], bool] | None = None) -> _T:
        """Run ``attempt`` until it succeeds, rediscovering the coordinator and waiting
        ``retry_backoff_ms`` (or the error's own backoff) before each retry, for up to
        ``max_block_ms`` (and while ``keep_going()``). Fatal and abortable errors propagate."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + (self._max_block_ms if deadline_ms is None else deadline_ms) / 1000.0
        while True:
            self._raise_if_failed()
            try:
                return await attempt()
            except _Rediscover as r:
                cause, delay = r.cause, None
                if not group:
                    self._coordinator = None
            except _Retry as r:
                cause, delay = r.cause, r.backoff_ms
            except (KafkaConnectionError, KafkaTimeoutError, NoBrokersAvailableError) as exc:
                cause, delay = exc, None
                if not group:
                    self._coordinator = None
            if keep_going is not None and not keep_going():
                raise KafkaError(f"{what} given up: the transaction is ending") from cause
            if delay is None:
                delay = self._backoff.initial_ms
            log.debug("%s: retrying after %r", what, cause)
            if loop.time() + delay / 1000.0 > deadline:
                raise KafkaTimeoutError(
                    f"{what} did not complete within max_block_ms={self._max_block_ms:.0f}; "
                    f"last error: {cause}") from cause
            await asyncio.sleep(delay / 1000.0)

    def _ids(self) -> tuple[int, int]:
        return self._wired.idem.producer_id, self._wired.idem.producer_epoch

    async def _init_producer_id(self, bump: bool) -> None:
        """InitProducerId at the transaction coordinator (``bump``: same id, next epoch; KIP-360)."""
        idem = self._wired.idem
        pid, epoch = self._ids() if bump else (-1, -1)
        body = {"transactional_id": self.transactional_id,
                "transaction_timeout_ms": self.transaction_timeout_ms,
                "producer_id": pid, "producer_epoch": epoch}

        async def attempt() -> InitProducerIdResponse:
            resp = cast("InitProducerIdResponse", await self._request(
                await self._coordinator_node(), ApiKey.INIT_PRODUCER_ID, body))
            code = resp["error_code"]
            if code:
                self._classify(TxnRequest.INIT_PRODUCER_ID, code,
                               f"InitProducerId for {self.transactional_id!r}")
            return resp

        resp = await self._with_retries("InitProducerId", attempt)
        idem.set_producer_id(resp["producer_id"], resp["producer_epoch"])
        idem.reset_sequences(self._wired.acc.queued_batches())
        log.info("transactional producer %r: producer id %d, epoch %d", self.transactional_id,
                 resp["producer_id"], resp["producer_epoch"])
        self._wakeup()

    def _adding_allowed(self) -> bool:
        return self.state in (S.IN_TRANSACTION, S.COMMITTING)

    async def _broker_offers_v2(self) -> bool:
        """Transaction v2 when allowed, finalized by the cluster (feature ``transaction.version``
        >= 2, as the Java client decides) and spoken by the coordinator (EndTxn 5, TxnOffsetCommit 5,
        Produce 12)."""
        if self.max_transaction_version < 2:
            return False
        try:
            conn = await self._wired.cluster.connection(await self._coordinator_node())
        except KafkaError:
            return False
        versions = conn.api_versions_response
        features = versions["finalized_features"] if versions is not None else []
        level = max((f["max_version_level"] for f in features if f["name"] == "transaction.version"),
                    default=0)
        needed = {ApiKey.END_TXN: 5, ApiKey.TXN_OFFSET_COMMIT: 5, ApiKey.PRODUCE: 12}
        return level >= 2 and all(conn.supports(k) and conn.version(k) >= v for k, v in needed.items())

    async def _add_partitions(self) -> None:
        """AddPartitionsToTxn for the partitions queued by the gate, until none is left."""
        try:
            while self._pending and self.state in (S.IN_TRANSACTION, S.COMMITTING):
                batch = sorted(self._pending)
                topics: dict[str, list[int]] = {}
                for topic, partition in batch:
                    topics.setdefault(topic, []).append(partition)
                pid, epoch = self._ids()
                body = {"v3_and_below_transactional_id": self.transactional_id,
                        "v3_and_below_producer_id": pid, "v3_and_below_producer_epoch": epoch,
                        "v3_and_below_topics": [{"name": t, "partitions": ps} for t, ps in topics.items()]}

                async def attempt() -> None:
                    resp = cast("AddPartitionsToTxnResponse", await self._request(
                        await self._coordinator_node(), ApiKey.ADD_PARTITIONS_TO_TXN, body))
                    errors: list[tuple[int, str]] = []
                    for t in resp["results_by_topic_v3_and_below"]:
                        for p in t["results_by_partition"]:
                            code = p["partition_error_code"]
                            if code:
                                errors.append((code, f"{t['name']}-{p['partition_index']}"))
                            if code == ErrorCode.TOPIC_AUTHORIZATION_FAILED:
                                self._denied.add(t["name"])
                    if errors:
                        # the most severe outcome decides (fatal, then abortable, then retry);
                        # OPERATION_NOT_ATTEMPTED (another partition failed) only when alone
                        errors.sort(key=lambda e: (severity(TxnRequest.ADD_PARTITIONS, e[0]),
                                                   e[0] == ErrorCode.OPERATION_NOT_ATTEMPTED))
                        code, tp = errors[0]
                        self._classify(TxnRequest.ADD_PARTITIONS, code, f"AddPartitionsToTxn ({tp})")

                # batches expire on their own (delivery_timeout_ms) while this keeps retrying
                await self._with_retries("AddPartitionsToTxn", attempt, deadline_ms=float("inf"),
                                         keep_going=self._adding_allowed)
                self._pending.difference_update(batch)
                self._in_txn.update(batch)
                self._wakeup()
        except KafkaError:
            pass  # already recorded as abortable or fatal; queued batches are failed from there
        except Exception:  # noqa: BLE001 - a bug here must not leave batches waiting forever
            log.exception("transactional producer %r: AddPartitionsToTxn failed", self.transactional_id)
            self.abortable(KafkaError("AddPartitionsToTxn failed unexpectedly"))

    async def _end_txn(self, committed: bool) -> None:
        pid, epoch = self._ids()
        body = {"transactional_id": self.transactional_id, "producer_id": pid, "producer_epoch": epoch,
                "committed": committed}
        request = TxnRequest.END_TXN_COMMIT if committed else TxnRequest.END_TXN_ABORT
        what = request.value

        async def attempt() -> EndTxnResponse:
            resp = cast("EndTxnResponse", await self._request(await self._coordinator_node(), ApiKey.END_TXN, body))
            code = resp["error_code"]
            if code:
                self._classify(request, code, what)
            return resp

        resp = await self._with_retries(what, attempt)
        if self.protocol_v2 and resp["producer_epoch"] >= 0:
            # transaction v2: every EndTxn gives the producer its next epoch; sequences restart
            self._wired.idem.set_producer_id(resp["producer_id"], resp["producer_epoch"])
            self._wired.idem.reset_sequences(self._wired.acc.queued_batches())

    async def _wait_for_batches(self) -> None:
        """Send everything buffered now and wait until every batch is delivered or failed."""
        acc = self._wired.acc
        pending = acc.incomplete_futures()
        if not pending:
            return
        acc.begin_flush()
        self._wakeup()
        try:
            while pending:
                await asyncio.wait(pending)
                pending = acc.incomplete_futures()  # retried batches stay incomplete; new ones none
        finally:
            acc.end_flush()

    # -- public operations (the producer delegates) ---------------------------------------------
    def _lock(self) -> asyncio.Lock:
        if self._op_lock is None:
            self._op_lock = asyncio.Lock()
        return self._op_lock

    async def initialize(self) -> None:
        """InitProducerId with the transactional id: fences older producers with the same id."""
        async with self._lock():
            self._raise_if_failed()
            if self.state is not S.UNINITIALIZED and self.state is not S.INITIALIZING:
                raise IllegalStateError(f"the transactional producer is already initialized ({self.state.value})")
            self._transition(S.INITIALIZING)
            try:
                await self._init_producer_id(bump=False)
            except (TransactionalIdAuthorizationError, ClusterAuthorizationError):
                self._uninitialize_if_abortable()
                raise
            self.protocol_v2 = await self._broker_offers_v2()
            log.info("transactional producer %r: transaction protocol v%d", self.transactional_id,
                     2 if self.protocol_v2 else 1)
            self._transition(S.READY)

    def _uninitialize_if_abortable(self) -> None:
        """After the first InitProducerId was refused for authorization (abortable, not fatal):
        initialization may be tried again, as Java's sender allows after these errors."""
        if self.state is S.ABORTABLE_ERROR:
            self.last_error = None
            self._transition(S.UNINITIALIZED)

    async def commit(self) -> None:
        """Deliver every record of the transaction, then commit it (EndTxn)."""
        async with self._lock():
            self._check_commit()
            if self.state is S.IN_TRANSACTION:
                self._transition(S.COMMITTING)
            await self._wait_for_batches()
            if self.state is not S.COMMITTING:  # a batch failed while we waited
                self._raise_if_failed()
                err = self.last_error
                assert err is not None  # set with the state the failed batch moved it to
                raise type(err)(f"the transaction cannot commit: {err}") from err
            if self._add_task is not None and not self._add_task.done():
                await self._add_task
            if self._in_txn or self._offsets_added:
                await self._end_txn(committed=True)
            self._finish()

    async def abort(self) -> None:
        """Fail the transaction's undelivered records, wait for those in flight, abort (EndTxn)."""
        async with self._lock():
            self._check_abort()
            if self.state is S.INITIALIZING:  # the transaction ended; its epoch bump timed out
                await self._init_producer_id(bump=True)
                self._finish()
                return
            if self.state is not S.ABORTING:
                self._transition(S.ABORTING)
            self._wired.acc.abort_queued(self._aborted_error)
            await self._wait_for_batches()
            self._raise_if_failed()  # e.g. fenced while the in-flight batches completed
            task = self._add_task
            if task is not None and not task.done():
                # its request in flight may add partitions: wait for the answer (no more retries),
                # so that EndTxn is sent whenever the coordinator may have started the transaction
                await task
            if self._in_txn or self._offsets_added:
                await self._end_txn(committed=False)
                # ended at the coordinator: an abort called again after a failed bump only bumps
                self._in_txn.clear()
                self._offsets_added = False
            if self._wired.idem.epoch_bump_needed and not self.protocol_v2:
                # a batch with a sequence failed: continue with the next epoch (KIP-360)
                self._transition(S.INITIALIZING)
                self._bumping = True
                await self._init_producer_id(bump=True)
            self._finish()

    async def close(self) -> None:
        """End the manager's own work (the producer is closing): a pending AddPartitionsToTxn
        stops retrying. The partitions it was adding stay out of the transaction."""
        task = self._add_task
        if task is not None and not task.done():
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    def _finish(self) -> None:
        self._bumping = False
        self._in_txn.clear()
        self._pending.clear()
        self._denied.clear()
        self._offsets_added = False
        self.last_error = None
        self._transition(S.READY)

    async def send_offsets(self, offsets: Mapping[Any, Any], group_metadata: Any) -> None:
        """Commit ``offsets`` for the consumer group of ``group_metadata`` as part of the transaction."""
        async with self._lock():
            self._check_offsets()
            group_id, generation, member_id, instance_id = _group_fields(group_metadata)
            pid, epoch = self._ids()
            body = {"transactional_id": self.transactional_id, "producer_id": pid,
                    "producer_epoch": epoch, "group_id": group_id}

            async def add_offsets() -> None:
                resp = await self._request(await self._coordinator_node(), ApiKey.ADD_OFFSETS_TO_TXN, body)
                if resp["error_code"]:
                    self._classify(TxnRequest.ADD_OFFSETS, resp["error_code"],
                                   f"AddOffsetsToTxn for group {group_id!r}")

            if not self.protocol_v2:  # v2: TxnOffsetCommit adds the group to the transaction itself
                await self._with_retries("AddOffsetsToTxn", add_offsets)
            self._offsets_added = True
            await self._txn_offset_commit(offsets, group_id, generation, member_id, instance_id)

    async def _txn_offset_commit(self, offsets: Mapping[Any, Any], group_id: str, generation: int,
                                 member_id: str, instance_id: str | None) -> None:
        topics: dict[str, list[dict[str, Any]]] = {}
        for tp, om in offsets.items():
            topic, partition = tp
            if isinstance(om, int):
                offset, metadata, leader_epoch = om, "", -1
            else:
                offset, metadata, leader_epoch = om.offset, om.metadata, getattr(om, "leader_epoch", -1)
            topics.setdefault(topic, []).append({
                "partition_index": partition, "committed_offset": offset,
                "committed_leader_epoch": leader_epoch if leader_epoch is not None else -1,
                "committed_metadata": metadata})
        # As Java 4.4: topics by id (v6, KIP-1319) when the producer's metadata has every topic's
        # id (no lookup is made for them), else by name (v5; classic transactions stop at 4). The
        # ids stay those of the first attempt: a topic created again meanwhile is another topic.
        known = self._wired.cluster.metadata.topics
        ids = {t: (known[t].topic_id if t in known else None) or ZERO_UUID for t in topics}
        by_id = bool(ids) and ZERO_UUID not in ids.values()
        max_version = None if by_id else TXN_OFFSET_COMMIT_TOPIC_ID_VERSION - 1
        names = {tid: t for t, tid in ids.items()}
        pid, epoch = self._ids()
        body = {"transactional_id": self.transactional_id, "group_id": group_id, "producer_id": pid,
                "producer_epoch": epoch, "generation_id_or_member_epoch": generation, "member_id": member_id,
                "group_instance_id": instance_id,
                "topics": [{"name": t, "topic_id": ids[t], "partitions": ps} for t, ps in topics.items()]}
        node: list[int | None] = [None]

        async def attempt() -> None:
            target = node[0]
            if target is None:
                target = node[0] = await self._find_coordinator(group_id, _COORDINATOR_KEY_GROUP)
            try:
                resp = await self._request(target, ApiKey.TXN_OFFSET_COMMIT, body, max_version)
            except (KafkaConnectionError, KafkaTimeoutError):
                node[0] = None
                raise
            # a v6 answer names its topics by id, the ones this request named
            codes = [(p["error_code"], f"{t['name'] or names.get(t['topic_id'], t['topic_id'])}-{p['partition_index']}")
                     for t in resp["topics"] for p in t["partitions"] if p["error_code"]]
            if codes:
                codes.sort(key=lambda e: severity(TxnRequest.TXN_OFFSET_COMMIT, e[0]))
                code, tp = codes[0]
                if outcome(TxnRequest.TXN_OFFSET_COMMIT, code) is Outcome.REDISCOVER:
                    node[0] = None
                self._classify(TxnRequest.TXN_OFFSET_COMMIT, code, f"TxnOffsetCommit for group {group_id!r} ({tp})")

        await self._with_retries("TxnOffsetCommit", attempt, group=True)


def _aborted(batch: ProducerBatch, cause: BaseException | None) -> KafkaError:
    msg = f"{batch.topic}-{batch.partition}: the transaction was aborted before this batch was sent"
    if cause is not None:
        msg += f" (after {cause!r})"
    return TransactionAbortedError(msg)


def _denied(batch: ProducerBatch, topics: set[str]) -> KafkaError:
    err = TopicAuthorizationError(
        f"{batch.topic}-{batch.partition}: not authorized to write to the topic "
        f"(AddPartitionsToTxn refused {', '.join(sorted(topics))})")
    err.unauthorized_topics = set(topics)
    return err


def _group_fields(meta: Any) -> tuple[str, int, str, str | None]:
    """(group id, generation, member id, group instance id) from a ConsumerGroupMetadata or a group id."""
    if isinstance(meta, str):
        return meta, -1, "", None  # a bare group id: no zombie fencing by generation (pre-KIP-447)
    try:
        return (meta.group_id, meta.generation_id, meta.member_id, meta.group_instance_id)
    except AttributeError:
        raise TypeError("group_metadata must be consumer.group_metadata() (or a group id string)") from None


class TransactionalProducerMixin:
    """The transactional half of :class:`kafkaio.Producer`'s public API (delegates to its manager)."""

    _txn: TransactionManager | None
    config: ProducerConfig

    def _transactions(self) -> TransactionManager:
        txn = self._txn
        if txn is None:
            if self.config.transactional_id is None:
                raise IllegalStateError("transactions need a transactional_id in the producer's configuration")
            raise IllegalStateError("the producer is not started: await start() first")
        return txn

    def begin_transaction(self) -> None:
        """Start a transaction: records sent until commit or abort belong to it."""
        self._transactions().begin()

    async def commit_transaction(self) -> None:
        """Deliver the transaction's records and commit it (they and its offsets become visible
        to ``read_committed`` consumers). If a record failed, raises its error; then only
        :meth:`abort_transaction` is allowed. Retriable after :class:`KafkaTimeoutError`."""
        await self._transactions().commit()

    async def abort_transaction(self) -> None:
        """Abort the transaction: its records are never visible to ``read_committed`` consumers
        and its offsets are not committed. The producer is usable again afterwards."""
        await self._transactions().abort()

    async def send_offsets_to_transaction(self, offsets: Mapping[TopicPartition, OffsetAndMetadata | int],
                                          group_metadata: ConsumerGroupMetadata | str) -> None:
        """Commit consumer offsets (``{TopicPartition: OffsetAndMetadata | int}``, the next offsets
        to read) with the transaction, for the group of ``consumer.group_metadata()`` (KIP-447)."""
        await self._transactions().send_offsets(offsets, group_metadata)

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[None]:
        """``async with producer.transaction():`` begin; commit on success, abort on an exception."""
        txn = self._transactions()
        txn.begin()
        try:
            yield
        except BaseException:
            if txn.state is not S.FATAL_ERROR:
                try:
                    await txn.abort()
                except Exception:  # noqa: BLE001 - the body's exception is the one to report
                    log.exception("abort after an exception in the transaction body failed")
            raise
        try:
            await txn.commit()
        except BaseException:
            if txn.state is S.ABORTABLE_ERROR:
                await txn.abort()
            raise
