# cython: language_level=3
"""The producer's per-record hot path (compiled twin of ``producer_py``).

A ``RecordFuture`` is an extension type created without running Python ``__init__`` code, and
``try_append`` does the open-batch lookup and append in C; both behave exactly like the twin.
"""
cimport cython
from cpython.object cimport PyObject
from libc.stdint cimport int64_t
from libc.stdlib cimport free, realloc
from posix.time cimport CLOCK_REALTIME, clock_gettime, timespec

from collections import deque
from types import MappingProxyType

from kafkaio._speedups._metadata_cell cimport MetadataCell
from kafkaio._speedups._records cimport builder_append, builder_append_ms, builder_size

from kafkaio._speedups.delivery import SPLIT_BASE_OFFSET, follow_split
from kafkaio.structs import CREATE_TIME, LOG_APPEND_TIME, RecordMetadata

__all__ = ["BatchWaiter", "OpenBatch", "PartitionAppender", "RecordFuture", "Run", "TopicState", "TopicStickiness", "UntrackedFutures", "batch_position",
           "now_ms", "record_metadata", "runs_metadata", "try_append"]

# the largest size bound append_many takes itself (the builder refuses fields of 2 GiB)
cdef enum:
    _BOUND_LIMIT = 0x7FFFFFFF


cdef object _outcome(object batch, object records_batch):
    # batch.future's result; its error is raised only once the futures of records_batch (the batch
    # whose records are read) are tracked: raised through a frame holding one, it closes a cycle
    try:
        return batch.future.result()
    except BaseException:
        records_batch.untracked.track_all()
        raise


cpdef object record_metadata(object batch, object delta, object timestamp):
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


cdef object _CancelledError = None


@cython.freelist(64)
cdef class BatchWaiter:
    """What a task awaiting a record waits on: one waiter per await, over the batch's future.

    It speaks the protocol a task uses with a future it waits for (``_asyncio_future_blocking``,
    ``get_loop``, ``add_done_callback``, ``result``, ``cancel``), so a task waiting on a record is
    woken in the same event-loop pass as the batch's future resolves, and cancelling that task
    (``wait_for``, ``timeout``, ``task.cancel()``) cancels only this waiter: the batch's future, which
    every record of the batch shares, is never cancelled by a caller.
    """

    cdef object _fut
    cdef list _callbacks
    cdef int _state  # 0 waiting, 1 woken by the batch, 2 cancelled
    cdef public bint _asyncio_future_blocking

    def __init__(self, fut):
        self._fut = fut
        self._callbacks = []
        self._state = 0
        self._asyncio_future_blocking = True

    def get_loop(self):
        return self._fut.get_loop()

    def add_done_callback(self, fn, *, context=None):
        self._callbacks.append(fn)
        if len(self._callbacks) == 1:
            self._fut.add_done_callback(self._fire, context=context)

    def remove_done_callback(self, fn):
        n = len(self._callbacks)
        self._callbacks = [cb for cb in self._callbacks if cb != fn]
        return n - len(self._callbacks)

    def _fire(self, _fut):
        if self._state == 0:
            self._state = 1
            for fn in self._callbacks:
                fn(self)

    def cancel(self, msg=None):
        """Stop waiting (the awaiting task is being cancelled); the batch is not touched."""
        if self._state != 0:
            return False
        self._state = 2
        self._fut.remove_done_callback(self._fire)
        loop = self._fut.get_loop()
        for fn in self._callbacks:
            loop.call_soon(fn, self)
        return True

    def done(self):
        return self._state != 0

    def cancelled(self):
        return self._state == 2

    def result(self):
        global _CancelledError
        if self._state == 2:
            if _CancelledError is None:
                from asyncio import CancelledError
                _CancelledError = CancelledError
            raise _CancelledError()


cdef extern from "Python.h":
    void _gc_track "PyObject_GC_Track"(void* op)
    void _gc_untrack "PyObject_GC_UnTrack"(void* op)
    int _gc_is_tracked "PyObject_GC_IsTracked"(object op)


cdef class RecordFuture

# a RecordFuture's timestamp object when its C timestamp is the one (the producer's clock read in C)
cdef object _C_CLOCK = object()
cdef object _MAX_TIMESTAMP = 2 ** 63 - 1  # the largest create time a record carries


@cython.final
cdef class UntrackedFutures:
    """The record futures of one undecided batch that are left out of the cyclic garbage collector.

    One record future is made per record sent; tracked, every 700 of them ran a collection over
    those still pending (about a tenth of a fast ``send()`` loop's CPU). A future left out hides its
    reference to its batch from the collector, so it may stay out only while nothing reachable from
    the batch can refer back to it: the batch's future has no waiter and no error, the batch has no
    retry error and no split parts. The batch's owner calls :meth:`track_all` before any of those
    can happen, and :meth:`forget` when the batch is delivered without them (then nothing ever
    will). The list holds borrowed pointers (a future that dies leaves its slot empty), so it makes
    no cycle of its own: a batch never decided is freed as it would be with tracked futures.
    """

    cdef PyObject** _items
    cdef Py_ssize_t _count
    cdef Py_ssize_t _capacity
    cdef bint _closed

    def __dealloc__(self):
        free(self._items)

    cdef bint _add(self, RecordFuture fut) except -1:
        # True when ``fut`` was left out of the collector (the batch still allows it)
        cdef PyObject** grown
        cdef Py_ssize_t cap
        if self._closed:
            return False
        if self._count == self._capacity:
            cap = self._capacity * 2 if self._capacity else 16
            grown = <PyObject**>realloc(self._items, cap * sizeof(PyObject*))
            if grown == NULL:
                return False  # stays tracked: correct, only slower
            self._items = grown
            self._capacity = cap
        self._items[self._count] = <PyObject*>fut
        fut._untracked = self
        fut._slot = self._count
        self._count += 1
        _gc_untrack(<void*>fut)
        return True

    cdef inline void _drop(self, Py_ssize_t slot) noexcept:
        if self._items != NULL:
            self._items[slot] = NULL

    cdef void _close(self) noexcept:
        free(self._items)
        self._items = NULL
        self._count = 0
        self._capacity = 0
        self._closed = True

    def track_all(self):
        """Give every future of the batch back to the collector; the batch's later ones stay tracked."""
        cdef Py_ssize_t i
        cdef PyObject* op
        for i in range(self._count):
            op = self._items[i]
            if op != NULL and not _gc_is_tracked(<object>op):
                _gc_track(<void*>op)
        self._close()

    def forget(self):
        """The batch was delivered cleanly: its futures may stay out of the collector until freed."""
        self._close()

    @property
    def closed(self):
        """True once the batch's futures are no longer left out (its later ones stay tracked)."""
        return self._closed

    def __len__(self):
        """The futures still left out."""
        cdef Py_ssize_t i, n = 0
        for i in range(self._count):
            if self._items[i] != NULL:
                n += 1
        return n


@cython.freelist(256)
@cython.auto_pickle(False)  # a copy would share the original's slot in its batch's list
cdef class RecordFuture:
    """The delivery of one record: ``await`` it for ``RecordMetadata`` or a typed error.

    Offers the parts of the ``asyncio.Future`` API that users rely on: ``done()``, ``result()``,
    ``exception()``, ``add_done_callback(fn)`` (``fn`` receives this object).
    """

    cdef readonly object _batch
    cdef readonly Py_ssize_t _delta
    # the record's timestamp: _ts_obj, or _ts when that is _C_CLOCK (the common record's, made an
    # int only when the metadata is read)
    cdef int64_t _ts
    cdef object _ts_obj
    cdef UntrackedFutures _untracked  # the list this future is in, while it is out of the collector
    cdef Py_ssize_t _slot

    def __init__(self, batch, Py_ssize_t delta, timestamp):
        self._batch = batch
        self._delta = delta
        self._ts_obj = timestamp

    @property
    def _timestamp(self):
        """The record's timestamp (ms), as given to the builder."""
        return self._ts if self._ts_obj is _C_CLOCK else self._ts_obj

    def __dealloc__(self):
        if self._untracked is not None:
            self._untracked._drop(self._slot)

    def __await__(self):
        fut = self._batch.future
        if not fut.done():
            self._batch.untracked.track_all()  # the waiting task is about to be kept by the batch
            yield BatchWaiter(fut)
        return record_metadata(self._batch, self._delta, self._timestamp)

    def done(self):
        """True once the record was delivered or failed."""
        return self._batch.future.done()

    def cancelled(self):
        """Always False: a record handed to the producer cannot be cancelled."""
        return False

    def result(self):
        """The metadata; raises the delivery error, or ``asyncio.InvalidStateError`` if pending."""
        return record_metadata(self._batch, self._delta, self._timestamp)

    def exception(self):
        """The delivery error, None on success; ``asyncio.InvalidStateError`` while pending."""
        fut = self._batch.future
        exc = fut.exception()
        if exc is None and fut.result()[0] == SPLIT_BASE_OFFSET:  # split after MESSAGE_TOO_LARGE
            exc = follow_split(self._batch, self._delta)[0].future.exception()
        if exc is not None:  # handed out: a frame raising it may hold any record of the batch
            self._batch.untracked.track_all()
        return exc

    def add_done_callback(self, fn):
        """Call ``fn(self)`` once the record's delivery is decided."""
        self._batch.untracked.track_all()  # the batch's future is about to keep fn
        self._batch.future.add_done_callback(lambda _f: fn(self))

    @property
    def topic(self):
        return self._batch.topic

    @property
    def partition(self):
        return self._batch.partition

    def __repr__(self):
        state = "done" if self.done() else "pending"
        return f"<RecordFuture {self._batch.topic}-{self._batch.partition} delta={self._delta} {state}>"


def batch_position(RecordFuture fut):
    """The batch holding the record of ``fut`` and the record's offset delta in it."""
    return fut._batch, fut._delta


@cython.freelist(64)
cdef class Run:
    """Consecutive records of one ``send_many`` call in one batch: offset deltas ``first`` on."""

    cdef public object batch
    cdef public Py_ssize_t first
    cdef public Py_ssize_t count

    def __init__(self, batch, Py_ssize_t first):
        self.batch = batch
        self.first = first
        self.count = 1


cdef inline Run _new_run(object batch, Py_ssize_t first):
    cdef Run run = Run.__new__(Run)
    run.batch = batch
    run.first = first
    run.count = 1
    return run


cdef object _new_tuple = tuple.__new__  # RecordMetadata built without its Python-level __new__


def runs_metadata(runs, timestamp):
    """The ``RecordMetadata`` of every record of ``runs``, in order (the batches' outcome read once
    per run); raises the error of the first failed batch among them."""
    cdef list out = []
    cdef Run run
    cdef Py_ssize_t d, first, end
    cdef long long base
    for r in runs:
        run = <Run?>r
        batch = run.batch
        first = run.first
        end = first + run.count
        base_offset, log_append_time = _outcome(batch, batch)
        if base_offset == SPLIT_BASE_OFFSET:  # each record is in one of the parts
            for d in range(first, end):
                out.append(record_metadata(batch, d, timestamp))
            continue
        base = base_offset
        topic = batch.topic
        partition = batch.partition
        if log_append_time >= 0:
            ts = log_append_time
            ts_type = LOG_APPEND_TIME
        else:
            ts = timestamp
            ts_type = CREATE_TIME
        for d in range(first, end):
            out.append(_new_tuple(RecordMetadata, (topic, partition, base + d if base >= 0 else -1, ts, ts_type)))
    return out


cdef Py_ssize_t _bound(Py_ssize_t size, object key, object value, object headers) except -2:
    # size plus the record's key, value and headers when they are in the common form (key and value
    # bytes or None, headers None or a list or tuple of (str, bytes | None) tuples), else -1
    if headers is not None:
        for pair in headers:
            if type(pair) is not tuple or len(<tuple>pair) != 2:
                return -1
            hk = (<tuple>pair)[0]
            hv = (<tuple>pair)[1]
            if type(hk) is not str:
                return -1
            size += 10 + len(<str>hk) * 3  # as record_size_upper_bound
            if hv is not None:
                if type(hv) is not bytes:
                    return -1
                size += len(<bytes>hv)
    if value is not None:
        if type(value) is not bytes:
            return -1
        size += len(<bytes>value)
    if key is not None:
        if type(key) is not bytes:
            return -1
        size += len(<bytes>key)
    return size


cdef class OpenBatch:
    """What the append path reads of a queued batch, as C fields: its record builder (None once the
    batch was drained) and its :class:`UntrackedFutures`. The base of the accumulator's batch."""

    cdef public object builder
    cdef public object untracked


cdef inline object _builder_of(object batch):
    # batch.builder, a C field read when the batch is an OpenBatch
    if isinstance(batch, OpenBatch):
        return (<OpenBatch>batch).builder
    return batch.builder


cdef inline RecordFuture _new_future(object batch, Py_ssize_t delta, int64_t ts, object timestamp):
    # skips the __init__ call: the fields are set directly
    cdef RecordFuture fut = RecordFuture.__new__(RecordFuture)
    fut._batch = batch
    fut._delta = delta
    fut._ts = ts
    fut._ts_obj = timestamp
    if isinstance(batch, OpenBatch):
        untracked = (<OpenBatch>batch).untracked
    else:
        untracked = batch.untracked
    if type(untracked) is UntrackedFutures:  # the pure twin's (extensions disabled) tracks them all
        (<UntrackedFutures>untracked)._add(fut)
    return fut


@cython.wraparound(True)  # dq[-1]: the last batch of the deque
cdef object _append_open(object dq, int64_t ts, object timestamp, object key, object value, object headers,
                         Py_ssize_t* appended):
    # the record appended into the open (last) batch of the queue dq (None: no queue), or None when
    # there is none or it is full; its timestamp is timestamp, or ts when that is _C_CLOCK; appended
    # (NULL: not wanted) gets the bytes the record added to its batch, what the sticky state counts
    cdef Py_ssize_t before = 0, delta
    if dq:
        batch = dq[-1]
        builder = _builder_of(batch)  # None once the batch was drained (built)
        if builder is not None:
            if appended != NULL:
                before = builder_size(builder)
            if timestamp is _C_CLOCK:
                delta = builder_append_ms(builder, ts, key, value, headers)
            else:
                delta = builder_append(builder, timestamp, key, value, headers)
            if delta >= 0:
                if appended != NULL:
                    appended[0] = builder_size(builder) - before
                return _new_future(batch, delta, ts, timestamp)
    return None


def try_append(dict queues, topic, partition, timestamp, key, value, headers):
    """Append into the open (last) batch of ``queues[(topic, partition)]``.

    Returns the record's ``RecordFuture``, or None when there is no open batch or it is full
    (the caller then starts a new batch through the accumulator).
    """
    return _append_open(queues.get((topic, partition)), 0, timestamp, key, value, headers, NULL)


cdef inline int64_t _now_ms() noexcept:
    cdef timespec ts
    clock_gettime(CLOCK_REALTIME, &ts)
    return <int64_t>ts.tv_sec * 1000 + ts.tv_nsec // 1000000


def now_ms():
    """A record's create time when the caller gives none: wall-clock milliseconds (the one source)."""
    return _now_ms()


cdef class TopicStickiness:
    """A topic's sticky partition (-1: none chosen), the bytes produced to it and the one before."""

    cdef public Py_ssize_t partition
    cdef public Py_ssize_t produced_bytes
    cdef public Py_ssize_t previous

    def __init__(self):
        self.partition = -1
        self.produced_bytes = 0
        self.previous = -1


@cython.final
cdef class TopicState:
    """What the appender keeps of one topic, found by one lookup: its partition count for the
    appender's metadata (-1: not known), its sticky state (None: none yet) and its queue row (at
    index p the queue of partition p, else None)."""

    cdef public Py_ssize_t count
    cdef public TopicStickiness sticky
    cdef public list row

    def __init__(self):
        self.count = -1
        self.sticky = None
        self.row = []


cdef inline void _switch(TopicStickiness st):
    # leave the partition: the next partition() call draws another one
    st.produced_bytes = 0
    st.previous = st.partition
    st.partition = -1


cdef class PartitionAppender:
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

    cdef public bint enabled
    cdef readonly object cluster
    cdef MetadataCell _cell  # cluster.metadata_cell: the current metadata
    cdef public object metadata
    cdef readonly object choose
    cdef dict _queues  # (topic, partition) -> deque
    cdef dict _topics  # topic -> TopicState: its row holds at index p the deque _queues has for (topic, p)
    cdef readonly object queues
    cdef public Py_ssize_t sticky_batch_size
    cdef public Py_ssize_t max_record_size
    cdef public bint keys_decide
    cdef public object murmur2
    cdef public Py_ssize_t size_bound_overhead

    def __init__(self, cluster, Py_ssize_t max_record_size, Py_ssize_t sticky_batch_size, bint keys_decide,
                 murmur2, Py_ssize_t size_bound_overhead, choose):
        # the size comes from kafkaio.producer.accumulator (see the twin)
        self.size_bound_overhead = size_bound_overhead
        self.enabled = False
        self.cluster = cluster
        self._cell = cluster.metadata_cell
        self.metadata = None
        self.choose = choose
        self._queues = {}
        self._topics = {}
        self.queues = MappingProxyType(self._queues)
        self.sticky_batch_size = sticky_batch_size
        self.max_record_size = max_record_size
        self.keys_decide = keys_decide
        self.murmur2 = murmur2

    def queue(self, topic, Py_ssize_t partition):
        """The partition's batch queue, made (empty) when it has none."""
        cdef list row
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

    cdef TopicState _state(self, object topic):
        # the topic's state, made when it has none
        cdef TopicState ts = self._topics.get(topic)
        if ts is None:
            ts = self._topics[topic] = TopicState()
        return ts

    @cython.boundscheck(False)
    @cython.wraparound(False)
    cdef inline object _queue_of(self, object topic, Py_ssize_t partition):
        # queues[(topic, partition)] or None, found without building and hashing the key
        cdef TopicState ts = self._topics.get(topic)
        if ts is None or partition < 0 or partition >= len(ts.row):
            return None
        return ts.row[partition]

    @property
    def partition_counts(self):
        """The partition count of each topic known for ``metadata`` (a copy)."""
        cdef TopicState ts
        return {t: ts.count for t, ts in self._topics.items() if ts.count >= 0}

    @property
    def sticky(self):
        """The sticky state of each topic that has one (a copy of the mapping, the states themselves)."""
        cdef TopicState ts
        return {t: ts.sticky for t, ts in self._topics.items() if ts.sticky is not None}

    def partition_count(self, topic):
        """The topic's partition count for ``metadata``, None when not known."""
        cdef TopicState ts = self._topics.get(topic)
        return None if ts is None or ts.count < 0 else ts.count

    def set_partition_count(self, topic, Py_ssize_t count):
        """Record the topic's partition count, read from ``metadata`` (at least 1)."""
        if count < 1:  # a count of 0 would divide by zero in C (cdivision)
            raise ValueError(f"partition count {count}")
        self._state(topic).count = count

    cdef inline void _count(self, TopicStickiness st, Py_ssize_t appended):
        st.produced_bytes += appended
        if st.produced_bytes >= self.sticky_batch_size:
            _switch(st)

    def try_send(self, topic, value, key, partition, timestamp_ms, headers):
        """``send()``'s common record appended to its partition's open batch: its future, or None
        (nothing changed) for the general path.

        The common record: the appender is ``enabled``; key and value are bytes or None; headers
        none, or a list or tuple of ``(str, bytes | None)`` tuples; the partition count of the topic
        is known for the current metadata (``cluster.metadata_cell.current is metadata``); the partition is
        explicit and in range, decided by the key, or the topic's current sticky partition; the
        record fits ``max_record_size`` and the open batch.
        """
        return self._try_send(topic, value, key, partition, timestamp_ms, headers, False)

    def send_or_route(self, topic, value, key, partition, timestamp_ms, headers):
        """:meth:`try_send`; and for a common record whose partition has no open batch (drained, or
        none yet: every ``send_and_wait`` with ``linger_ms=0``), where its new batch goes:
        ``(partition, sticky, timestamp, size)``, nothing changed. ``sticky``: the partition is the
        topic's sticky one; ``timestamp``: the record's create time (now when it has none);
        ``size``: the record's size bound (``max_record_size`` holds it)."""
        return self._try_send(topic, value, key, partition, timestamp_ms, headers, True)

    @cython.wraparound(True)  # dq[-1]: the last batch of the deque
    cdef object _try_send(self, topic, value, key, partition, timestamp_ms, headers, bint route):
        cdef Py_ssize_t size, n, p, appended = 0
        cdef int64_t ts = 0
        cdef TopicStickiness st = None
        cdef TopicState state
        cdef list row
        if not self.enabled:
            return None
        if headers:
            if type(headers) is not list and type(headers) is not tuple:
                return None
        else:
            headers = None
        size = _bound(self.size_bound_overhead, key, value, headers)
        if size < 0 or size > self.max_record_size or self._cell.current is not self.metadata:
            return None
        state = self._topics.get(topic)
        if state is None or state.count < 0:
            return None
        n = state.count
        if partition is None:
            if key is not None and self.keys_decide:
                p = (<long long>self.murmur2(key) & 0x7FFFFFFF) % n
            else:
                st = state.sticky
                if st is None or not 0 <= st.partition < n:  # a partition of earlier metadata: drawn again
                    return None
                p = st.partition
        elif type(partition) is not int or not 0 <= partition < n:
            return None
        else:
            p = partition
        if timestamp_ms is None:
            ts = _now_ms()
            timestamp_ms = _C_CLOCK
        elif type(timestamp_ms) is not int or timestamp_ms < 0:
            return None  # the general path validates it
        row = state.row
        dq = row[p] if p < len(row) else None
        if route and (not dq or _builder_of(dq[-1]) is None):
            if timestamp_ms is _C_CLOCK:
                timestamp_ms = ts
            elif timestamp_ms > _MAX_TIMESTAMP:
                return None  # the general path refuses it
            return (p, st is not None, timestamp_ms, size)
        if st is None:
            return _append_open(dq, ts, timestamp_ms, key, value, headers, NULL)
        fut = _append_open(dq, ts, timestamp_ms, key, value, headers, &appended)
        if fut is not None:
            self._count(st, appended)
        return fut

    def partition(self, topic, key, Py_ssize_t num_partitions):
        """The partition of a record without an explicit one: by its key (when keys decide), else
        the topic's sticky partition, drawn with ``choose`` when there is none."""
        if num_partitions < 1:
            raise ValueError(f"partition count {num_partitions}")
        if key is not None and self.keys_decide:
            return (<long long>self.murmur2(key) & 0x7FFFFFFF) % num_partitions
        return self._stay(topic, num_partitions).partition

    cdef TopicStickiness _stay(self, object topic, Py_ssize_t num_partitions):
        # the topic's sticky state, its partition drawn with choose when there is none
        cdef TopicState ts = self._state(topic)
        cdef TopicStickiness st = ts.sticky
        if st is None:
            st = ts.sticky = TopicStickiness()
        if st.partition < 0 or st.partition >= num_partitions:
            st.partition = self.choose(topic, num_partitions, st.previous)
            st.produced_bytes = 0
        return st

    @cython.wraparound(True)  # dq[-1]: the last batch of the deque
    def append(self, topic, partition, bint sticky, timestamp, key, value, headers):
        """Append into the partition's open batch: the record's future, or None when a new batch is
        needed. ``sticky``: ``partition`` came from the sticky partitioner, whose state counts the
        record, or, when the open batch refused it after this stay's first record, leaves that
        partition (ask ``partition`` again)."""
        cdef TopicStickiness st
        cdef Py_ssize_t appended = 0
        dq = self._queues.get((topic, partition))
        if not sticky:
            return _append_open(dq, 0, timestamp, key, value, headers, NULL)
        fut = _append_open(dq, 0, timestamp, key, value, headers, &appended)
        st = self._sticky_of(topic)
        if st is not None and st.partition == partition:
            if fut is not None:
                self._count(st, appended)
            elif st.produced_bytes > 0:
                # a partition chosen for this record keeps it: its full batch is an earlier
                # stay's, and the record starts the next one there
                if dq and dq[-1].builder is not None:
                    _switch(st)
        return fut

    @cython.wraparound(True)  # dq[-1], runs[-1]: the last of each
    def append_many(self, topic, items, partition, Py_ssize_t num_partitions, timestamp, list runs):
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
        cdef Py_ssize_t size, p, delta, nf, before
        cdef Py_ssize_t at = -1  # the partition whose open batch is in hand (nothing else runs meanwhile)
        cdef Py_ssize_t explicit = -1 if partition is None else partition
        cdef Py_ssize_t max_size = min(self.max_record_size, _BOUND_LIMIT)
        cdef Py_ssize_t overhead = self.size_bound_overhead
        cdef bint keys_decide = self.keys_decide
        cdef TopicStickiness st
        cdef Run run = runs[-1] if runs else None
        batch = None
        builder = None
        if num_partitions < 1 or (partition is not None and not 0 <= explicit < num_partitions):
            raise ValueError(f"partition {partition} of {num_partitions}")
        if type(timestamp) is not int or not -1 <= timestamp < (1 << 63):
            for item in items:
                return (item,)
            return None
        for item in items:
            headers = None
            if type(item) is tuple:
                nf = len(<tuple>item)
                if nf == 2:
                    key = (<tuple>item)[0]
                    value = (<tuple>item)[1]
                elif nf == 3:
                    key = (<tuple>item)[0]
                    value = (<tuple>item)[1]
                    headers = (<tuple>item)[2]
                    if headers is not None:
                        if type(headers) is not list and type(headers) is not tuple:
                            return (item,)
                        if not headers:
                            headers = None
                else:
                    return (item,)
            else:
                key = None
                value = item
            size = _bound(overhead, key, value, headers)
            if size < 0 or size > max_size:
                return (item,)
            st = None
            if explicit >= 0:
                p = explicit
            elif key is not None and keys_decide:
                p = (<long long>self.murmur2(key) & 0x7FFFFFFF) % num_partitions
            else:
                st = self._stay(topic, num_partitions)
                p = st.partition
            if p != at:
                dq = self._queue_of(topic, p)
                if not dq:
                    return (item,)
                batch = dq[-1]
                builder = _builder_of(batch)  # None once the batch was drained (built)
                if builder is None:
                    return (item,)
                at = p
            if st is None:
                delta = builder_append(builder, timestamp, key, value, headers)
                if delta < 0:
                    return (item,)
            else:
                before = builder_size(builder)
                delta = builder_append(builder, timestamp, key, value, headers)
                if delta < 0:
                    return (item,)
                self._count(st, builder_size(builder) - before)
            if run is not None and run.batch is batch and run.first + run.count == delta:
                run.count += 1
            else:
                run = _new_run(batch, delta)
                runs.append(run)
        return None

    def added(self, topic, partition, Py_ssize_t appended):
        """Count a record that started a new batch of its topic's sticky ``partition``: ``appended``
        bytes, the new batch's size (its header and the record, as Java counts a new batch)."""
        cdef TopicStickiness st = self._sticky_of(topic)
        if st is not None and st.partition == partition:
            self._count(st, appended)

    cdef TopicStickiness _sticky_of(self, object topic):
        cdef TopicState ts = self._topics.get(topic)
        return None if ts is None else ts.sticky

    def set_metadata(self, metadata):
        """Partition counts are read again from ``metadata`` (it replaced the one they came from)."""
        cdef TopicState ts
        for ts in self._topics.values():
            ts.count = -1
        self.metadata = metadata

    def forget_topic(self, topic):
        """Drop the topic's partition count, sticky state and empty queues (it is no longer used)."""
        cdef TopicState ts = self._topics.get(topic)
        if ts is None:
            return
        ts.count = -1
        ts.sticky = None
        for tp in [tp for tp, dq in self._queues.items() if tp[0] == topic and not dq]:
            del self._queues[tp]
            ts.row[tp[1]] = None
        if all(dq is None for dq in ts.row):
            del self._topics[topic]
