"""The producer's per-record hot path (pure-Python twin of ``_producer.pyx``).

``try_append`` appends one record into the open batch of its partition and returns the record's
awaitable, a :class:`RecordFuture` of three references (the batch, the record's offset delta and its
timestamp); ``record_metadata`` derives a delivered record's ``RecordMetadata`` from the batch's
future, resolved with ``(base_offset, log_append_time_ms)``.
"""
from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Iterator, Mapping, Sequence
from types import MappingProxyType
from typing import Any, Callable, Generator

from kafkaio._speedups.delivery import SPLIT_BASE_OFFSET, DeliveryBatch, MetadataSource, follow_split
from kafkaio.structs import CREATE_TIME, LOG_APPEND_TIME, RecordMetadata

__all__ = ["BatchWaiter", "OpenBatch", "PartitionAppender", "RecordFuture", "Run", "TopicState", "TopicStickiness", "UntrackedFutures", "batch_position",
           "now_ms", "record_metadata", "runs_metadata", "try_append"]

# the largest size bound append_many takes itself (the builder refuses fields of 2 GiB)
_BOUND_LIMIT = (1 << 31) - 1
_MAX_TIMESTAMP = 2 ** 63 - 1  # the largest create time a record carries


def _outcome(batch: DeliveryBatch, records_batch: DeliveryBatch) -> tuple[int, int]:
    # batch.future's result; its error is raised only once the futures of records_batch (the batch
    # whose records are read) are tracked (as the compiled twin's, whose futures may be left out)
    try:
        return batch.future.result()
    except BaseException:
        records_batch.untracked.track_all()
        raise


def record_metadata(batch: DeliveryBatch, delta: int, timestamp: int) -> RecordMetadata:
    """The ``RecordMetadata`` of the record at ``delta`` in ``batch``; raises the batch's error."""
    records_batch = batch
    base_offset, log_append_time = _outcome(batch, batch)
    if base_offset == SPLIT_BASE_OFFSET:  # split after MESSAGE_TOO_LARGE: the record is in a part
        batch, delta = follow_split(batch, delta)
        base_offset, log_append_time = _outcome(batch, records_batch)
    offset = base_offset + delta if base_offset >= 0 else -1
    if log_append_time >= 0:
        return RecordMetadata(batch.topic, batch.partition, offset, log_append_time, LOG_APPEND_TIME)
    return RecordMetadata(batch.topic, batch.partition, offset, timestamp, CREATE_TIME)


class BatchWaiter:
    """What a task awaiting a record waits on: one waiter per await, over the batch's future.

    It speaks the protocol a task uses with a future it waits for (``_asyncio_future_blocking``,
    ``get_loop``, ``add_done_callback``, ``result``, ``cancel``), so a task waiting on a record is
    woken in the same event-loop pass as the batch's future resolves, and cancelling that task
    (``wait_for``, ``timeout``, ``task.cancel()``) cancels only this waiter: the batch's future, which
    every record of the batch shares, is never cancelled by a caller.
    """

    __slots__ = ("_fut", "_callbacks", "_state", "_asyncio_future_blocking")

    def __init__(self, fut: Any) -> None:
        self._fut = fut
        self._callbacks: list[Callable[[Any], Any]] = []
        self._state = 0  # 0 waiting, 1 woken by the batch, 2 cancelled
        self._asyncio_future_blocking = True

    def get_loop(self) -> Any:
        return self._fut.get_loop()

    def add_done_callback(self, fn: Callable[[Any], Any], *, context: Any = None) -> None:
        self._callbacks.append(fn)
        if len(self._callbacks) == 1:
            self._fut.add_done_callback(self._fire, context=context)

    def remove_done_callback(self, fn: Callable[[Any], Any]) -> int:
        n = len(self._callbacks)
        self._callbacks = [cb for cb in self._callbacks if cb != fn]
        return n - len(self._callbacks)

    def _fire(self, _fut: Any) -> None:
        if self._state == 0:
            self._state = 1
            for fn in self._callbacks:
                fn(self)

    def cancel(self, msg: Any = None) -> bool:
        """Stop waiting (the awaiting task is being cancelled); the batch is not touched."""
        if self._state != 0:
            return False
        self._state = 2
        self._fut.remove_done_callback(self._fire)
        loop = self._fut.get_loop()
        for fn in self._callbacks:
            loop.call_soon(fn, self)
        return True

    def done(self) -> bool:
        return self._state != 0

    def cancelled(self) -> bool:
        return self._state == 2

    def result(self) -> None:
        if self._state == 2:
            raise asyncio.CancelledError()


class UntrackedFutures:
    """The record futures of one undecided batch left out of the cyclic garbage collector: none here.

    The compiled twin leaves a record's future out of the collector while nothing reachable from its
    batch can refer back to it (see there); a pure Python object cannot be left out, so this one
    keeps only the state: :meth:`track_all` or :meth:`forget` closes it.
    """

    __slots__ = ("_closed",)

    def __init__(self) -> None:
        self._closed = False

    def track_all(self) -> None:
        """Give every future of the batch back to the collector; the batch's later ones stay tracked."""
        self._closed = True

    def forget(self) -> None:
        """The batch was delivered cleanly: its futures may stay out of the collector until freed."""
        self._closed = True

    @property
    def closed(self) -> bool:
        """True once the batch's futures are no longer left out (its later ones stay tracked)."""
        return self._closed

    def __len__(self) -> int:
        """The futures still left out."""
        return 0


class RecordFuture:
    """The delivery of one record: ``await`` it for ``RecordMetadata`` or a typed error.

    Offers the parts of the ``asyncio.Future`` API that users rely on: ``done()``, ``result()``,
    ``exception()``, ``add_done_callback(fn)`` (``fn`` receives this object).
    """

    __slots__ = ("_batch", "_delta", "_timestamp")

    def __init__(self, batch: DeliveryBatch, delta: int, timestamp: int) -> None:
        self._batch = batch
        self._delta = delta
        self._timestamp = timestamp

    def __await__(self) -> Generator[Any, None, RecordMetadata]:
        fut = self._batch.future
        if not fut.done():
            self._batch.untracked.track_all()  # the waiting task is about to be kept by the batch
            yield BatchWaiter(fut)
        return record_metadata(self._batch, self._delta, self._timestamp)

    def done(self) -> bool:
        """True once the record was delivered or failed."""
        return self._batch.future.done()

    def cancelled(self) -> bool:
        """Always False: a record handed to the producer cannot be cancelled."""
        return False

    def result(self) -> RecordMetadata:
        """The metadata; raises the delivery error, or ``asyncio.InvalidStateError`` if pending."""
        return record_metadata(self._batch, self._delta, self._timestamp)

    def exception(self) -> BaseException | None:
        """The delivery error, None on success; ``asyncio.InvalidStateError`` while pending."""
        fut = self._batch.future
        exc = fut.exception()
        if exc is None and fut.result()[0] == SPLIT_BASE_OFFSET:  # split after MESSAGE_TOO_LARGE
            exc = follow_split(self._batch, self._delta)[0].future.exception()
        if exc is not None:  # handed out: a frame raising it may hold any record of the batch
            self._batch.untracked.track_all()
        return exc

    def add_done_callback(self, fn: Callable[[RecordFuture], Any]) -> None:
        """Call ``fn(self)`` once the record's delivery is decided."""
        self._batch.untracked.track_all()  # the batch's future is about to keep fn
        self._batch.future.add_done_callback(lambda _f: fn(self))

    @property
    def topic(self) -> str:
        return self._batch.topic

    @property
    def partition(self) -> int:
        return self._batch.partition

    def __repr__(self) -> str:
        state = "done" if self.done() else "pending"
        return f"<RecordFuture {self._batch.topic}-{self._batch.partition} delta={self._delta} {state}>"


def batch_position(fut: RecordFuture) -> tuple[DeliveryBatch, int]:
    """The batch holding the record of ``fut`` and the record's offset delta in it."""
    return fut._batch, fut._delta


class Run:
    """Consecutive records of one ``send_many`` call in one batch: offset deltas ``first`` on."""

    __slots__ = ("batch", "first", "count")

    def __init__(self, batch: DeliveryBatch, first: int) -> None:
        self.batch = batch
        self.first = first
        self.count = 1


def runs_metadata(runs: Sequence[Run], timestamp: int) -> list[RecordMetadata]:
    """The ``RecordMetadata`` of every record of ``runs``, in order (the batches' outcome read once
    per run); raises the error of the first failed batch among them."""
    out: list[RecordMetadata] = []
    for run in runs:
        batch = run.batch
        first = run.first
        base_offset, log_append_time = _outcome(batch, batch)
        if base_offset == SPLIT_BASE_OFFSET:  # each record is in one of the parts
            out += [record_metadata(batch, d, timestamp) for d in range(first, first + run.count)]
            continue
        topic, partition = batch.topic, batch.partition
        ts, ts_type = (log_append_time, LOG_APPEND_TIME) if log_append_time >= 0 else (timestamp, CREATE_TIME)
        out += [RecordMetadata(topic, partition, base_offset + d if base_offset >= 0 else -1, ts, ts_type)
                for d in range(first, first + run.count)]
    return out


def _bound(size: int, key: Any, value: Any, headers: Any) -> int:
    """``size`` plus the record's key, value and headers when they are in the common form (key and
    value bytes or None, headers None or a list or tuple of ``(str, bytes | None)`` tuples), else -1."""
    if headers is not None:
        for pair in headers:
            if pair.__class__ is not tuple or len(pair) != 2:
                return -1
            hk, hv = pair
            if hk.__class__ is not str:
                return -1
            size += 10 + len(hk) * 3  # as record_size_upper_bound
            if hv is not None:
                if hv.__class__ is not bytes:
                    return -1
                size += len(hv)
    if value is not None:
        if value.__class__ is not bytes:
            return -1
        size += len(value)
    if key is not None:
        if key.__class__ is not bytes:
            return -1
        size += len(key)
    return size


class OpenBatch:
    """What the append path reads of a queued batch: its record builder (None once the batch was
    drained) and its :class:`UntrackedFutures`. The base of the accumulator's batch (the compiled
    twin reads them as C fields)."""

    __slots__ = ("builder", "untracked")
    builder: Any
    untracked: UntrackedFutures


def try_append(queues: Mapping[tuple[str, int], Sequence[DeliveryBatch]], topic: str, partition: int, timestamp: int, key: bytes | None,
               value: bytes | None, headers: Any) -> RecordFuture | None:
    """Append into the open (last) batch of ``queues[(topic, partition)]``.

    Returns the record's :class:`RecordFuture`, or None when there is no open batch or it is full
    (the caller then starts a new batch through the accumulator).
    """
    return _append_open(queues.get((topic, partition)), timestamp, key, value, headers)


def _append_open(dq: Sequence[DeliveryBatch] | None, timestamp: int, key: bytes | None, value: bytes | None,
                 headers: Any) -> RecordFuture | None:
    """The record appended into the open (last) batch of the queue ``dq`` (None: no queue), or None
    when there is none or it is full."""
    if dq:
        batch = dq[-1]
        builder = batch.builder  # None once the batch was drained (built)
        if builder is not None:
            delta = builder.append(timestamp, key, value, headers)
            if delta >= 0:
                return RecordFuture(batch, delta, timestamp)
    return None


def _append_sized(dq: Sequence[DeliveryBatch] | None, timestamp: int, key: bytes | None, value: bytes | None,
                  headers: Any) -> tuple[RecordFuture, int] | None:
    """:func:`_append_open`, also giving the bytes the record added to its batch (what the sticky
    state counts)."""
    if dq:
        batch = dq[-1]
        builder = batch.builder  # None once the batch was drained (built)
        if builder is not None:
            before = builder.estimated_size()
            delta = builder.append(timestamp, key, value, headers)
            if delta >= 0:
                return RecordFuture(batch, delta, timestamp), builder.estimated_size() - before
    return None


def now_ms() -> int:
    """A record's create time when the caller gives none: wall-clock milliseconds (the one source)."""
    return time.time_ns() // 1_000_000


class TopicStickiness:
    """A topic's sticky partition (-1: none chosen), the bytes produced to it and the one before."""

    __slots__ = ("partition", "produced_bytes", "previous")

    def __init__(self) -> None:
        self.partition = -1
        self.produced_bytes = 0
        self.previous = -1


class TopicState:
    """What the appender keeps of one topic, found by one lookup: its partition count for the
    appender's metadata (-1: not known), its sticky state (None: none yet) and its queue row (at
    index p the queue of partition p, else None)."""

    __slots__ = ("count", "sticky", "row")

    def __init__(self) -> None:
        self.count = -1
        self.sticky: TopicStickiness | None = None
        self.row: list[deque[Any] | None] = []


def _switch(st: TopicStickiness) -> None:
    # leave the partition: the next partition() call draws another one
    st.produced_bytes = 0
    st.previous = st.partition
    st.partition = -1


class PartitionAppender:
    """The one append path: partition choice, KIP-794 stickiness and the open batch of each partition.

    Owned by the accumulator; reads the current metadata from ``cluster.metadata_cell`` (the
    producer's cluster, from its construction on). It holds the per-partition batch queues (the last batch of a queue is
    the open one), the partition count of each topic for the current metadata, and the sticky state
    of each topic. It owns the queues: ``queue`` makes a partition's queue, ``forget_topic`` drops
    empty ones, nothing else adds or removes one (``queues`` is a read-only view of them, and the
    per-topic rows that ``send()``'s common record finds its queue in, by partition, without a
    ``(topic, partition)`` key, hold exactly the queues of that view). ``try_send`` is ``send()``'s
    common record in one call; ``partition`` and
    ``append`` are the general path's steps; a record that needs a new batch goes back to the
    accumulator, which reports it with ``added``. One rule leaves a sticky partition:
    ``sticky_batch_size`` bytes were appended to it (what each record added to its batch, as Java's
    ``BuiltInPartitioner`` counts), or its open batch refused a record after some
    were (rather than start a batch there for one record, which would linger out nearly empty). ``choose(topic,
    num_partitions, previous)`` draws the next sticky partition (``StickyPartitioner.choose``).
    """

    __slots__ = ("enabled", "cluster", "_cell", "metadata", "choose", "_queues", "_topics", "queues", "sticky_batch_size", "max_record_size", "keys_decide", "murmur2", "size_bound_overhead")

    def __init__(self, cluster: MetadataSource, max_record_size: int, sticky_batch_size: int,
                 keys_decide: bool, murmur2: Callable[[bytes], int], size_bound_overhead: int,
                 choose: Callable[[str, int, int], int]) -> None:
        # the size comes from kafkaio.producer.accumulator (RECORD_SIZE_BOUND_OVERHEAD: send()'s
        # size bound of a record is this plus key and value)
        self.size_bound_overhead = size_bound_overhead
        self.enabled = False
        self.cluster = cluster
        self._cell = cluster.metadata_cell  # the current metadata
        self.metadata: object = None  # the cluster metadata the partition counts came from
        self.choose = choose
        # the batch queues (the accumulator appends and drains their batches, read here only as
        # DeliveryBatch), and per topic its state, whose row holds at index p the deque _queues has
        # for (topic, p), else None
        self._queues: dict[tuple[str, int], deque[Any]] = {}
        self._topics: dict[str, TopicState] = {}
        self.queues: Mapping[tuple[str, int], deque[Any]] = MappingProxyType(self._queues)
        self.sticky_batch_size = sticky_batch_size
        self.max_record_size = max_record_size
        self.keys_decide = keys_decide
        self.murmur2 = murmur2

    def queue(self, topic: str, partition: int) -> deque[Any]:
        """The partition's batch queue, made (empty) when it has none."""
        if partition < 0:
            raise ValueError(f"no queue for partition {partition}")
        tp = (topic, partition)
        dq = self._queues.get(tp)
        if dq is None:
            dq = self._queues[tp] = deque()
            row = self._state(topic).row
            if len(row) <= partition:
                row.extend([None] * (partition + 1 - len(row)))
            row[partition] = dq
        return dq

    def _state(self, topic: str) -> TopicState:
        # the topic's state, made when it has none
        ts = self._topics.get(topic)
        if ts is None:
            ts = self._topics[topic] = TopicState()
        return ts

    def _queue_of(self, topic: str, partition: int) -> deque[Any] | None:
        # queues[(topic, partition)] or None, found without building and hashing the key
        ts = self._topics.get(topic)
        if ts is None or partition < 0 or partition >= len(ts.row):
            return None
        return ts.row[partition]

    @property
    def partition_counts(self) -> dict[str, int]:
        """The partition count of each topic known for ``metadata`` (a copy)."""
        return {t: ts.count for t, ts in self._topics.items() if ts.count >= 0}

    @property
    def sticky(self) -> dict[str, TopicStickiness]:
        """The sticky state of each topic that has one (a copy of the mapping, the states themselves)."""
        return {t: ts.sticky for t, ts in self._topics.items() if ts.sticky is not None}

    def partition_count(self, topic: str) -> int | None:
        """The topic's partition count for ``metadata``, None when not known."""
        ts = self._topics.get(topic)
        return None if ts is None or ts.count < 0 else ts.count

    def set_partition_count(self, topic: str, count: int) -> None:
        """Record the topic's partition count, read from ``metadata`` (at least 1)."""
        if count < 1:  # the compiled twin would divide by zero in C
            raise ValueError(f"partition count {count}")
        self._state(topic).count = count

    def _count(self, st: TopicStickiness, appended: int) -> None:
        st.produced_bytes += appended
        if st.produced_bytes >= self.sticky_batch_size:
            _switch(st)

    def try_send(self, topic: Any, value: Any, key: Any, partition: Any, timestamp_ms: Any,
                 headers: Any) -> RecordFuture | None:
        """``send()``'s common record appended to its partition's open batch: its future, or None
        (nothing changed) for the general path.

        The common record: the appender is ``enabled``; key and value are bytes or None; headers
        none, or a list or tuple of ``(str, bytes | None)`` tuples; the partition count of the topic
        is known for the current metadata (``cluster.metadata_cell.current is metadata``); the partition is
        explicit and in range, decided by the key, or the topic's current sticky partition; the
        record fits ``max_record_size`` and the open batch.
        """
        fut = self._try_send(topic, value, key, partition, timestamp_ms, headers, False)
        assert not isinstance(fut, tuple)  # routes only when asked
        return fut

    def send_or_route(self, topic: Any, value: Any, key: Any, partition: Any, timestamp_ms: Any,
                      headers: Any) -> RecordFuture | tuple[int, bool, int, int] | None:
        """:meth:`try_send`; and for a common record whose partition has no open batch (drained, or
        none yet: every ``send_and_wait`` with ``linger_ms=0``), where its new batch goes:
        ``(partition, sticky, timestamp, size)``, nothing changed. ``sticky``: the partition is the
        topic's sticky one; ``timestamp``: the record's create time (now when it has none);
        ``size``: the record's size bound (``max_record_size`` holds it)."""
        return self._try_send(topic, value, key, partition, timestamp_ms, headers, True)

    def _try_send(self, topic: Any, value: Any, key: Any, partition: Any, timestamp_ms: Any, headers: Any,
                  route: bool) -> RecordFuture | tuple[int, bool, int, int] | None:
        if not self.enabled:
            return None
        if headers:
            if headers.__class__ is not list and headers.__class__ is not tuple:
                return None
        else:
            headers = None
        size = _bound(self.size_bound_overhead, key, value, headers)
        if size < 0 or size > self.max_record_size or self._cell.current is not self.metadata:
            return None
        ts = self._topics.get(topic)
        if ts is None or ts.count < 0:
            return None
        n = ts.count
        st = None
        if partition is None:
            if key is not None and self.keys_decide:
                partition = (self.murmur2(key) & 0x7FFFFFFF) % n
            else:
                st = ts.sticky
                if st is None or not 0 <= st.partition < n:  # a partition of earlier metadata: drawn again
                    return None
                partition = st.partition
        elif partition.__class__ is not int or not 0 <= partition < n:
            return None
        if timestamp_ms is None:
            timestamp_ms = time.time_ns() // 1_000_000
        elif timestamp_ms.__class__ is not int or timestamp_ms < 0:
            return None  # the general path validates it
        row = ts.row
        dq = row[partition] if partition < len(row) else None
        if route and (not dq or dq[-1].builder is None):
            if timestamp_ms > _MAX_TIMESTAMP:
                return None  # the general path refuses it
            return (partition, st is not None, timestamp_ms, size)
        if st is None:
            return _append_open(dq, timestamp_ms, key, value, headers)
        sized = _append_sized(dq, timestamp_ms, key, value, headers)
        if sized is None:
            return None
        self._count(st, sized[1])
        return sized[0]

    def partition(self, topic: str, key: bytes | None, num_partitions: int) -> int:
        """The partition of a record without an explicit one: by its key (when keys decide), else
        the topic's sticky partition, drawn with ``choose`` when there is none."""
        if num_partitions < 1:
            raise ValueError(f"partition count {num_partitions}")
        if key is not None and self.keys_decide:
            return (self.murmur2(key) & 0x7FFFFFFF) % num_partitions
        return self._stay(topic, num_partitions).partition

    def _stay(self, topic: str, num_partitions: int) -> TopicStickiness:
        # the topic's sticky state, its partition drawn with choose when there is none
        ts = self._state(topic)
        st = ts.sticky
        if st is None:
            st = ts.sticky = TopicStickiness()
        if st.partition < 0 or st.partition >= num_partitions:
            st.partition = self.choose(topic, num_partitions, st.previous)
            st.produced_bytes = 0
        return st

    def append(self, topic: str, partition: int, sticky: bool, timestamp: int, key: bytes | None,
               value: bytes | None, headers: Any) -> RecordFuture | None:
        """Append into the partition's open batch: the record's future, or None when a new batch is
        needed. ``sticky``: ``partition`` came from the sticky partitioner, whose state counts the
        record, or, when the open batch refused it after this stay's first record, leaves that
        partition (ask ``partition`` again)."""
        dq = self._queues.get((topic, partition))
        if not sticky:
            return _append_open(dq, timestamp, key, value, headers)
        sized = _append_sized(dq, timestamp, key, value, headers)
        st = self._sticky_of(topic)
        if st is not None and st.partition == partition:
            if sized is not None:
                self._count(st, sized[1])
            elif st.produced_bytes > 0:
                # a partition chosen for this record keeps it: its full batch is an earlier
                # stay's, and the record starts the next one there
                if dq and dq[-1].builder is not None:
                    _switch(st)
        return None if sized is None else sized[0]

    def append_many(self, topic: str, items: Iterator[Any], partition: int | None, num_partitions: int,
                    timestamp: Any, runs: list[Run]) -> tuple[Any] | None:
        """``send_many``'s common records taken from ``items`` and appended, in order, to the open
        batches of their partitions, each extending the last of ``runs`` or starting a new one there.

        Returns None once ``items`` is exhausted, else a 1-tuple of the item it took but did not
        append, for the general path: an item not in the common form, or over ``max_record_size``, or
        whose partition has no open batch with room (its partition chosen, as ``partition`` would).
        The common form: a value, or a ``(key, value)`` or ``(key, value, headers)`` tuple, key and
        value bytes or None, headers None or a list or tuple of ``(str, bytes | None)`` tuples; an
        int ``timestamp`` the builder takes. ``partition``: the explicit one (checked by the caller),
        or None for the key's or the topic's sticky partition among ``num_partitions``; ValueError
        when it is outside ``range(num_partitions)`` or ``num_partitions`` is below 1.
        """
        if num_partitions < 1 or (partition is not None and not 0 <= partition < num_partitions):
            raise ValueError(f"partition {partition} of {num_partitions}")
        if timestamp.__class__ is not int or not -1 <= timestamp < 1 << 63:
            for item in items:
                return (item,)
            return None
        max_size = min(self.max_record_size, _BOUND_LIMIT)
        overhead = self.size_bound_overhead
        keys_decide = self.keys_decide
        run = runs[-1] if runs else None
        at = -1  # the partition whose open batch is in hand (nothing else runs during this call)
        batch: Any = None
        builder: Any = None
        for item in items:
            headers = None
            if item.__class__ is tuple:
                if len(item) == 2:
                    key, value = item
                elif len(item) == 3:
                    key, value, headers = item
                    if headers is not None:
                        if headers.__class__ is not list and headers.__class__ is not tuple:
                            return (item,)
                        if not headers:
                            headers = None
                else:
                    return (item,)
            else:
                key, value = None, item
            size = _bound(overhead, key, value, headers)
            if size < 0 or size > max_size:
                return (item,)
            st = None
            if partition is not None:
                p = partition
            elif key is not None and keys_decide:
                p = (self.murmur2(key) & 0x7FFFFFFF) % num_partitions
            else:
                st = self._stay(topic, num_partitions)
                p = st.partition
            if p != at:
                dq = self._queue_of(topic, p)
                if not dq:
                    return (item,)
                batch = dq[-1]
                builder = batch.builder  # None once the batch was drained (built)
                if builder is None:
                    return (item,)
                at = p
            if st is None:
                delta = builder.append(timestamp, key, value, headers)
                if delta < 0:
                    return (item,)
            else:
                before = builder.estimated_size()
                delta = builder.append(timestamp, key, value, headers)
                if delta < 0:
                    return (item,)
                self._count(st, builder.estimated_size() - before)
            if run is not None and run.batch is batch and run.first + run.count == delta:
                run.count += 1
            else:
                run = Run(batch, delta)
                runs.append(run)
        return None

    def added(self, topic: str, partition: int, appended: int) -> None:
        """Count a record that started a new batch of its topic's sticky ``partition``: ``appended``
        bytes, the new batch's size (its header and the record, as Java counts a new batch)."""
        st = self._sticky_of(topic)
        if st is not None and st.partition == partition:
            self._count(st, appended)

    def _sticky_of(self, topic: str) -> TopicStickiness | None:
        ts = self._topics.get(topic)
        return None if ts is None else ts.sticky

    def set_metadata(self, metadata: object) -> None:
        """Partition counts are read again from ``metadata`` (it replaced the one they came from)."""
        for ts in self._topics.values():
            ts.count = -1
        self.metadata = metadata

    def forget_topic(self, topic: str) -> None:
        """Drop the topic's partition count, sticky state and empty queues (it is no longer used)."""
        ts = self._topics.get(topic)
        if ts is None:
            return
        ts.count = -1
        ts.sticky = None
        for tp in [tp for tp, dq in self._queues.items() if tp[0] == topic and not dq]:
            del self._queues[tp]
            ts.row[tp[1]] = None
        if all(dq is None for dq in ts.row):
            del self._topics[topic]
