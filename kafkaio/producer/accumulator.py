"""The record accumulator: per-partition queues of batches, bounded by ``buffer_memory``.

``send()`` appends a record into the open (last) batch of its partition's queue; when that batch is
full a new one is started. Each batch reserves ``max(batch_size, record size)`` bytes of the
``buffer_memory`` budget until it is completed; when the budget is used up, ``send()`` waits (FIFO)
for space for up to ``max_block_ms``, then fails with :class:`BufferExhaustedError` (a
``KafkaTimeoutError``).

The sender asks :meth:`RecordAccumulator.drain` for the batches that are ready (full, lingered long
enough, retry backoff over, or a flush/close is under way), grouped by leader node, at most one
batch per partition per request and at most ``max_request_size`` bytes per request. Batches waiting
in a queue longer than ``delivery_timeout_ms`` are expired by :meth:`expire`.
"""
from __future__ import annotations

import asyncio
import time
from bisect import bisect_left
from collections import deque
from time import monotonic as _monotonic
from typing import TYPE_CHECKING, Any, Callable, Iterable, Mapping, NamedTuple, Sequence, cast

from kafkaio.errors import (
    BufferExhaustedError,
    IllegalStateError,
    KafkaError,
    ProducerClosedError,
    RecordTooLargeError,
)
from kafkaio.producer.future import OpenBatch, PartitionAppender, RecordFuture, UntrackedFutures
from kafkaio.producer.idempotence import BatchSequence
from kafkaio.producer.partitioner import StickyPartitioner, murmur2

if TYPE_CHECKING:
    from kafkaio._speedups.delivery import MetadataSource
    from kafkaio.records import BatchBuilder

__all__ = ["AppendResult", "ProducerBatch", "RecordAccumulator", "record_size_upper_bound", "BATCH_OVERHEAD",
           "RECORD_SIZE_BOUND_OVERHEAD"]

# A v2 batch header is 61 bytes; a record adds at most 5+1+8+5+5+5+5 bytes of varints/attributes
# around its key, value and headers (Java's DefaultRecord.MAX_RECORD_OVERHEAD is 21).
BATCH_OVERHEAD = 61
RECORD_OVERHEAD = 21
# send()'s size bound of a record without headers: the two above plus its key and value
RECORD_SIZE_BOUND_OVERHEAD = BATCH_OVERHEAD + RECORD_OVERHEAD

TopicPartitionKey = tuple[str, int]  # (topic, partition)


def record_size_upper_bound(key: bytes | None, value: bytes | None, headers: Any) -> int:
    """An upper bound of the bytes one record takes in its own batch (Java's estimate)."""
    size = BATCH_OVERHEAD + RECORD_OVERHEAD
    if key is not None:
        size += len(key)
    if value is not None:
        size += len(value)
    if headers:
        for hk, hv in headers:
            size += 10 + len(hk) * 3 + (len(hv) if hv is not None else 0)
    return size


def _now_ms() -> float:
    return time.monotonic() * 1000.0


class AppendResult(NamedTuple):
    """What :meth:`RecordAccumulator.append` did, for the producer to wake the sender (as Java's
    ``RecordAppendResult``): a batch ahead of the open one is sendable (``batch_is_full``), or a
    batch was started (``new_batch_created``: the sender learns its linger deadline); and the bytes
    the record added to its batch, a new batch's header included (``appended_bytes``: what the
    sticky partitioner counts)."""

    future: RecordFuture
    batch_is_full: bool
    new_batch_created: bool
    appended_bytes: int


_INF = float("inf")  # a constant, not a call per drain_one()

# AppendResult(...) without the namedtuple's Python-level __new__: once per new batch
_new_result = cast(Callable[[type[AppendResult], tuple[RecordFuture, bool, bool, int]], AppendResult], tuple.__new__)


class ProducerBatch(OpenBatch):
    """Records for one partition, sent and acknowledged together; one future for all of them.

    Its ``builder`` and ``untracked`` are :class:`OpenBatch`'s (what the append path reads)."""

    builder: BatchBuilder | None

    __slots__ = (
        "topic", "partition", "tp", "future", "created_ms", "deadline_ms", "reserved",
        "attempts", "retry_at_ms", "data", "base_sequence", "producer_id", "producer_epoch",
        "record_count", "last_error", "in_retry", "split_parts",
        "seq_state", "maybe_written", "awaiting_answer",
    )

    def __init__(self, topic: str, partition: int, builder: BatchBuilder | None,
                 future: asyncio.Future[tuple[int, int]],
                 created_ms: float, delivery_timeout_ms: float, reserved: int) -> None:
        self.topic = topic
        self.partition = partition
        self.tp = (topic, partition)
        self.builder = builder
        self.future = future
        self.created_ms = created_ms
        self.deadline_ms = created_ms + delivery_timeout_ms
        self.reserved = reserved
        self.attempts = 0
        self.retry_at_ms = 0.0
        self.data: bytes | None = None        # built bytes once drained
        self.base_sequence = -1               # assigned at first drain when idempotent
        self.producer_id = -1
        self.producer_epoch = -1
        self.record_count = 0
        self.last_error: BaseException | None = None
        self.in_retry = False
        # set when the broker refused it as too large and it was split: per offset delta, the part
        # holding that record and its delta there (kafkaio.producer.split)
        self.split_parts: list[tuple[ProducerBatch, int]] | None = None
        # the idempotence bookkeeping's (kafkaio.producer.idempotence): where the batch stands with
        # its sequence, and whether an attempt may have written it
        self.seq_state = BatchSequence.UNSEQUENCED
        self.maybe_written = False
        self.awaiting_answer = False
        # the record futures the compiled append path left out of the cyclic GC: given back to it
        # (track_all) before anything reachable from the batch can refer to them (a waiter, an
        # error, split parts), forgotten once it is delivered cleanly
        self.untracked = UntrackedFutures()

    @property
    def size(self) -> int:
        """Bytes of the batch as it will be (or was) sent."""
        if self.data is not None:
            return len(self.data)
        assert self.builder is not None  # dropped only once the data is built
        return self.builder.estimated_size()

    @property
    def records_appended(self) -> int:
        """Records in the batch, also while it is still open."""
        return self.record_count or (self.builder.record_count if self.builder is not None else 0)

    def close(self) -> None:
        """Stop accepting records (called when it leaves the queue for the first time)."""
        if self.builder is not None and self.record_count == 0:
            self.record_count = self.builder.record_count

    def __repr__(self) -> str:
        return (f"<ProducerBatch {self.topic}-{self.partition} records={self.record_count or '?'} "
                f"seq={self.base_sequence} attempts={self.attempts}>")


class RecordAccumulator:
    """Per-partition batch queues, buffer-memory accounting, readiness and draining."""

    def __init__(
        self,
        *,
        batch_size: int,
        linger_ms: float,
        buffer_memory: int,
        max_block_ms: float,
        delivery_timeout_ms: float,
        max_request_size: int,
        builder_factory: Callable[[], BatchBuilder],
        cluster: MetadataSource,
        loop: asyncio.AbstractEventLoop | None = None,
        keys_decide: bool = True,
        available: Callable[[str], Sequence[int]] | None = None,
        adaptive: bool = True,
    ) -> None:
        self.batch_size = batch_size
        self.linger_ms = float(linger_ms)
        self.buffer_memory = buffer_memory
        self.max_block_ms = float(max_block_ms)
        self.delivery_timeout_ms = float(delivery_timeout_ms)
        self.max_request_size = max_request_size
        self.new_builder = builder_factory  # the sender splits batches with the same builders
        self._loop = loop
        # the partition choice, stickiness and the open batches: send()'s one append path; its
        # queues are this accumulator's, and so are the queue sizes that weigh the next sticky
        # partition (as Java's accumulator owns its BuiltInPartitioner)
        sticky = StickyPartitioner(available=available, queue_sizes=self.queue_sizes, adaptive=adaptive)
        self.appender = PartitionAppender(cluster, min(max_request_size, buffer_memory), max(batch_size, 1),
                                          keys_decide, murmur2, RECORD_SIZE_BOUND_OVERHEAD, sticky.choose)
        # read-only here: the appender makes a partition's queue (queue()) and drops empty ones
        self._queues: Mapping[TopicPartitionKey, deque[ProducerBatch]] = self.appender.queues
        # the queues that hold a batch, in the order they last became non-empty: the sender's pass
        # (has_undrained, drain, expire, next_expiry_ms) walks these, not every partition ever
        # produced to. Only this class adds batches to a queue or takes them out (the appender
        # appends records into a queue's open batch), and every one of those steps keeps it.
        self._undrained: dict[TopicPartitionKey, deque[ProducerBatch]] = {}
        self._used = 0
        self._memory_waiters: deque[asyncio.Future[None]] = deque()
        self._incomplete: set[ProducerBatch] = set()
        self._flushes = 0
        self._rotation = 0
        # per leader node, the last drain() that found a batch ready for it and the last one that
        # could send to it (partitioner_availability_timeout_ms: a node whose ready batches wait
        # longer than that is skipped by the sticky partitioner, as in Java's RecordAccumulator)
        self._node_ready_ms: dict[int, float] = {}
        self._node_drain_ms: dict[int, float] = {}
        self._last_drain_ms = 0.0
        # topic -> creation time of its newest batch (metadata_max_idle_ms: the producer stops
        # asking for metadata of topics it no longer sends to)
        self.topic_last_batch_ms: dict[str, float] = {}
        self.closed = False
        self.closing = False
        # kafkaio.metrics: records of the batches failed for good (every failure passes fail())
        self.records_failed = 0

    # -- appending (the hot path) -------------------------------------------------------------
    def try_append(self, topic: str, partition: int, timestamp: int, key: bytes | None,
                   value: bytes | None, headers: Any) -> RecordFuture | None:
        """Append into the open batch of the partition; None when a new batch is needed."""
        return self.appender.append(topic, partition, False, timestamp, key, value, headers)

    def open_batch_full(self, topic: str, partition: int) -> bool:
        """Whether the partition has an open batch (after it refused a record: a full one)."""
        dq = self._queues.get((topic, partition))
        if not dq:
            return False
        return dq[-1].builder is not None

    async def append(self, topic: str, partition: int, timestamp: int, key: bytes | None,
                     value: bytes | None, headers: Any, size: int, sticky: bool = False) -> AppendResult:
        """Append, starting a new batch (waiting up to ``max_block_ms`` for buffer memory if needed).

        ``sticky``: ``partition`` is the topic's sticky partition, whose state counts the record.
        The result says whether the sender has work now (see :class:`AppendResult`)."""
        result = self.append_now(topic, partition, timestamp, key, value, headers, size, sticky)
        if result is None:
            result = await self._append_after_wait(topic, partition, timestamp, key, value, headers, size)
            if sticky:
                self.appender.added(topic, partition, result.appended_bytes)
        return result

    def append_now(self, topic: str, partition: int, timestamp: int, key: bytes | None,
                   value: bytes | None, headers: Any, size: int, sticky: bool = False) -> AppendResult | None:
        """:meth:`append` when it need not wait: None, with nothing appended, when a new batch
        must wait for buffer memory (then :meth:`append` waits). Not a coroutine: ``send()`` starts
        a batch per record with ``linger_ms=0``, and each coroutine level costs that path."""
        if self.closed or self.closing:
            raise ProducerClosedError("the producer is closed; send() is no longer allowed")
        dq = self._queues.get((topic, partition))
        # _append_open() only when there is an open batch: send() calls here when there was none
        result = self._append_open(topic, partition, timestamp, key, value, headers) \
            if dq and dq[-1].builder is not None else None
        if result is None:
            need = max(self.batch_size, size)
            if self._used + need > self.buffer_memory or self._memory_waiters:
                return None
            self._used += need
            result = self._new_batch(topic, partition, timestamp, key, value, headers, need)
        if sticky:
            self.appender.added(topic, partition, result.appended_bytes)
        return result

    def _append_open(self, topic: str, partition: int, timestamp: int, key: bytes | None,
                     value: bytes | None, headers: Any) -> AppendResult | None:
        """The record appended into the partition's open batch, which another task opened after
        this record's partition refused it; None when there is none or it is full."""
        dq = self._queues.get((topic, partition))
        if not dq or dq[-1].builder is None:
            return None
        batch = dq[-1]
        before = batch.size
        fut = self.try_append(topic, partition, timestamp, key, value, headers)
        if fut is None:
            return None
        return AppendResult(fut, False, False, batch.size - before)

    async def _append_after_wait(self, topic: str, partition: int, timestamp: int, key: bytes | None,
                                 value: bytes | None, headers: Any, size: int) -> AppendResult:
        """A new batch once ``buffer_memory`` has room for it (or the record, into a batch another
        task opened meanwhile)."""
        need = max(self.batch_size, size)
        await self._wait_for_memory(need)
        # another task may have opened a batch for this partition while we waited
        result = self._append_open(topic, partition, timestamp, key, value, headers)
        if result is not None:
            self._release(need)
            return result
        return self._new_batch(topic, partition, timestamp, key, value, headers, need)

    def _new_batch(self, topic: str, partition: int, timestamp: int, key: bytes | None,
                   value: bytes | None, headers: Any, reserved: int) -> AppendResult:
        loop = self._loop or asyncio.get_running_loop()
        builder = self.new_builder()
        try:
            delta = builder.append(timestamp, key, value, headers)
            if delta < 0:  # the first record is always accepted by the builder contract
                raise IllegalStateError("the batch builder refused the first record of a batch")
        except BaseException:
            # refused (e.g. a header name UTF-8 cannot encode): no batch holds the reservation
            self._release(reserved)
            raise
        batch = ProducerBatch(topic, partition, builder, loop.create_future(),
                              _monotonic() * 1000.0, self.delivery_timeout_ms, reserved)  # _now_ms()
        tp = batch.tp
        dq = self.appender.queue(topic, partition)
        dq.append(batch)
        self._undrained[tp] = dq
        self._incomplete.add(batch)
        self.topic_last_batch_ms[topic] = batch.created_ms
        return _new_result(AppendResult, (RecordFuture(batch, delta, timestamp), len(dq) > 1, True,
                                          builder.estimated_size()))

    # -- buffer memory ------------------------------------------------------------------------
    async def _wait_for_memory(self, need: int) -> None:
        if need > self.buffer_memory:
            raise RecordTooLargeError(
                f"the record needs {need} bytes, more than buffer_memory={self.buffer_memory}")
        loop = self._loop or asyncio.get_running_loop()
        deadline = loop.time() + self.max_block_ms / 1000.0
        waiter = loop.create_future()
        self._memory_waiters.append(waiter)  # which makes every batch ready to send (drain)
        try:
            while True:
                if self.closed or self.closing:
                    raise ProducerClosedError("the producer was closed while send() waited for buffer memory")
                if self._memory_waiters[0] is waiter and self._used + need <= self.buffer_memory:
                    self._used += need
                    return
                remaining = deadline - loop.time()
                if remaining <= 0:
                    raise BufferExhaustedError(
                        f"failed to allocate {need} bytes within max_block_ms={self.max_block_ms:g}: "
                        f"buffer_memory={self.buffer_memory} is full (records are produced faster "
                        f"than they are delivered)")
                if waiter.done():  # woken, but not first in line or not enough space yet
                    idx = self._memory_waiters.index(waiter)
                    waiter = loop.create_future()
                    self._memory_waiters[idx] = waiter
                try:
                    async with asyncio.timeout(remaining):
                        await waiter
                except TimeoutError:
                    pass
        finally:
            self._remove_waiter(waiter)
            self._wake_memory_waiters()

    def _remove_waiter(self, waiter: asyncio.Future[None]) -> None:
        try:
            self._memory_waiters.remove(waiter)
        except ValueError:
            pass

    def _release(self, n: int) -> None:
        self._used -= n
        self._wake_memory_waiters()

    def _wake_memory_waiters(self) -> None:
        if self._memory_waiters:
            head = self._memory_waiters[0]
            if not head.done():
                head.set_result(None)

    @property
    def memory_used(self) -> int:
        """Bytes of ``buffer_memory`` currently reserved by incomplete batches."""
        return self._used

    @property
    def memory_waiters(self) -> int:
        return len(self._memory_waiters)

    # -- readiness and draining ---------------------------------------------------------------
    def has_undrained(self) -> bool:
        """True when some queue holds a batch."""
        return bool(self._undrained)

    def undrained_partitions(self) -> frozenset[TopicPartitionKey]:
        """The partitions whose queue holds a batch."""
        return frozenset(self._undrained)

    def drain(
        self,
        now_ms: float,
        leader_for: Callable[[str, int], int | None],
        node_available: Callable[[int], bool],
        can_drain: Callable[[ProducerBatch], bool] | None = None,
        only: TopicPartitionKey | None = None,
    ) -> tuple[dict[int, list[ProducerBatch]], float, bool]:
        """Take the ready batches, grouped by leader node (``only``: of that partition alone).

        Returns ``(batches_by_node, next_check_ms, leader_unknown)``: ``next_check_ms`` is the
        earliest time at which a batch left behind becomes ready (linger or backoff); and
        ``leader_unknown`` says that a ready batch's partition has no known leader (refresh metadata).
        ``node_available(node)`` is False for a node at its in-flight limit; ``can_drain(batch)`` is
        the idempotence/ordering rule (muted partitions, sequence order of retries).
        """
        out: dict[int, list[ProducerBatch]] = {}
        if only is not None:
            batch, its_node, next_check, leader_unknown = self.drain_one(only, now_ms, leader_for, node_available,
                                                                         can_drain)
            if batch is not None:
                out[its_node] = [batch]
            return out, next_check, leader_unknown
        sizes: dict[int, int] = {}
        next_check = float("inf")
        leader_unknown = False
        force = self._flushes > 0 or self.closing or bool(self._memory_waiters)
        linger = self.linger_ms
        self._last_drain_ms = now_ms
        items = list(self._undrained.items())
        if not items:
            return out, next_check, False
        self._rotation = (self._rotation + 1) % len(items)
        items = items[self._rotation:] + items[: self._rotation]
        blocked_nodes: set[int] = set()
        for (topic, partition), dq in items:
            first = dq[0]
            if first.in_retry:
                if first.retry_at_ms > now_ms:
                    next_check = min(next_check, first.retry_at_ms)
                    continue
            elif not (force or len(dq) > 1 or first.data is not None):
                ready_at = first.created_ms + linger
                if ready_at > now_ms:
                    next_check = min(next_check, ready_at)
                    continue
            node = leader_for(topic, partition)
            if node is None or node < 0:
                leader_unknown = True
                continue
            if node in blocked_nodes:
                continue
            self._node_ready_ms[node] = now_ms
            if not node_available(node):
                blocked_nodes.add(node)
                self._node_drain_ms.setdefault(node, now_ms)
                continue
            self._node_drain_ms[node] = now_ms
            if can_drain is not None and not can_drain(first):
                continue
            size = first.size
            used = sizes.get(node, 0)
            if used and used + size > self.max_request_size:
                continue  # next request
            dq.popleft()
            if not dq:
                del self._undrained[(topic, partition)]
            first.close()
            sizes[node] = used + size
            out.setdefault(node, []).append(first)
        return out, next_check, leader_unknown

    def drain_one(
        self,
        tp: TopicPartitionKey,
        now_ms: float,
        leader_for: Callable[[str, int], int | None],
        node_available: Callable[[int], bool] | None,
        can_drain: Callable[[ProducerBatch], bool] | None = None,
    ) -> tuple[ProducerBatch | None, int, float, bool]:
        """:meth:`drain` of partition ``tp`` alone (whatever the number of queues; it leaves the
        rotation alone), by the same rules: ``(batch, node, next_check_ms, leader_unknown)``, the
        batch taken (None: none was ready) and its leader node. What ``send_and_wait`` drains per
        round trip: one batch, so no request size to add up and no grouping to build.
        ``node_available`` None: every node is (the caller has no request in flight)."""
        self._last_drain_ms = now_ms
        inf = _INF
        dq = self._queues.get(tp)
        if not dq:
            return None, -1, inf, False
        first = dq[0]
        if first.in_retry:
            if first.retry_at_ms > now_ms:
                return None, -1, first.retry_at_ms, False
        elif not (len(dq) > 1 or first.data is not None or self._flushes > 0 or self.closing
                  or self._memory_waiters):
            ready_at = first.created_ms + self.linger_ms
            if ready_at > now_ms:
                return None, -1, ready_at, False
        node = leader_for(tp[0], tp[1])
        if node is None or node < 0:
            return None, -1, inf, True
        self._node_ready_ms[node] = now_ms
        if node_available is not None and not node_available(node):
            self._node_drain_ms.setdefault(node, now_ms)
            return None, -1, inf, False
        self._node_drain_ms[node] = now_ms
        if can_drain is not None and not can_drain(first):
            return None, -1, inf, False
        # alone in its request: within max_request_size whatever its size (as drain's first batch)
        dq.popleft()
        if not dq:
            del self._undrained[tp]
        builder = first.builder
        if builder is not None and first.record_count == 0:  # close(), inline
            first.record_count = builder.record_count
        return first, node, inf, False

    def reenqueue(self, batch: ProducerBatch, retry_at_ms: float) -> None:
        """Put a batch that failed retriably back at the front of its queue, in sequence order."""
        batch.untracked.track_all()  # its last_error (or, for a split part, its original's) keeps frames
        batch.in_retry = True
        batch.retry_at_ms = retry_at_ms
        dq = self.appender.queue(batch.topic, batch.partition)
        if batch.base_sequence >= 0:
            # keep retried batches ordered by sequence ahead of the never-sent ones
            i = 0
            for i, other in enumerate(dq):  # noqa: B007
                if other.base_sequence < 0 or other.base_sequence > batch.base_sequence:
                    break
            else:
                i = len(dq)
            dq.insert(i, batch)
        else:
            dq.appendleft(batch)
        self._undrained[batch.tp] = dq

    def queued_batches(self) -> Iterable[ProducerBatch]:
        """Every batch waiting in a queue (front to back per partition)."""
        for dq in self._queues.values():
            yield from dq

    def topics_with_incomplete_batches(self) -> set[str]:
        """Topics that have a batch not yet delivered or failed (queued, in flight or in retry)."""
        return {b.topic for b in self._incomplete}

    def slow_nodes(self, timeout_ms: float) -> set[int]:
        """Leader nodes that have had batches ready but could not be sent to (in-flight limit
        reached: the broker is not answering) for more than ``timeout_ms``. Only nodes that had a
        ready batch in the last drain count: one whose queues emptied (sent or expired) gets new
        records again, and is skipped again if they too wait that long."""
        drained = self._node_drain_ms
        last = self._last_drain_ms
        return {node for node, ready in self._node_ready_ms.items()
                if ready == last and ready - drained.get(node, ready) > timeout_ms}

    def queue_sizes(self, topic: str, partitions: Sequence[int]) -> list[int] | None:
        """Batches waiting per partition of ``partitions`` (sorted), for the adaptive sticky
        partitioner; None when no queue of ``topic`` holds a batch (every partition weighs the same)."""
        waiting = [(p, len(dq)) for (t, p), dq in self._undrained.items() if t == topic]
        if not waiting:
            return None
        n = len(partitions)
        sizes = [0] * n
        for p, size in waiting:
            i = bisect_left(partitions, p)
            if i < n and partitions[i] == p:
                sizes[i] = size
        return sizes

    # -- expiry and completion ----------------------------------------------------------------
    def expire(self, now_ms: float) -> list[ProducerBatch]:
        """Remove and return queued batches whose delivery timeout has passed."""
        expired: list[ProducerBatch] = []
        emptied: list[TopicPartitionKey] = []
        for tp, dq in self._undrained.items():
            if dq[0].deadline_ms <= now_ms:
                keep = deque(b for b in dq if b.deadline_ms > now_ms)
                expired.extend(b for b in dq if b.deadline_ms <= now_ms)
                dq.clear()
                dq.extend(keep)
                if not dq:
                    emptied.append(tp)
        for tp in emptied:
            del self._undrained[tp]
        return expired

    def next_expiry_ms(self) -> float:
        """The earliest delivery deadline of a batch at the front of a queue (inf: none queued)."""
        return min((dq[0].deadline_ms for dq in self._undrained.values()), default=float("inf"))

    def complete(self, batch: ProducerBatch, base_offset: int, log_append_time: int) -> None:
        """Resolve the batch's future with its base offset (and log append time or -1)."""
        if batch not in self._incomplete:
            return
        if batch.last_error is None and batch.split_parts is None:
            batch.untracked.forget()  # it refers to nothing that could refer back to its records
        else:
            batch.untracked.track_all()
        if not batch.future.done():
            batch.future.set_result((base_offset, log_append_time))
        self._finish(batch)

    def fail(self, batch: ProducerBatch, exc: BaseException) -> None:
        """Fail every record of the batch with ``exc``."""
        if batch not in self._incomplete:
            return
        self.records_failed += batch.records_appended
        # before the error is kept: raised through a frame holding any record of the batch, it closes
        # a cycle the collector sees only through a tracked record future
        batch.untracked.track_all()
        if not batch.future.done():
            batch.future.set_exception(exc)
            batch.future.exception()  # mark retrieved: the records' awaiters report it, not asyncio
        self._finish(batch)

    def unqueue(self, batch: ProducerBatch) -> None:
        """Take ``batch`` out of its partition's queue (it is failed while waiting for a retry)."""
        dq = self._queues.get(batch.tp)
        if dq:
            try:
                dq.remove(batch)
            except ValueError:
                pass  # not queued: in flight, or already taken
            if not dq:
                self._undrained.pop(batch.tp, None)

    def track(self, batch: ProducerBatch) -> None:
        """Count a batch made outside :meth:`append` (a part of a split batch) as incomplete."""
        self._incomplete.add(batch)

    def is_complete(self, batch: ProducerBatch) -> bool:
        """True once the batch was delivered or failed (its memory released)."""
        return batch not in self._incomplete

    def _finish(self, batch: ProducerBatch) -> None:
        self._incomplete.discard(batch)
        batch.builder = None
        batch.data = None
        n = batch.reserved
        if n:
            batch.reserved = 0
            self._used -= n  # _release(), inline: once per batch
            if self._memory_waiters:
                self._wake_memory_waiters()

    def abort_queued(self, exc_factory: Callable[[ProducerBatch], KafkaError]) -> int:
        """Fail every batch still in a queue (close with timeout, fatal errors). Returns the count."""
        n = 0
        undrained, self._undrained = self._undrained, {}
        for dq in undrained.values():
            while dq:
                b = dq.popleft()
                self.fail(b, exc_factory(b))
                n += 1
        return n

    def fail_memory_waiters(self) -> None:
        for w in self._memory_waiters:
            if not w.done():
                w.set_result(None)

    # -- flush --------------------------------------------------------------------------------
    def incomplete_futures(self) -> list[asyncio.Future[tuple[int, int]]]:
        """The futures of the batches not yet decided, to wait on (or fail) them: their records'
        futures are tracked by the cyclic GC first, as a waiter is about to be kept by them."""
        for b in self._incomplete:
            b.untracked.track_all()
        return [b.future for b in self._incomplete]

    @property
    def incomplete_count(self) -> int:
        return len(self._incomplete)

    def begin_flush(self) -> None:
        """Every batch is ready to send (ignoring ``linger_ms``) until :meth:`end_flush`."""
        self._flushes += 1

    def end_flush(self) -> None:
        self._flushes -= 1
