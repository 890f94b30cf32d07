"""The sender: one background task that drains ready batches and sends them to their leaders.

Each pass of the loop (woken by the accumulator, a completed request, or a timer):

1. fails batches older than ``delivery_timeout_ms`` with :class:`KafkaTimeoutError`, queued or in
   flight (an in-flight batch's error says its outcome is unknown);
2. for the idempotent producer, gets a producer id, or bumps the epoch when the sequence
   bookkeeping (``kafkaio.producer.idempotence``) found a certain gap (KIP-360);
3. drains the ready batches grouped by leader node (one batch per partition, ``max_request_size``
   per request) for every node below ``max_in_flight_requests_per_connection`` requests in flight,
   and sends one Produce request per node, pipelined on the node's produce connection.

Each response decides, per partition: success (the batch's future gets the base offset), a retry
(back in the front of its queue, in sequence order, after an exponential jittered backoff, while
``retries`` and ``delivery_timeout_ms`` allow; metadata refreshed for leadership errors), or failure
with the broker's typed error. A batch of several records refused with MESSAGE_TOO_LARGE is split
in two and the parts are sent first (``kafkaio.producer.split``). With idempotence, every outcome
goes through the sequence bookkeeping, which alone decides what an answer (or its absence) means for
the partition's sequences: DUPLICATE_SEQUENCE_NUMBER is success for that batch,
OUT_OF_ORDER_SEQUENCE_NUMBER and UNKNOWN_PRODUCER_ID are retried or fail as its rules say.
"""
from __future__ import annotations

import asyncio
import logging
import time
from enum import Enum
from time import monotonic as _monotonic
from typing import TYPE_CHECKING, Any, Callable, cast

from kafkaio.errors import (
    ClusterAuthorizationError,
    ErrorCode,
    FieldEncodeError,
    InvalidProducerEpochError,
    KafkaError,
    KafkaTimeoutError,
    OutOfOrderSequenceNumberError,
    ProducerClosedError,
    ProducerFencedError,
    RecordTooLargeError,
    error_for_code,
)
from kafkaio.producer.accumulator import ProducerBatch, RecordAccumulator
from kafkaio.producer.idempotence import IdempotenceState
from kafkaio.producer.split import SPLIT_BASE_OFFSET, split_batch, when_parts_done
from kafkaio.protocol import LAST_TXN_V1_VERSIONS, ApiKey
from kafkaio.protocol.produce_codec import PartitionData, PartitionResult, ProduceMessage, ProduceResult, TopicData
from kafkaio.retry import ExponentialBackoff

if TYPE_CHECKING:
    from kafkaio.cluster import Cluster
    from kafkaio.conn import BrokerConnection
    from kafkaio.producer.transactions import TransactionManager

log = logging.getLogger("kafkaio.producer")

__all__ = ["Sender"]

PRODUCE_TOPIC_ID_VERSION = 13  # from here on topics are named by id (KIP-516)
_DUPLICATE_SEQUENCE = ErrorCode.DUPLICATE_SEQUENCE_NUMBER
_OUT_OF_ORDER = ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER
_UNKNOWN_PRODUCER_ID = ErrorCode.UNKNOWN_PRODUCER_ID
# InitProducerId errors that say the broker cannot bump the epoch: the producer asks for a new id
_CANNOT_BUMP = frozenset({ErrorCode.UNSUPPORTED_VERSION, ErrorCode.INVALID_PRODUCER_EPOCH,
                          ErrorCode.UNKNOWN_PRODUCER_ID})


def _now_ms() -> float:
    return time.monotonic() * 1000.0


class _ProduceRequest:
    """A produce request that the sender's pass wrote itself, settled by the connection.

    It is the request's :class:`~kafkaio.conn.ResponseSink`: the connection hands it the response
    from the socket's read callback, and the sender settles the batches right there -- without a
    task awaiting a future, which cost one event-loop pass and a task per request on the path of
    every ``send_and_wait``. A failure is settled a loop pass later instead: the connection fails
    requests from inside its own calls (a write that finds the socket broken, a close), and the
    sender's handling must not run inside those.
    """

    __slots__ = ("_sender", "node", "batches", "names", "settled")

    def __init__(self, sender: Sender, node: int, batches: list[ProducerBatch],
                 names: dict[int, str] | None) -> None:
        self._sender = sender
        self.node = node
        self.batches = batches
        self.names = names
        self.settled = False

    def done(self) -> bool:
        return self.settled

    def set_result(self, body: Any) -> None:
        self._sender._settle(self, body, None)

    def set_exception(self, exc: BaseException) -> None:
        try:
            asyncio.get_running_loop().call_soon(self._sender._settle, self, None, exc)
        except RuntimeError:  # no running loop (closing down): settle now
            self._sender._settle(self, None, exc)


class SenderState(Enum):
    """Where the sender is: not started, running, draining (a graceful stop: everything buffered
    is delivered first), forced (stopping now: nothing retried, what is left fails), stopped."""

    NEW = "new"
    RUNNING = "running"
    DRAINING = "draining"
    FORCED = "forced"
    STOPPED = "stopped"


_RUNNING = SenderState.RUNNING  # compared by identity on the per-request path

_TRANSITIONS: dict[SenderState, frozenset[SenderState]] = {
    SenderState.NEW: frozenset({SenderState.RUNNING, SenderState.DRAINING, SenderState.FORCED}),
    SenderState.RUNNING: frozenset({SenderState.DRAINING, SenderState.FORCED}),
    SenderState.DRAINING: frozenset({SenderState.FORCED, SenderState.STOPPED}),
    SenderState.FORCED: frozenset({SenderState.STOPPED}),
    SenderState.STOPPED: frozenset(),
}


class SenderWakeup:
    """The sender's wake-up signal: whoever has work for the sender sets it (the producer, the
    transaction manager); the sender arms it before each pass and waits on it between passes."""

    def __init__(self) -> None:
        self._waiter: asyncio.Future[None] | None = None

    def arm(self) -> asyncio.Future[None]:
        """A fresh waiter, done at the next ``set()``; armed before a pass, a wake-up during the
        pass is not lost."""
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiter = waiter
        return waiter

    def set(self) -> None:
        """Wake the sender (a no-op while it is not waiting and no waiter is armed)."""
        w = self._waiter
        if w is not None and not w.done():
            w.set_result(None)


class Sender:
    """Drains the accumulator and talks Produce (and InitProducerId) to the brokers.

    With ``transactions`` (a transactional producer), the manager owns the producer id, decides
    which partitions may be drained (``partition_gate``), hears of every batch that fails for good
    (``on_batch_failed``), and its fatal error stops the sender as the sender's own does.
    ``wakeup`` is the signal the sender waits on, shared with whoever else has work for it.
    """

    def __init__(
        self,
        cluster: Cluster,
        accumulator: RecordAccumulator,
        *,
        acks: int,
        retries: int,
        request_timeout_ms: float,
        retry_backoff_ms: float,
        retry_backoff_max_ms: float,
        max_in_flight: int,
        idempotence: IdempotenceState | None,
        transactional_id: str | None = None,
        transaction_timeout_ms: int = 60000,
        rewrite_producer_state: Callable[[bytes, int, int, int], bytes] | None = None,
        transactions: TransactionManager | None = None,
        wakeup: SenderWakeup | None = None,
    ) -> None:
        self._cluster = cluster
        self._metadata = cluster.metadata_cell  # its current metadata, read per request
        self._acc = accumulator
        self._acks = acks
        self._retries = retries
        self._request_timeout_ms = float(request_timeout_ms)
        self._timeout_ms = int(request_timeout_ms)  # as the Produce request carries it
        self._backoff = ExponentialBackoff(retry_backoff_ms, retry_backoff_max_ms)
        self._max_in_flight = max_in_flight
        self._idem = idempotence
        self._transactional_id = transactional_id
        self._transaction_timeout_ms = transaction_timeout_ms
        self._rewrite = rewrite_producer_state
        self._in_flight: dict[int, int] = {}  # produce requests out per node (only nodes with some)
        self._tasks: set[asyncio.Task[None]] = set()
        self._requests: set[_ProduceRequest] = set()  # written by a pass, response not yet settled
        # batches in an unanswered produce request (they expire at delivery_timeout_ms there too)
        self._in_flight_batches: dict[ProducerBatch, None] = {}
        self._muted: set[tuple[str, int]] = set()
        self._guarantee_order = max_in_flight == 1
        self._task: asyncio.Task[None] | None = None
        self._wakeup = wakeup if wakeup is not None else SenderWakeup()
        self.state = SenderState.NEW
        self._fatal_error: KafkaError | None = None
        self.last_ack: float | None = None   # time.monotonic() of the last batch acknowledged
        self._init_attempts = 0
        self._fresh_id_needed = False
        self.transactions = transactions
        self._in_pass = False
        # kafkaio.metrics, counted per batch and per request: records, batches and their bytes per
        # attempt sent (as Java's record-send-total), records sent again after a retriable error,
        # batches split after MESSAGE_TOO_LARGE, each built batch's compressed/uncompressed size
        # ratio summed over the batches built, produce requests written
        self.records_sent = 0
        self.batches_sent = 0
        self.bytes_sent = 0
        self.records_retried = 0
        self.batches_split = 0
        self.compression_ratio_total = 0.0
        self.batches_built = 0
        self.produce_requests = 0

    # -- lifecycle ----------------------------------------------------------------------------
    def _move(self, new: SenderState) -> None:
        if new not in _TRANSITIONS[self.state]:
            raise AssertionError(f"sender: {self.state.value} -> {new.value} is not allowed")
        self.state = new

    def start(self) -> None:
        self._move(SenderState.RUNNING)
        self._task = asyncio.get_running_loop().create_task(self._run(), name="kafkaio-producer-sender")

    def wakeup(self) -> None:
        self._wakeup.set()

    @property
    def fatal_error(self) -> KafkaError | None:
        """The error that stopped the sender: its own, else the transaction manager's fatal one."""
        if self._fatal_error is not None:
            return self._fatal_error
        txn = self.transactions
        return txn.fatal_error if txn is not None else None

    def ship_now(self, tp: tuple[str, int]) -> None:
        """Drain and send the ready batch of partition ``tp`` now, from the caller, when the sender
        is idle.

        For ``send_and_wait`` with ``linger_ms=0`` (see the accumulator's ``append``): the sender's
        own pass would run one event-loop pass later, on the critical path of the round trip.
        Only when nothing is in flight (concurrent senders keep filling one batch while a request
        is out, as before), no pass is under way and there is no producer-id, transaction or fatal
        state to handle first; otherwise, and for anything this leaves queued, the sender is woken."""
        idem = self._idem
        # self.fatal_error is the sender's own here: a transactional producer is excluded first
        if (self._in_pass or self.state is not _RUNNING or self.transactions is not None
                or self._fatal_error is not None or self._in_flight
                or (idem is not None and (idem.epoch_bump_needed or idem.producer_id < 0))):
            self.wakeup()
            return
        acc = self._acc
        # nothing in flight and no transactions: every node is below its in-flight limit (at least
        # 1), and of _can_drain's rules only the sequence order is left (a partition is muted only
        # while a request of it is out)
        node_available = None if self._max_in_flight > 0 else self._node_available
        can_drain = self._can_drain if self._muted else (idem.can_drain if idem is not None else None)
        try:
            batch, node, _, leader_unknown = acc.drain_one(
                tp, _monotonic() * 1000.0, self._metadata.current.leader_for, node_available, can_drain)
            if batch is not None and self._prepare(batch):
                self._dispatch(node, [batch])
        except Exception:  # noqa: BLE001 - the sender's pass takes over (and logs it there too)
            log.exception("kafkaio producer: error sending from send_and_wait; the sender retries")
            leader_unknown = True
        if leader_unknown or acc.has_undrained():
            self.wakeup()

    @property
    def in_flight_requests(self) -> int:
        return sum(self._in_flight.values())

    async def stop(self, force: bool = False) -> None:
        """Stop after everything buffered was delivered (or, with ``force``, right away)."""
        if self.state is SenderState.STOPPED:
            return
        if force and self.state is not SenderState.FORCED:
            self._move(SenderState.FORCED)
        elif not force and self.state in (SenderState.NEW, SenderState.RUNNING):
            self._move(SenderState.DRAINING)
        self.wakeup()
        if force and self._task is not None:
            self._task.cancel()  # e.g. stuck waiting for InitProducerId from an unreachable broker
        if self._task is not None:
            try:
                await self._task
            except asyncio.CancelledError:
                pass
        if force:
            for t in list(self._tasks):
                t.cancel()
            for req in list(self._requests):
                self._settle(req, None, None)  # fails its batches: closed with them in flight
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        if self.state in (SenderState.DRAINING, SenderState.FORCED):   # not stopped by a concurrent stop()
            self._move(SenderState.STOPPED)

    # -- main loop ----------------------------------------------------------------------------
    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        acc = self._acc
        while True:
            # a fresh waiter before the pass: a wake-up during the pass is not lost
            waiter = self._wakeup.arm()
            try:
                state = self.state
                if state is SenderState.FORCED or (state is SenderState.DRAINING and (
                        acc.incomplete_count == 0 and not self._tasks and not self._requests)):
                    return
                fatal = self.fatal_error
                if fatal is not None:
                    acc.abort_queued(lambda b: fatal)
                    delay = float("inf")
                else:
                    self._in_pass = True
                    try:
                        delay = await self._run_once()
                    finally:
                        self._in_pass = False
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - the sender must never die silently
                log.exception("kafkaio producer sender loop error; retrying")
                delay = self._backoff.initial_ms
            handle = None
            if delay != float("inf"):
                handle = loop.call_later(max(delay, 0.0) / 1000.0, self.wakeup)
            try:
                await waiter
            finally:
                if handle is not None:
                    handle.cancel()

    async def _run_once(self) -> float:
        """One pass; returns milliseconds until the next pass is needed without an event."""
        acc = self._acc
        now = _now_ms()
        for batch in acc.expire(now):
            self._expire(batch, now, in_flight=False)
        next_in_flight_expiry = float("inf")
        if self._in_flight_batches:
            for batch in list(self._in_flight_batches):
                if acc.is_complete(batch):
                    continue
                if batch.deadline_ms <= now:
                    self._expire(batch, now, in_flight=True)  # as Java's getExpiredInflightBatches
                else:
                    next_in_flight_expiry = min(next_in_flight_expiry, batch.deadline_ms)
        idem = self._idem
        if idem is not None and self.transactions is None:
            if idem.epoch_bump_needed and idem.has_producer_id and not self._fresh_id_needed:
                old = idem.producer_epoch
                reason = idem.bump_reason or "sequence gap"
                if idem.bump_epoch_locally():
                    # KIP-360 for the idempotent producer: the client bumps its own epoch; the
                    # broker accepts sequence 0 from the higher epoch of the same producer id. Only
                    # the partitions that asked for it move at once; the others when their batches
                    # in flight have settled, so no request is held back for it.
                    log.info("idempotent producer %d: epoch bumped %d -> %d (%s)", idem.producer_id,
                             old, idem.producer_epoch, reason)
                    self._fail_refused()
                else:
                    self._fresh_id_needed = True  # the epoch is exhausted: a new producer id
            if not idem.has_producer_id or self._fresh_id_needed:
                return await self._init_producer_id()
        batches_by_node, next_check, leader_unknown = acc.drain(
            now, self._cluster.leader_for, self._node_available, self._can_drain)
        if leader_unknown:
            self._cluster.request_refresh()
            next_check = min(next_check, now + self._backoff.initial_ms)
        for node, batches in batches_by_node.items():
            self._send(node, batches)
            for batch in batches:  # the sender must wake at their deadline while they are out
                next_in_flight_expiry = min(next_in_flight_expiry, batch.deadline_ms)
        return min(next_check, acc.next_expiry_ms(), next_in_flight_expiry) - now

    def _fail_refused(self) -> None:
        """Fail the batches the epoch bump refused: certainly not written, and a later batch of
        their partition may be, so they can no longer be written in order."""
        idem = self._idem
        assert idem is not None  # only an idempotent producer bumps its epoch
        for batch in idem.take_refused():
            self._acc.unqueue(batch)
            self._fail(batch, OutOfOrderSequenceNumberError(
                f"{batch.topic}-{batch.partition}: not written, and a later batch of the partition may "
                f"have been: it cannot be written in order any more (last error: {batch.last_error})"))

    def _expire(self, batch: ProducerBatch, now: float, in_flight: bool) -> None:
        """Fail ``batch`` at its delivery timeout, queued or in flight (Java's expiry of both)."""
        last = f"; last error after {batch.attempts} attempt(s): {batch.last_error}" \
            if batch.last_error is not None else ""
        count = batch.records_appended
        where = "in flight, outcome unknown: it may have been written" if in_flight else "queued"
        self._fail(batch, KafkaTimeoutError(
            f"expiring {count} record(s) for {batch.topic}-{batch.partition} ({where}): "
            f"{(now - batch.created_ms):.0f} ms has passed since batch creation "
            f"(delivery_timeout_ms={self._acc.delivery_timeout_ms:.0f}){last}"))

    def _node_available(self, node: int) -> bool:
        return self._in_flight.get(node, 0) < self._max_in_flight

    def _can_drain(self, batch: ProducerBatch) -> bool:
        if self._guarantee_order and batch.tp in self._muted:
            return False
        if self._idem is not None and not self._idem.can_drain(batch):
            return False
        txn = self.transactions
        return txn is None or txn.partition_gate(batch)

    # -- producer id --------------------------------------------------------------------------
    async def _init_producer_id(self) -> float:
        """One InitProducerId attempt: a new producer id, or (transactional, KIP-360) the same id
        with the next epoch. Returns the delay before the sender's next pass (a backoff after a
        failure, so that queued batches keep expiring on time while the broker is unreachable)."""
        from kafkaio.protocol import ApiKey

        idem = self._idem
        assert idem is not None
        bump = idem.has_producer_id and not self._fresh_id_needed
        body = {
            "transactional_id": self._transactional_id,
            "transaction_timeout_ms": self._transaction_timeout_ms,
            "producer_id": idem.producer_id if bump else -1,
            "producer_epoch": idem.producer_epoch if bump else -1,
        }
        try:
            resp = await self._cluster.request(None, ApiKey.INIT_PRODUCER_ID, body,
                                               timeout_ms=self._request_timeout_ms)
            code = resp["error_code"]
            if code:
                raise error_for_code(code)(self._init_refusal(code, idem.bump_reason or "start"))
        except (ProducerFencedError, InvalidProducerEpochError, ClusterAuthorizationError) as exc:
            self._fatal(exc)
            return float("inf")
        except KafkaError as exc:
            if bump and exc.errno in _CANNOT_BUMP:
                self._fresh_id_needed = True
            elif not exc.retriable:
                self._fatal(exc)
                return float("inf")
            self._init_attempts += 1
            log.debug("InitProducerId failed (%r); retrying", exc)
            return self._backoff.backoff_ms(self._init_attempts - 1)
        self._init_attempts = 0
        self._fresh_id_needed = False
        old_epoch = idem.producer_epoch
        idem.set_producer_id(resp["producer_id"], resp["producer_epoch"])
        if bump:
            log.info("producer %s: epoch %d -> %d", resp["producer_id"], old_epoch, resp["producer_epoch"])
        self._fail_refused()
        return 0.0

    def _init_refusal(self, code: int, reason: str) -> str:
        """What to tell the user when InitProducerId is refused with ``code``."""
        if code == ErrorCode.CLUSTER_AUTHORIZATION_FAILED and self._transactional_id is None:
            # KIP-679: the broker grants an idempotent producer id for either right
            return (f"InitProducerId refused ({reason}): the idempotent producer needs IDEMPOTENT_WRITE "
                    f"on the cluster or WRITE on a topic; grant one, or set enable_idempotence=False "
                    f"(at-least-once, duplicates possible on retries)")
        return f"InitProducerId failed ({reason})"

    def _fatal(self, exc: KafkaError) -> None:
        self._fatal_error = exc
        log.error("kafkaio producer: fatal error, failing every buffered record: %r", exc)
        self._acc.abort_queued(lambda b: exc)

    # -- sending ------------------------------------------------------------------------------
    def _prepare(self, batch: ProducerBatch) -> bool:
        """Build the batch's bytes at its first drain, with sequence numbers when idempotent, and
        count it as sent and in flight; False: it could not be built, and it was failed alone."""
        idem = self._idem
        try:
            if batch.data is None:
                # closed by the drain that took it (its record count is final)
                builder = batch.builder
                assert builder is not None  # dropped only once the data is built
                uncompressed = builder.estimated_size()
                if idem is not None:
                    seq = idem.assign(batch)
                    data = builder.build(batch.producer_id, batch.producer_epoch, seq)
                else:
                    data = builder.build()
                batch.data = data
                batch.builder = None
                self.compression_ratio_total += len(data) / uncompressed
                self.batches_built += 1
            elif idem is not None and batch.base_sequence < 0:
                # certainly not written, sequenced again after an epoch bump: patch the built header
                seq = idem.assign(batch)
                rewrite = self._rewrite
                assert rewrite is not None and batch.data is not None  # given with idempotence; built
                batch.data = rewrite(batch.data, batch.producer_id, batch.producer_epoch, seq)
            if idem is not None:
                idem.sent(batch)
            batch.attempts += 1
            batch.in_retry = False
        except KafkaError as exc:
            self._fail(batch, exc)
            return False
        except Exception as exc:  # noqa: BLE001 - e.g. a codec failure fails this batch only
            self._fail(batch, KafkaError(f"cannot encode batch for {batch.topic}-{batch.partition}: {exc!r}"))
            return False
        if self._guarantee_order:
            self._muted.add(batch.tp)
        self._in_flight_batches[batch] = None
        self.records_sent += batch.record_count
        assert batch.data is not None  # built above
        self.bytes_sent += len(batch.data)
        self.batches_sent += 1
        return True

    def _send(self, node: int, batches: list[ProducerBatch]) -> None:
        """One produce request to ``node`` with those of ``batches`` that could be built."""
        ready = [batch for batch in batches if self._prepare(batch)]
        if ready:
            self._dispatch(node, ready)

    def _dispatch(self, node: int, batches: list[ProducerBatch]) -> None:
        """Send the request of ``batches`` (prepared): written at once when :meth:`_start_produce`
        can, else by a :meth:`_produce` task."""
        self.produce_requests += 1
        in_flight = self._in_flight
        in_flight[node] = in_flight.get(node, 0) + 1
        if self._start_produce(node, batches):
            return
        task = asyncio.get_running_loop().create_task(self._produce(node, batches))
        self._tasks.add(task)
        task.add_done_callback(self._request_done)

    def _start_produce(self, node: int, batches: list[ProducerBatch]) -> bool:
        """Write the produce request now, within the sender's pass, when that is safe; its
        response then settles the batches from the connection's read callback
        (:class:`_ProduceRequest`). False leaves it all to a :meth:`_produce` task.

        A request's task would put it on the wire one event-loop pass later, on the critical path
        of every send_and_wait. Only when nothing else is in flight to the node (no earlier request still waiting for its
        connection can be overtaken, and at most one request skips the write-buffer drain), the
        connection is already open, a response is expected (acks != 0) and no transaction needs a
        pinned Produce version."""
        if self._acks == 0 or self.transactions is not None or self._in_flight.get(node, 0) > 1:
            return False
        conn = self._cluster.ready_connection(node, "produce")
        if conn is None:
            return False
        req = _ProduceRequest(self, node, batches, None)
        self._requests.add(req)
        try:
            message, version, req.names = self._request(conn, batches)
        except Exception as exc:  # noqa: BLE001 - a bug must fail the batches, not strand them
            self._start_failed(req, exc, False)  # no version to build it with: not written
            return True
        try:
            conn.start_request(ApiKey.PRODUCE, message, version, self._request_timeout_ms, req)
        except Exception as exc:  # noqa: BLE001 - a bug must fail the batches, not strand them
            # an error other than a KafkaError is a bug of the encoding, before the write: the
            # connection raises the transport's own errors as KafkaConnectionError
            self._start_failed(req, exc, isinstance(exc, KafkaError) and _may_have_written(exc))
        return True

    def _start_failed(self, req: _ProduceRequest, exc: Exception, written: bool) -> None:
        """:meth:`_start_produce` could not write ``req``: settled a loop pass later like any failed
        request, as ``written`` says."""
        if not isinstance(exc, KafkaError):
            log.exception("kafkaio producer: cannot write a produce request")
            exc = KafkaError(f"cannot write the produce request: {exc!r}")
        asyncio.get_running_loop().call_soon(self._settle, req, None, exc, written)

    def _settle(self, req: _ProduceRequest, resp: ProduceResult | None, exc: BaseException | None,
                written: bool = True) -> None:
        """The outcome of a request :meth:`_start_produce` started: its response, or the error
        that failed it (``written`` False: raised before the request was written); neither
        (``stop(force=True)``): the producer closed with it in flight."""
        if req.settled:
            return
        req.settled = True
        self._requests.discard(req)
        batches = req.batches
        try:
            if resp is not None:
                self._handle_response(batches, resp, req.names)
            elif exc is None:
                self._unanswered(batches)
            elif isinstance(exc, KafkaError):
                self._request_failed(batches, exc, written)
            else:
                raise exc
        except Exception as err:  # noqa: BLE001 - never leave a batch undecided
            log.exception("kafkaio producer: unexpected error handling a produce response")
            self._unanswered(batches, err)
        finally:
            self._request_finished(req.node, batches)

    def _request_finished(self, node: int, batches: list[ProducerBatch]) -> None:
        in_flight = self._in_flight
        left = in_flight[node] - 1
        if left:
            in_flight[node] = left
        else:
            del in_flight[node]
        in_flight_batches = self._in_flight_batches
        for b in batches:
            in_flight_batches.pop(b, None)
        if self._guarantee_order:
            for b in batches:
                self._muted.discard(b.tp)
        # A pass only when the finished request leaves the sender a reason for one: batches queued
        # (they may have waited for this request's in-flight slot or partition), closing, a fatal
        # error, producer-id work, or transactions (whose manager watches the sender's progress).
        # Otherwise the pass would find nothing to do; skipping it saves one per send_and_wait.
        # Transactions first: without them, the fatal error is the sender's own (see fatal_error).
        idem = self._idem
        if (self.state is not _RUNNING or self.transactions is not None or self._fatal_error is not None
                or (idem is not None and (idem.epoch_bump_needed or idem.producer_id < 0))
                or self._acc.has_undrained()):
            self.wakeup()

    def _request_done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        self.wakeup()

    def _request_message(self, batches: list[ProducerBatch]) -> tuple[ProduceMessage, dict[int, str] | None]:
        """The Produce request, each topic with its name and its id (the version picks one), and
        the topics by id (``UUID.int``) when every topic has a known id (else None: the request
        names them). Ids are keyed by their integer, whose hash and equality are C calls, not UUID's."""
        known = self._metadata.current.topics
        by_name: dict[str, list[PartitionData]] = {}
        names: dict[int, str] | None = {}
        topics: list[TopicData] = []
        for b in batches:
            topic = b.topic
            parts = by_name.get(topic)
            if parts is None:
                parts = by_name[topic] = []
                info = known.get(topic)
                tid = info.topic_id if info is not None else None
                tid_int = tid.int if tid is not None else 0
                if not tid_int:
                    names = None
                elif names is not None:
                    names[tid_int] = topic
                topics.append((topic, tid_int, parts))
            parts.append((b.partition, b.data))
        return ProduceMessage(self._transactional_id, self._acks, self._timeout_ms, topics), names

    def _request(self, conn: BrokerConnection, batches: list[ProducerBatch]
                 ) -> tuple[ProduceMessage, int, dict[int, str] | None]:
        """The Produce request for ``batches``, its version, and the topics by id when that version
        names them by id (else None).

        As the Java 4.4 client: classic transactions stop at the last version before KIP-890's
        (11); otherwise the newest both sides speak (13+ name topics by id), except that a request
        with a topic whose id the metadata lacks stays at the last version with names (12)."""
        version = conn.version(ApiKey.PRODUCE)
        txn = self.transactions
        if txn is None and len(batches) == 1:  # the usual request (every send_and_wait's): no grouping
            b = batches[0]
            info = self._metadata.current.topics.get(b.topic)
            tid = info.topic_id if info is not None else None
            only_id = tid.int if tid is not None else 0
            message = ProduceMessage(self._transactional_id, self._acks, self._timeout_ms,
                                     ((b.topic, only_id, ((b.partition, b.data),)),))
            if not only_id:
                return message, min(version, PRODUCE_TOPIC_ID_VERSION - 1), None
            return message, version, ({only_id: b.topic} if version >= PRODUCE_TOPIC_ID_VERSION else None)
        message, names = self._request_message(batches)
        if txn is not None and not txn.protocol_v2:
            version = min(version, LAST_TXN_V1_VERSIONS[ApiKey.PRODUCE])
        elif names is None:
            version = min(version, PRODUCE_TOPIC_ID_VERSION - 1)
        return message, version, (names if version >= PRODUCE_TOPIC_ID_VERSION else None)

    async def _produce(self, node: int, batches: list[ProducerBatch]) -> None:
        """Send one produce request and settle its batches from the response."""
        try:
            try:
                conn = await self._cluster.connection(node, purpose="produce")
                message, version, names = self._request(conn, batches)
            except KafkaError as exc:  # no connection to write the request on
                self._request_failed(batches, exc, written=False)
                return
            try:
                if self._acks == 0:
                    await conn.request(ApiKey.PRODUCE, message, version=version, expect_response=False)
                    for b in batches:
                        self._complete(b, -1, -1)
                    return
                resp = cast(ProduceResult, await conn.request(ApiKey.PRODUCE, message, version=version,
                                                              timeout_ms=self._request_timeout_ms))
            except KafkaError as exc:
                self._request_failed(batches, exc, written=_may_have_written(exc))
                return
            self._handle_response(batches, resp, names)
        except asyncio.CancelledError:
            self._unanswered(batches)
            raise
        except Exception as exc:  # noqa: BLE001 - never leave a batch undecided
            log.exception("kafkaio producer: unexpected error handling a produce response")
            self._unanswered(batches, exc)
        finally:
            self._request_finished(node, batches)

    def _unanswered(self, batches: list[ProducerBatch], error: Exception | None = None) -> None:
        """Fail ``batches`` whose request ended with nothing that settles them: the producer closed
        with them in flight (``error`` None), or an unexpected error (a bug). The request may have
        been written, so the outcome is unknown; the attempt is over, so the idempotent partition
        resolves its sequences (a batch still counted as awaiting its answer would hold it forever)."""
        idem = self._idem
        for b in batches:
            if idem is not None:
                idem.no_answer(b)
            self._fail(b, ProducerClosedError(
                f"the producer was closed with {b.topic}-{b.partition} in flight; outcome unknown")
                if error is None else KafkaError(f"unexpected producer error: {error!r}"))

    def _request_failed(self, batches: list[ProducerBatch], exc: KafkaError, written: bool) -> None:
        """A produce request failed without an answer: after it may have been written (``written``),
        or before any byte of it was."""
        if exc.invalid_metadata or isinstance(exc, KafkaTimeoutError):
            self._cluster.request_refresh()
        for b in batches:
            self._handle_error(b, exc, from_response=False, written=written)

    def _handle_response(self, batches: list[ProducerBatch], resp: ProduceResult,
                         names: dict[int, str] | None) -> None:
        """Settle ``batches`` from the answer; ``names``: the topics by id (``UUID.int``) as the
        request named them (None: the request, and so the answer, named them by name)."""
        if len(batches) == 1:
            # every send_and_wait's request: an answer that is a success for its one partition and
            # nothing else completes the batch in place (no dict of results, no call); any other
            # answer goes the general way below
            b = batches[0]
            topics = resp.topics
            if len(topics) == 1:
                name, topic_id, parts = topics[0]
                if len(parts) == 1 and (name if names is None else names.get(topic_id)) == b.topic:
                    only = parts[0]
                    if only[0] == b.partition and not only[1]:
                        idem = self._idem
                        if idem is not None:
                            idem.acknowledged(b)
                        self.last_ack = _monotonic()
                        self._acc.complete(b, only[2], only[3])  # _complete(), inline
                        return
        results: dict[tuple[str, int], PartitionResult] = {}
        for name, topic_id, parts in resp.topics:
            if names is not None:
                name = names.get(topic_id)
            if name is None:
                continue  # an id the request did not name: none of its batches
            for part in parts:
                results[(name, part[0])] = part
        for b in batches:
            p = results.get(b.tp)
            if p is None:
                self._handle_error(b, KafkaError(
                    f"the broker's produce response has no result for {b.topic}-{b.partition}"), False)
                continue
            _, code, base_offset, log_append_time, _, record_errors, error_message, _, _ = p
            if not code:
                self._complete(b, base_offset, log_append_time)
            elif code == _DUPLICATE_SEQUENCE:
                # the broker already has this batch (written by an earlier attempt): success
                self._complete(b, -1, -1)
            else:
                msg = error_message or None
                if record_errors:
                    details = "; ".join(f"record {index}: {message}" for index, message in record_errors)
                    msg = f"{msg or ''} ({details})".strip()
                exc = error_for_code(code)(f"{b.topic}-{b.partition}: {msg}" if msg else f"{b.topic}-{b.partition}")
                if exc.invalid_metadata:
                    self._cluster.request_refresh()
                self._handle_error(b, exc, from_response=True)

    # -- outcomes -----------------------------------------------------------------------------
    def _complete(self, batch: ProducerBatch, base_offset: int, log_append_time: int) -> None:
        """The broker acknowledged ``batch`` (even after the producer gave up on it: the
        idempotence bookkeeping still learns that its sequences are written)."""
        if self._idem is not None:
            self._idem.acknowledged(batch)
        self.last_ack = _monotonic()
        self._acc.complete(batch, base_offset, log_append_time)

    def _fail(self, batch: ProducerBatch, exc: BaseException) -> None:
        """Fail ``batch`` for good (once); when an attempt may have written it, its error says that
        the outcome is unknown."""
        if self._acc.is_complete(batch):
            return
        if self._idem is not None and self._idem.gave_up(
                batch, f"{type(exc).__name__} on {batch.topic}-{batch.partition}") \
                and isinstance(exc, KafkaError) and "outcome unknown" not in str(exc):
            exc = _outcome_unknown(exc)
        self._acc.fail(batch, exc)
        if self.transactions is not None:
            self.transactions.on_batch_failed(batch, exc)

    def _handle_error(self, batch: ProducerBatch, exc: KafkaError, from_response: bool,
                      written: bool = True) -> None:
        """An attempt of ``batch`` failed: with the broker's error for it (``from_response``), or
        without an answer, its request possibly written or (``written`` False) certainly not. Retry,
        split or fail it, as the error and the sequence rules say."""
        idem = self._idem
        if idem is not None:
            if from_response or not written:
                idem.refused(batch)  # this attempt wrote nothing
            else:
                idem.no_answer(batch)
        if self._acc.is_complete(batch):
            return  # its delivery timeout passed while in flight: failed already
        retriable = exc.retriable
        if idem is not None and from_response:
            errno = exc.errno
            if errno == _OUT_OF_ORDER:
                retriable = idem.out_of_order(batch)
            elif errno == _UNKNOWN_PRODUCER_ID:
                # the broker lost our producer state: the idempotent producer bumps the partition's
                # epoch and sends again from sequence 0 (KIP-360); in a transaction the batch fails,
                # the transaction must be aborted, and the abort bumps the epoch
                idem.unknown_producer(batch)
                retriable = not idem.transactional
            elif isinstance(exc, (ProducerFencedError, InvalidProducerEpochError)):
                if batch.producer_epoch == idem.producer_epoch:
                    self._fatal(exc)
                    self._fail(batch, exc)
                    return
                retriable = False  # an older epoch's batch: it fails, the producer goes on
        now = _now_ms()
        if isinstance(exc, RecordTooLargeError):
            if (from_response and batch.record_count > 1 and now < batch.deadline_ms
                    and self.state is not SenderState.FORCED and self.fatal_error is None
                    and self._split(batch, exc)):
                return
            retriable = False
        can_retry = (
            retriable
            and batch.attempts <= self._retries
            and now < batch.deadline_ms
            and self.state is not SenderState.FORCED
            and self.fatal_error is None
        )
        if can_retry:
            self.records_retried += batch.record_count
            batch.last_error = exc
            delay = self._backoff.backoff_ms(batch.attempts - 1)
            log.debug("retrying %s-%s (attempt %d) in %.0f ms after %r", batch.topic, batch.partition,
                      batch.attempts, delay, exc)
            self._acc.reenqueue(batch, now + delay)
            self.wakeup()
            return
        if retriable and now >= batch.deadline_ms:
            exc = KafkaTimeoutError(
                f"{batch.topic}-{batch.partition}: delivery_timeout_ms={self._acc.delivery_timeout_ms:.0f} "
                f"passed after {batch.attempts} attempt(s); last error: {exc}")
        self._fail(batch, exc)

    def _split(self, batch: ProducerBatch, exc: KafkaError) -> bool:
        """MESSAGE_TOO_LARGE for a batch of several records: it was not written, so split it in two
        and send the parts first, in order (only a single record still too large fails). With
        idempotence the parts take over the batch's sequences (:meth:`IdempotenceState.split`)."""
        try:
            parts = split_batch(batch, self._acc.new_builder)
        except Exception:  # noqa: BLE001 - undecodable bytes: fail the batch as before
            log.exception("cannot split %r refused with MESSAGE_TOO_LARGE", batch)
            return False
        idem = self._idem
        if idem is not None:
            idem.split(batch, parts)
        for part in parts:
            self._acc.track(part)
            builder = part.builder
            assert builder is not None  # a new part, not built yet
            if part.base_sequence >= 0:
                part.data = builder.build(part.producer_id, part.producer_epoch, part.base_sequence)
            else:  # when idempotent, sequenced (header rewritten) at its first drain
                part.data = builder.build()
            part.builder = None
            part.last_error = exc
        # the original batch's future (each record's awaitable) resolves once every part is done
        when_parts_done(parts, lambda: self._acc.complete(batch, SPLIT_BASE_OFFSET, -1))
        self.batches_split += 1
        log.info("%s-%s: batch of %d records refused with MESSAGE_TOO_LARGE; split into %s and resent",
                 batch.topic, batch.partition, batch.record_count, [p.record_count for p in parts])
        now = _now_ms()
        # at the front of the queue in order: sequenced parts are placed by sequence, others pushed
        for part in (parts if parts[0].base_sequence >= 0 else reversed(parts)):
            self._acc.reenqueue(part, now)
        self.wakeup()
        return True


def _may_have_written(exc: KafkaError) -> bool:
    """Whether a produce request whose write raised ``exc`` may have reached the broker, whichever
    path wrote it. An encode failure comes before any byte is written; any other error may come
    after part or all of the request was (a transport can take part of a frame before its write
    fails), and the broker may have appended it."""
    return not isinstance(exc, FieldEncodeError)


def _outcome_unknown(exc: KafkaError) -> KafkaError:
    """``exc`` again, saying that an earlier attempt may have written the batch."""
    return type(exc)(f"{exc.message or exc}; outcome unknown: an earlier attempt may have written it")
