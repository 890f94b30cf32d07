"""The producer's per-record hot path: the compiled ``_producer`` and its pure twin ``producer_py``
behave identically (append into the open batch, the record awaitable, its metadata and errors)."""
from __future__ import annotations

import asyncio
from collections import deque
from types import ModuleType
from typing import Any

import pytest

from kafkaio.errors import NotLeaderOrFollowerError, ProducerClosedError
from kafkaio.producer import future as future_mod  # defines RecordMetadata before the speedups load it
from kafkaio.producer.accumulator import RECORD_SIZE_BOUND_OVERHEAD, ProducerBatch, record_size_upper_bound
from kafkaio.producer.future import LOG_APPEND_TIME, RecordMetadata
from kafkaio.records import BatchBuilder, Compression, read_batches

from producer_impls import IMPLS, impl, metadata_cell  # noqa: F401 - impl is a fixture


def _batch(topic: str = "t", partition: int = 3, batch_size: int = 1024) -> ProducerBatch:
    loop = asyncio.get_running_loop()
    return ProducerBatch(topic, partition, BatchBuilder(Compression.NONE, batch_size), loop.create_future(),
                         0.0, 10_000.0, batch_size)


def test_the_producer_uses_the_loaded_implementation() -> None:
    from kafkaio._speedups import load
    assert future_mod.RecordFuture is load("producer").RecordFuture
    assert future_mod.try_append is load("producer").try_append


async def test_try_append_fills_the_open_batch_then_refuses(impl: ModuleType) -> None:
    batch = _batch(batch_size=300)
    queues = {("t", 3): deque([batch])}
    futs = []
    while (fut := impl.try_append(queues, "t", 3, 1000 + len(futs), b"k", b"v" * 50, None)) is not None:
        futs.append(fut)
    assert 1 < len(futs) < 10
    assert [f._delta for f in futs] == list(range(len(futs)))
    assert all(f._batch is batch for f in futs)
    assert [f._timestamp for f in futs] == [1000 + i for i in range(len(futs))]
    assert isinstance(futs[0], impl.RecordFuture)
    # the refused record was not appended: the batch holds exactly the accepted ones
    [read] = list(read_batches(batch.builder.build()))
    assert [r.timestamp for r in read.records("t", 3)] == [1000 + i for i in range(len(futs))]


async def test_try_append_without_an_open_batch_returns_none(impl: ModuleType) -> None:
    batch = _batch()
    assert impl.try_append({}, "t", 3, 1, None, b"v", None) is None
    assert impl.try_append({("t", 3): deque()}, "t", 3, 1, None, b"v", None) is None
    batch.builder = None  # drained
    assert impl.try_append({("t", 3): deque([batch])}, "t", 3, 1, None, b"v", None) is None
    # another partition's queue is not used
    assert impl.try_append({("t", 2): deque([_batch(partition=2)])}, "t", 3, 1, None, b"v", None) is None


async def test_try_append_passes_builder_errors_through(impl: ModuleType) -> None:
    queues = {("t", 3): deque([_batch()])}
    with pytest.raises(TypeError):
        impl.try_append(queues, "t", 3, 1, None, 12345, None)


async def test_try_append_with_any_builder_and_timestamp_writes_what_append_writes(impl: ModuleType) -> None:
    """The compiled path calls a compiled builder in C: a pure builder, a timestamp beyond the C fast
    path's range and headers still get exactly what ``builder.append`` writes."""
    from kafkaio._speedups import records_py
    big_ts = (1 << 62) + 5
    for builder_type in (BatchBuilder, records_py.BatchBuilder):
        batch = _batch()
        batch.builder = builder_type(Compression.NONE, 1024)
        queues = {("t", 3): deque([batch])}
        futs = [impl.try_append(queues, "t", 3, 7, b"k", b"v", None),
                impl.try_append(queues, "t", 3, big_ts, None, b"w", None),
                impl.try_append(queues, "t", 3, 9, None, None, [("h", b"x"), ("i", None)])]
        assert [f._delta for f in futs] == [0, 1, 2]
        [read] = list(read_batches(batch.builder.build()))
        assert [(r.timestamp, r.key, r.value, list(r.headers)) for r in read.records("t", 3)] == [
            (7, b"k", b"v", []), (big_ts, None, b"w", []), (9, None, None, [("h", b"x"), ("i", None)])]


class _PlainBatch:
    """A batch that is not an OpenBatch (the accumulator's batches are): read as attributes."""

    def __init__(self, untracked: Any) -> None:
        self.topic, self.partition, self.split_parts = "t", 3, None
        self.builder = BatchBuilder(Compression.NONE, 1024)
        self.future = asyncio.get_running_loop().create_future()
        self.untracked = untracked


def test_the_accumulators_batch_is_an_open_batch() -> None:
    from kafkaio.producer.accumulator import ProducerBatch
    assert issubclass(ProducerBatch, future_mod.OpenBatch)


async def test_any_batch_with_the_attributes_takes_records(impl: ModuleType) -> None:
    batch = _PlainBatch(impl.UntrackedFutures())
    queues = {("t", 3): deque([batch])}
    futs = [impl.try_append(queues, "t", 3, 5, None, b"v%d" % i, None) for i in range(3)]
    assert [f._delta for f in futs] == [0, 1, 2] and all(f._batch is batch for f in futs)
    batch.future.set_result((40, -1))
    assert [(await f).offset for f in futs] == [40, 41, 42]


async def test_awaiting_gives_the_records_metadata(impl: ModuleType) -> None:
    batch = _batch()
    queues = {("t", 3): deque([batch])}
    f0 = impl.try_append(queues, "t", 3, 111, None, b"a", None)
    f1 = impl.try_append(queues, "t", 3, 222, None, b"b", None)
    assert not f1.done() and not f1.cancelled()
    assert "pending" in repr(f1) and "t-3" in repr(f1)
    with pytest.raises(asyncio.InvalidStateError):
        f1.result()
    seen = []
    f1.add_done_callback(seen.append)
    asyncio.get_running_loop().call_soon(batch.future.set_result, (40, -1))
    assert await f1 == RecordMetadata("t", 3, 41, 222, 0)
    assert f0.result() == RecordMetadata("t", 3, 40, 111, 0)
    assert f1.exception() is None and f1.done() and "done" in repr(f1)
    await asyncio.sleep(0)
    assert seen == [f1]
    assert (f1.topic, f1.partition) == ("t", 3)


async def test_log_append_time_and_unknown_offset(impl: ModuleType) -> None:
    batch = _batch()
    fut = impl.RecordFuture(batch, 2, 5)
    batch.future.set_result((-1, 777))
    md = await fut
    assert md == RecordMetadata("t", 3, -1, 777, LOG_APPEND_TIME)
    assert impl.record_metadata(batch, 2, 5) == md


async def test_a_failed_batch_raises_its_error_from_every_record(impl: ModuleType) -> None:
    batch = _batch()
    futs = [impl.RecordFuture(batch, d, 9) for d in range(3)]
    err = ProducerClosedError("closed")
    asyncio.get_running_loop().call_soon(batch.future.set_exception, err)
    for fut in futs:
        with pytest.raises(ProducerClosedError) as info:
            await fut
        assert info.value is err
        assert fut.exception() is err
        with pytest.raises(ProducerClosedError):
            fut.result()


async def test_both_implementations_agree_record_by_record() -> None:
    if len(IMPLS) < 2:
        pytest.skip("the compiled _producer is not built")
    outcomes = []
    for mod in IMPLS:
        batch = _batch(batch_size=400)
        queues = {("t", 3): deque([batch])}
        got = []
        for i in range(20):
            fut = mod.try_append(queues, "t", 3, 1000 + i, b"key%d" % i, b"v" * (i * 7), [("h", b"x")])
            got.append(None if fut is None else (fut._delta, fut._timestamp))
        batch.future.set_exception(NotLeaderOrFollowerError("moved"))
        with pytest.raises(NotLeaderOrFollowerError):
            await mod.RecordFuture(batch, 0, 1)
        outcomes.append((got, bytes(batch.builder.build())))
    assert outcomes[0] == outcomes[1]


async def test_a_split_batch_sends_each_record_to_its_part(impl: ModuleType) -> None:
    # after MESSAGE_TOO_LARGE the batch resolves with base offset -2 and split_parts says, per
    # offset delta, which part holds the record and at which delta (kafkaio.producer.split)
    batch, good, bad = _batch(), _batch(), _batch()
    batch.split_parts = [(good, 0), (good, 1), (bad, 0)]
    futs = [impl.RecordFuture(batch, d, 100 + d) for d in range(3)]
    batch.future.set_result((-2, -1))
    good.future.set_result((70, -1))
    err = ProducerClosedError("too large alone")
    bad.future.set_exception(err)
    assert await futs[1] == RecordMetadata("t", 3, 71, 101, 0)
    assert futs[0].result() == RecordMetadata("t", 3, 70, 100, 0)
    assert futs[0].exception() is None
    assert futs[2].exception() is err
    with pytest.raises(ProducerClosedError):
        await futs[2]



async def test_runs_metadata_is_each_records_metadata_in_order(impl: ModuleType) -> None:
    """The metadata of whole runs equals record_metadata of each record: offsets from the base,
    log append time, unknown offsets, records of a split batch from their parts."""
    plain, appended, unknown, split, part = _batch(partition=1), _batch(partition=2), _batch(), _batch(), _batch()
    plain.future.set_result((100, -1))
    appended.future.set_result((7, 777))
    unknown.future.set_result((-1, -1))
    split.split_parts = [(part, 0), (part, 1), (part, 2)]
    split.future.set_result((-2, -1))
    part.future.set_result((50, -1))
    runs = [impl.Run(plain, 0), impl.Run(appended, 3), impl.Run(plain, 5), impl.Run(unknown, 0), impl.Run(split, 1)]
    for run, count in zip(runs, (3, 2, 1, 2, 2)):
        run.count = count
    got = impl.runs_metadata(runs, 1234)
    want = [impl.record_metadata(r.batch, d, 1234) for r in runs for d in range(r.first, r.first + r.count)]
    assert got == want and [type(md) for md in got] == [RecordMetadata] * 10
    assert [(md.partition, md.offset, md.timestamp, md.timestamp_type) for md in got] == [
        (1, 100, 1234, 0), (1, 101, 1234, 0), (1, 102, 1234, 0), (2, 10, 777, 1), (2, 11, 777, 1),
        (1, 105, 1234, 0), (3, -1, 1234, 0), (3, -1, 1234, 0), (3, 51, 1234, 0), (3, 52, 1234, 0)]
    assert got[0].topic == "t" and impl.runs_metadata([], 1) == []
    failed = _batch()
    failed.future.set_exception(ProducerClosedError("closed"))
    with pytest.raises(ProducerClosedError):
        impl.runs_metadata([runs[0], impl.Run(failed, 0)], 1234)

# -- PartitionAppender: the one append path ------------------------------------------------------

class _Cluster:
    """The cluster's part the appender reads: its metadata cell (``metadata`` reads and writes it)."""

    def __init__(self, impl: ModuleType) -> None:
        self.metadata_cell = metadata_cell(impl)(object())

    @property
    def metadata(self) -> object:
        return self.metadata_cell.current

    @metadata.setter
    def metadata(self, metadata: object) -> None:
        self.metadata_cell.current = metadata


class _Choose:
    """A deterministic draw of the next sticky partition: the lowest one other than the previous."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, int, int]] = []

    def __call__(self, topic: str, n: int, previous: int) -> int:
        self.calls.append((topic, n, previous))
        return 0 if previous != 0 else 1


def _appender(impl: ModuleType, queues: dict | None = None, *, partitions: int = 4,
              max_record_size: int = 10_000, sticky_batch_size: int = 1000, keys_decide: bool = True,
              sticky_partition: int | None = 2) -> Any:
    from kafkaio.producer.partitioner import murmur2
    app = impl.PartitionAppender(_Cluster(impl), max_record_size, sticky_batch_size, keys_decide, murmur2,
                                 RECORD_SIZE_BOUND_OVERHEAD, _Choose())
    for (topic, partition), dq in (queues or {}).items():
        app.queue(topic, partition).extend(dq)
    app.set_metadata(app.cluster.metadata)
    app.set_partition_count("t", partitions)
    if sticky_partition is not None:
        app.partition("t", None, partitions)  # makes the topic's sticky state
        app.sticky["t"].partition = sticky_partition
        app.choose.calls.clear()
    app.enabled = True
    return app


async def test_try_send_appends_to_the_sticky_partition_and_counts_appended_bytes(impl: ModuleType) -> None:
    batch = _batch("t", 2, batch_size=4096)
    app = _appender(impl, {("t", 2): deque([batch])}, sticky_batch_size=1000)
    futs = [app.try_send("t", b"v" * 100, None, None, 5, None) for _ in range(9)]
    assert all(f is not None and f._batch is batch for f in futs)
    assert [f._delta for f in futs] == list(range(9))
    # a record of 100 bytes adds 109 to the batch: 9 count 981 bytes, still on partition 2; the
    # 10th reaches 1000 and switches
    st = app.sticky["t"]
    assert batch.builder.estimated_size() == 61 + 981
    assert (st.partition, st.produced_bytes, st.previous) == (2, 981, -1)
    assert app.try_send("t", b"v" * 100, None, None, 5, None) is not None
    assert (st.partition, st.produced_bytes, st.previous) == (-1, 0, 2)
    # no sticky partition chosen: the general path decides (and nothing was changed)
    assert app.try_send("t", b"v", None, None, 5, None) is None
    assert app.partition("t", None, 4) == 0 and app.choose.calls == [("t", 4, 2)]


async def test_try_send_takes_headers_and_counts_the_bytes_appended(impl: ModuleType) -> None:
    """Records with headers as a list or tuple of (str, bytes | None) pairs take the fast path: the
    batch holds them as the general path writes them, and the sticky state counts what they added."""
    batch = _batch("t", 2, batch_size=4096)
    app = _appender(impl, {("t", 2): deque([batch])}, sticky_batch_size=100_000)
    headers: list[Any] = [[("trace", b"abc"), ("none", None)], (("é-utf8", b""),), []]
    for i, hdrs in enumerate(headers):
        fut = app.try_send("t", b"v%d" % i, None, None, 5, hdrs)
        assert fut is not None and fut._batch is batch and fut._delta == i
    assert app.sticky["t"].produced_bytes == batch.builder.estimated_size() - 61
    expected = BatchBuilder(Compression.NONE, 4096)
    for i, hdrs in enumerate(headers):
        expected.append(5, None, b"v%d" % i, list(hdrs))
    got = [(r.value, list(r.headers)) for b in read_batches(batch.builder.build()) for r in b.records("t", 2)]
    want = [(r.value, list(r.headers)) for b in read_batches(expected.build()) for r in b.records("t", 2)]
    assert got == want == [(b"v0", [("trace", b"abc"), ("none", None)]), (b"v1", [("é-utf8", b"")]), (b"v2", [])]


async def test_try_send_keyed_and_explicit_partitions(impl: ModuleType) -> None:
    from kafkaio.producer.partitioner import partition_for_key
    key = b"order-17"
    p = partition_for_key(key, 4)
    queues = {("t", p): deque([_batch("t", p)]), ("t", 0): deque([_batch("t", 0)])}
    app = _appender(impl, queues)
    fut = app.try_send("t", b"v", key, None, 7, None)
    assert fut is not None and fut.partition == p
    fut = app.try_send("t", b"v", key, 0, 7, None)  # an explicit partition wins over the key
    assert fut is not None and fut.partition == 0
    assert app.sticky["t"].produced_bytes == 0  # keyed and explicit records are not sticky
    for bad in (4, -1, True, 1.0):  # out of range or not an int: the general path raises
        assert app.try_send("t", b"v", key, bad, 7, None) is None


async def test_try_send_hands_everything_unusual_to_the_general_path(impl: ModuleType) -> None:
    batch = _batch("t", 2, batch_size=4096)
    app = _appender(impl, {("t", 2): deque([batch])}, max_record_size=200)
    cases = [
        dict(value="str"), dict(value=bytearray(b"v")), dict(key="k"),
        # headers other than a list or tuple of (str, bytes | None) tuples: the general path
        # converts or refuses them with its typed error
        dict(headers={"h": b"v"}), dict(headers=[("h", "str")]), dict(headers=[["h", b"v"]]),
        dict(headers=[(b"h", b"v")]), dict(headers=[("h", b"v", b"x")]), dict(headers=iter([("h", b"v")])),
        dict(headers=[("h", bytearray(b"v"))]), dict(headers=[("h", b"v" * 300)]),
        dict(value=b"v" * 200),  # over max_record_size (RECORD_SIZE_BOUND_OVERHEAD + 200)
        dict(topic="unknown"), dict(timestamp_ms=-5), dict(timestamp_ms=1.5),
    ]
    for case in cases:
        args = {"topic": "t", "value": b"v", "key": None, "partition": None, "timestamp_ms": None,
                "headers": None, **case}
        assert app.try_send(args["topic"], args["value"], args["key"], args["partition"],
                            args["timestamp_ms"], args["headers"]) is None, case
    metadata = app.metadata
    app.metadata = object()  # metadata changed since the partition counts were taken
    assert app.try_send("t", b"v", None, None, None, None) is None
    app.metadata = metadata
    app.enabled = False
    assert app.try_send("t", b"v", None, None, None, None) is None
    assert batch.builder.record_count == 0  # nothing was appended by any refused call
    app.enabled = True
    fut = app.try_send("t", b"v", None, None, None, None)
    import time
    assert fut is not None and abs(fut._timestamp - time.time() * 1000) < 60_000  # now, in ms
    assert abs(impl.now_ms() - time.time() * 1000) < 60_000


async def test_send_or_route_says_where_a_record_without_an_open_batch_goes(impl: ModuleType) -> None:
    """No open batch in the record's partition (none yet, an empty queue, a drained batch): the
    partition, whether it is the sticky one, the create time and the size bound, with nothing
    changed; try_send answers None there."""
    drained = _batch("t", 2)
    drained.builder = None
    from kafkaio.producer.partitioner import partition_for_key
    key = b"order-17"
    keyed = partition_for_key(key, 4)
    size = RECORD_SIZE_BOUND_OVERHEAD + 10
    for queues in ({}, {("t", 2): deque()}, {("t", 2): deque([drained])}):
        app = _appender(impl, queues)
        st = app.sticky["t"]
        assert app.send_or_route("t", b"v" * 10, None, None, 5, None) == (2, True, 5, size)
        assert app.send_or_route("t", b"v" * 10, key, None, 5, None) == (keyed, False, 5, size + len(key))
        assert app.send_or_route("t", b"v" * 10, None, 1, 5, None) == (1, False, 5, size)
        assert app.try_send("t", b"v" * 10, None, None, 5, None) is None
        assert (st.partition, st.produced_bytes, st.previous) == (2, 0, -1) and app.choose.calls == []
        assert drained.builder is None and all(not dq or dq[0] is drained for dq in app.queues.values())
    hdrs = [("h", b"abc")]
    assert app.send_or_route("t", b"v", None, None, 5, hdrs)[3] == record_size_upper_bound(None, b"v", hdrs)
    assert app.send_or_route("t", b"v", None, None, 2 ** 63 - 1, None)[2] == 2 ** 63 - 1
    assert app.send_or_route("t", b"v", None, None, 2 ** 63, None) is None  # the general path refuses it
    import time
    p, sticky, ts, _ = app.send_or_route("t", b"v", None, None, None, None)
    assert (p, sticky) == (2, True) and type(ts) is int and abs(ts - time.time() * 1000) < 60_000


async def test_send_or_route_appends_to_an_open_batch_and_leaves_a_full_one_to_the_general_path(
        impl: ModuleType) -> None:
    batch = _batch("t", 2, batch_size=200)
    app = _appender(impl, {("t", 2): deque([batch])}, sticky_batch_size=100_000)
    fut = app.send_or_route("t", b"v" * 10, None, None, 5, None)
    assert isinstance(fut, impl.RecordFuture) and fut._batch is batch
    assert app.sticky["t"].produced_bytes == batch.builder.estimated_size() - 61
    while (got := app.send_or_route("t", b"v" * 50, None, None, 5, None)) is not None:
        assert isinstance(got, impl.RecordFuture)
    # full: the general path moves the sticky partition on (or starts the batch), not the route
    assert app.sticky["t"].partition == 2


async def test_send_or_route_hands_everything_unusual_to_the_general_path(impl: ModuleType) -> None:
    app = _appender(impl, {}, max_record_size=200)
    cases = [
        dict(value="str"), dict(key="k"), dict(headers={"h": b"v"}), dict(headers=[("h", "str")]),
        dict(value=b"v" * 200), dict(topic="unknown"), dict(timestamp_ms=-5), dict(timestamp_ms=1.5),
        dict(partition=4), dict(partition=True),
    ]
    for case in cases:
        args = {"topic": "t", "value": b"v", "key": None, "partition": None, "timestamp_ms": None,
                "headers": None, **case}
        assert app.send_or_route(args["topic"], args["value"], args["key"], args["partition"],
                                 args["timestamp_ms"], args["headers"]) is None, case
    app.metadata = object()  # metadata changed since the partition counts were taken
    assert app.send_or_route("t", b"v", None, None, None, None) is None
    app.enabled = False
    assert app.send_or_route("t", b"v", None, None, None, None) is None


async def test_partition_by_key_or_sticky_until_batch_size_bytes(impl: ModuleType) -> None:
    from kafkaio.producer.partitioner import partition_for_key
    app = _appender(impl, sticky_partition=None, sticky_batch_size=1000)
    assert app.partition("t", b"k1", 6) == partition_for_key(b"k1", 6)
    assert app.choose.calls == []  # a key decides without the sticky state
    first = app.partition("t", None, 6)
    assert app.choose.calls == [("t", 6, -1)]
    for _ in range(9):
        assert app.partition("t", None, 6) == first
        app.added("t", first, 100)  # a new batch of 100 bytes
    assert app.sticky["t"].produced_bytes == 900 and app.partition("t", None, 6) == first
    app.added("t", first, 100)  # 1000: switch
    assert app.partition("t", None, 6) != first and app.choose.calls[-1] == ("t", 6, first)
    ignoring = _appender(impl, sticky_partition=3, keys_decide=False)
    assert ignoring.partition("t", b"k1", 6) == 3  # partitioner_ignore_keys: keys are sticky too


async def test_a_refused_sticky_record_moves_the_partition_on_once(impl: ModuleType) -> None:
    full = _batch("t", 2, batch_size=100)
    app = _appender(impl, {("t", 2): deque([full])})
    assert app.append("t", 2, True, 1, None, b"v" * 30, None) is not None
    assert app.append("t", 2, True, 1, None, b"v" * 500, None) is None  # the open batch is full
    st = app.sticky["t"]
    assert (st.partition, st.produced_bytes, st.previous) == (-1, 0, 2)
    assert app.partition("t", None, 4) == 0  # the next record's partition: another one
    # a second record that found the same full batch (the sticky partition already moved) stays put
    assert app.append("t", 2, True, 1, None, b"v" * 500, None) is None
    assert app.sticky["t"].partition == 0
    # keyed records (not sticky) and a partition without an open batch move nothing
    assert app.append("t", 2, False, 1, None, b"v" * 500, None) is None
    assert app.append("t", 0, True, 1, None, b"v", None) is None  # no batch yet: start one
    assert app.sticky["t"].partition == 0 and app.sticky["t"].produced_bytes == 0
    # a partition just chosen keeps the record although an earlier stay's batch there is full
    app.queue("t", 0).append(_batch("t", 0, batch_size=100))
    assert app.append("t", 0, True, 1, None, b"v" * 30, None) is not None
    app.sticky["t"].produced_bytes = 0
    assert app.append("t", 0, True, 1, None, b"v" * 500, None) is None
    assert app.sticky["t"].partition == 0
    app.added("t", 0, 100)  # the accumulator started the batch: the record counts
    app.added("t", 3, 100)  # not the sticky partition: not counted
    assert app.sticky["t"].produced_bytes == 100


# -- append_many: send_many's common records in one call ------------------------------------------

def _records_of(batch: ProducerBatch) -> list[tuple[Any, Any, list]]:
    return [(r.key, r.value, list(r.headers)) for rb in read_batches(batch.builder.build())
            for r in rb.records(batch.topic, batch.partition)]


def _runs(runs: list) -> list[tuple[int, int, int]]:
    return [(r.batch.partition, r.first, r.count) for r in runs]


async def test_append_many_appends_every_common_form_in_runs(impl: ModuleType) -> None:
    """Values, pairs and triples with headers as a list or tuple of (str, bytes | None) tuples, empty
    or None: appended in order as the builder writes them, one run per batch."""
    batch = _batch("t", 2, batch_size=4096)
    app = _appender(impl, {("t", 2): deque([batch])}, sticky_batch_size=100_000)
    items: list[Any] = [b"v0", None, (None, b"v2"), (b"k3", None), (b"k4", b"v4", [("trace", b"abc"), ("none", None)]),
                        (None, b"v5", (("\u00e9-utf8", b""),)), (b"k6", b"v6", []), (b"k7", b"v7", None), (None, None, ())]
    runs: list = []
    it = iter(items)
    assert app.append_many("t", it, 2, 4, 5, runs) is None
    assert next(it, "end") == "end"
    assert _runs(runs) == [(2, 0, len(items))] and runs[0].batch is batch
    expected = BatchBuilder(Compression.NONE, 4096)
    for item in items:
        key, value, headers = (item + (None,))[:3] if isinstance(item, tuple) else (None, item, None)
        expected.append(5, key, value, list(headers) if headers else None)
    want = [(r.key, r.value, list(r.headers)) for rb in read_batches(expected.build()) for r in rb.records("t", 2)]
    assert _records_of(batch) == want
    assert app.sticky["t"].produced_bytes == 0  # an explicit partition is not sticky
    # a second call extends the last run: the same batch, the next offset delta
    assert app.append_many("t", iter([b"more"]), 2, 4, 5, runs) is None
    assert _runs(runs) == [(2, 0, len(items) + 1)]


async def test_append_many_keyed_and_sticky_partitions_count_like_append(impl: ModuleType) -> None:
    from kafkaio.producer.partitioner import partition_for_key
    queues = {("t", p): deque([_batch("t", p, batch_size=100_000)]) for p in range(4)}
    app = _appender(impl, queues, sticky_partition=None, sticky_batch_size=1000)
    keys = [b"k%d" % i for i in range(8)]
    runs: list = []
    assert app.append_many("t", iter([(k, b"v") for k in keys]), None, 4, 7, runs) is None
    placed = [(r.batch.partition, d) for r in runs for d in range(r.first, r.first + r.count)]
    parts = [partition_for_key(k, 4) for k in keys]
    assert placed == [(p, parts[:i].count(p)) for i, p in enumerate(parts)]
    assert app.sticky == {} and app.choose.calls == []  # keyed records are not sticky
    # records of 100 bytes add 109 bytes each: 9 count 981; the tenth leaves partition 0 for the one
    # choose() gives
    queues = {("t", p): deque([_batch("t", p, batch_size=100_000)]) for p in range(4)}
    app = _appender(impl, queues, sticky_partition=None, sticky_batch_size=1000)
    runs = []
    assert app.append_many("t", iter([b"v" * 100] * 12), None, 4, 7, runs) is None
    assert _runs(runs) == [(0, 0, 10), (1, 0, 2)]
    assert app.choose.calls == [("t", 4, -1), ("t", 4, 0)]
    st = app.sticky["t"]
    assert (st.partition, st.produced_bytes, st.previous) == (1, 2 * 109, 0)


async def test_append_many_leaves_every_uncommon_item_to_the_general_path(impl: ModuleType) -> None:
    """The loop stops at the first item it cannot take and hands it back: the records before it are
    appended, the ones after it are still in the iterator, nothing was changed for it."""
    uncommon: list[Any] = [
        "str", bytearray(b"v"), ("k", b"v"), (b"k", 1), (b"k",), (b"k", b"v", None, None),
        (None, b"v", {"h": b"v"}), (None, b"v", [("h", "str")]), (None, b"v", [["h", b"v"]]),
        (None, b"v", [(b"h", b"v")]), (None, b"v", [("h", b"v", b"x")]), (None, b"v", iter([("h", b"v")])),
        (None, b"v", [("h", bytearray(b"v"))]), (None, b"v", {}),
        b"v" * 200,  # over max_record_size (RECORD_SIZE_BOUND_OVERHEAD + 200)
        (None, b"v", [("h", b"v" * 190)]),  # so are its headers
    ]
    for bad in uncommon:
        batch = _batch("t", 2, batch_size=4096)
        app = _appender(impl, {("t", 2): deque([batch])}, max_record_size=RECORD_SIZE_BOUND_OVERHEAD + 199)
        runs: list = []
        it = iter([b"a", (b"k", b"b"), bad, b"after"])
        left = app.append_many("t", it, 2, 4, 5, runs)
        assert left is not None and left[0] is bad, bad
        assert list(it) == [b"after"]
        assert _records_of(batch) == [(None, b"a", []), (b"k", b"b", [])] and _runs(runs) == [(2, 0, 2)]
    # a timestamp the builder would refuse: the first item goes to the general path, which raises
    for ts in (-2, 1.5, 1 << 63, None):
        app = _appender(impl, {("t", 2): deque([_batch("t", 2)])})
        it = iter([b"a", b"b"])
        assert app.append_many("t", it, None, 4, ts, []) == (b"a",)
        assert list(it) == [b"b"]
    assert app.append_many("t", iter([]), None, 4, 1.5, []) is None


async def test_append_many_hands_back_the_record_that_needs_a_new_batch(impl: ModuleType) -> None:
    full = _batch("t", 2, batch_size=300)
    app = _appender(impl, {("t", 2): deque([full])}, sticky_batch_size=100_000)
    runs: list = []
    it = iter([b"v" * 100] * 5)
    left = app.append_many("t", it, None, 4, 5, runs)
    assert left == (b"v" * 100,) and len(list(it)) == 2  # the batch took two records
    assert _runs(runs) == [(2, 0, 2)]
    st = app.sticky["t"]
    # the refused record is not counted: append() of the general path decides on the partition
    assert (st.partition, st.produced_bytes) == (2, 2 * 109)
    # no open batch (none yet, or drained): handed back; a new sticky partition is chosen first
    st.partition = -1
    left = app.append_many("t", iter([b"x"]), None, 4, 5, runs)
    assert left == (b"x",) and st.partition == 0 and app.choose.calls == [("t", 4, -1)]
    drained = _batch("t", 1)
    drained.builder = None
    app.queue("t", 1).append(drained)
    assert app.append_many("t", iter([b"y"]), 1, 4, 5, runs) == (b"y",)
    assert _runs(runs) == [(2, 0, 2)]


@pytest.mark.parametrize("seed", range(10))
async def test_append_many_agrees_with_its_twin(seed: int) -> None:
    """The same random items through append_many, with the general path's steps for what it hands
    back (partition, append, a new batch): the same records in the same batches, the same runs and
    the same sticky states on both."""
    import random
    if len(IMPLS) < 2:
        pytest.skip("the compiled module is not built")
    outcomes = []
    for impl in IMPLS:
        rng = random.Random(seed)
        app = _appender(impl, sticky_partition=None, sticky_batch_size=rng.choice([200, 1000, 5000]),
                        max_record_size=400)
        items: list[Any] = []
        for _ in range(600):
            value = rng.choice([None, b"v" * rng.randrange(0, 300), "str"])
            key = rng.choice([None, None, b"k%d" % rng.randrange(20)])
            headers = rng.choice([None, [], [("h", b"x" * rng.randrange(0, 40))], (("a", None), ("b\u00e9", b"y")),
                                  {"d": b"1"}])
            items.append(rng.choice([value, (key, value), (key, value, headers)]))
        runs: list = []
        out: list[Any] = []
        it = iter(items)
        while (left := app.append_many("t", it, None, 4, 1000, runs)) is not None:
            item = left[0]
            out.append(("left", repr(item)[:40]))
            key, value, headers = (item + (None,))[:3] if isinstance(item, tuple) else (None, item, None)
            if not isinstance(value, bytes | None) or isinstance(headers, dict):
                continue  # the general path converts or refuses it: not what is compared here
            size = record_size_upper_bound(key, value, headers)
            if size > 400:
                continue
            p = app.partition("t", key, 4)
            sticky = key is None
            fut = app.append("t", p, sticky, 1000, key, value, headers)
            if fut is None:
                if sticky:
                    p = app.partition("t", key, 4)
                app.queue("t", p).append(_batch("t", p, batch_size=1500))
                fut = app.append("t", p, False, 1000, key, value, headers)
                if sticky:
                    app.added("t", p, fut._batch.builder.estimated_size())
            runs.append(impl.Run(fut._batch, fut._delta))
            st = app.sticky.get("t")
            out.append(None if st is None else (st.partition, st.produced_bytes, st.previous))
        out.append([(r.batch.partition, r.first, r.count) for r in runs])
        for tp in sorted(app.queues):
            out.append((tp, [rec for b in app.queues[tp] for rec in _records_of(b)]))
        outcomes.append(out)
    assert outcomes[0] == outcomes[1]


async def test_forget_topic_drops_its_state_and_empty_queues_only(impl: ModuleType) -> None:
    open_batch = _batch("t", 1)
    queues = {("t", 0): deque(), ("t", 1): deque([open_batch]), ("u", 0): deque()}
    app = _appender(impl, queues)
    app.set_partition_count("u", 1)
    app.forget_topic("t")
    assert set(app.queues) == {("t", 1), ("u", 0)}  # a queued batch keeps its queue
    assert "t" not in app.sticky and "t" not in app.partition_counts and app.partition_counts["u"] == 1
    app.set_metadata(object())
    assert app.partition_counts == {}


@pytest.mark.parametrize("seed", range(20))
async def test_the_compiled_appender_agrees_with_its_twin(seed: int) -> None:
    """The same random mix of sends, choices and appends on both: the same records in the same
    batches, and the same sticky states."""
    import random
    if len(IMPLS) < 2:
        pytest.skip("the compiled module is not built")
    outcomes = []
    for impl in IMPLS:
        rng = random.Random(seed)
        app = _appender(impl, sticky_partition=None, sticky_batch_size=rng.choice([200, 1000, 5000]))
        out = []
        for i in range(400):
            key = rng.choice([None, b"k%d" % rng.randrange(20)])
            value = b"v" * rng.randrange(0, 300)
            headers = rng.choice([None, None, [("h", b"x" * rng.randrange(0, 40))], (("a", None), ("bé", b"y"))])
            op = rng.random()
            if op < 0.5:
                fut = app.try_send("t", value, key, None, 1000 + i, headers)
                out.append(("send", None if fut is None else (fut.partition, fut._delta)))
            else:
                p = app.partition("t", key, 4)
                sticky = key is None
                fut = app.append("t", p, sticky, 1000 + i, key, value, headers)
                if fut is None:
                    if sticky:
                        p = app.partition("t", key, 4)
                    app.queue("t", p).append(_batch("t", p, batch_size=1500))
                    fut = app.append("t", p, False, 1000 + i, key, value, headers)
                    if sticky:
                        app.added("t", p, fut._batch.builder.estimated_size())
                out.append(("append", fut.partition, fut._delta))
            st = app.sticky.get("t")
            out.append(None if st is None else (st.partition, st.produced_bytes, st.previous))
        for tp in sorted(app.queues):
            out.append((tp, [(r.key, r.value, list(r.headers)) for b in app.queues[tp]
                             for rb in read_batches(b.builder.build()) for r in rb.records("t", 0)]))
        outcomes.append(out)
    assert outcomes[0] == outcomes[1]


async def test_a_timeout_on_one_record_leaves_the_batch_future_alone(impl: ModuleType) -> None:
    batch = _batch()
    first = impl.RecordFuture(batch, 0, 1000)
    second = impl.RecordFuture(batch, 1, 1001)
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(first, 0.001)
    with pytest.raises(TimeoutError):
        async with asyncio.timeout(0.001):
            await second
    task = asyncio.ensure_future(_await(second))
    await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert not batch.future.done()  # neither the timeout nor the cancel reached it
    batch.future.set_result((40, -1))
    assert (await first).offset == 40 and (await second).offset == 41


async def test_an_awaiter_wakes_in_the_pass_that_resolves_the_batch(impl: ModuleType) -> None:
    batch = _batch()
    rf = impl.RecordFuture(batch, 2, 1000)
    waiter = asyncio.ensure_future(_await(rf))
    await asyncio.sleep(0)
    batch.future.set_result((10, -1))
    await asyncio.sleep(0)  # the batch's callbacks run
    await asyncio.sleep(0)  # the task's step runs
    assert waiter.done() and waiter.result().offset == 12


async def test_a_failed_batch_reaches_every_awaiter(impl: ModuleType) -> None:
    batch = _batch()
    awaiters = [asyncio.ensure_future(_await(impl.RecordFuture(batch, i, 1000))) for i in range(3)]
    await asyncio.sleep(0)
    awaiters[0].cancel()
    batch.future.set_exception(NotLeaderOrFollowerError("t-3"))
    results = await asyncio.gather(*awaiters, return_exceptions=True)
    assert isinstance(results[0], asyncio.CancelledError)
    assert all(isinstance(r, NotLeaderOrFollowerError) for r in results[1:])


async def _await(fut):
    return await fut


def _stay_length(impl: ModuleType, value: bytes, headers: Any, via: str) -> tuple[int, int]:
    """How many keyless records the first sticky partition takes before the partitioner moves on,
    and the bytes those records appended to its batch."""
    queues = {("t", p): deque([_batch("t", p, batch_size=100_000)]) for p in range(4)}
    app = _appender(impl, queues, sticky_partition=None, sticky_batch_size=2000)
    first = app.partition("t", None, 4)
    n = 0
    while app.sticky["t"].partition == first:
        if via == "try_send":
            assert app.try_send("t", value, None, None, 5, headers) is not None
        elif via == "append":
            assert app.append("t", first, True, 5, None, value, headers) is not None
        else:
            assert app.append_many("t", iter([(None, value, headers)]), None, 4, 5, []) is None
        n += 1
    return n, queues[("t", first)][0].builder.estimated_size() - 61


@pytest.mark.parametrize("via", ["try_send", "append", "append_many"])
async def test_the_sticky_partition_counts_the_bytes_appended_with_headers_too(impl: ModuleType, via: str) -> None:
    """KIP-794 as Java's BuiltInPartitioner: a stay ends once batch_size bytes were appended, the
    bytes each record added to its batch. A header ("h", 10 bytes) adds 13 bytes to a record, as
    13 more bytes of value do: both runs stay for as many records (the size bound of a header,
    10 + 3 * len(name) + len(value), would end the run with headers early)."""
    with_headers = _stay_length(impl, b"v" * 100, [("h", b"x" * 10)], via)
    without = _stay_length(impl, b"v" * 113, None, via)
    assert with_headers == without
    n, appended = without
    assert appended >= 2000 and appended - appended // n < 2000  # the record that reached batch_size ends it


async def test_try_send_after_the_topic_came_back_with_fewer_partitions_takes_the_general_path(impl: ModuleType) -> None:
    """New metadata gives the topic 2 partitions where the sticky one was 3 of 4: try_send must not
    append to partition 3's open batch (it no longer exists); the general path draws again."""
    gone = _batch("t", 3)
    app = _appender(impl, {("t", 3): deque([gone])}, partitions=4, sticky_partition=3)
    assert app.try_send("t", b"a", None, None, 5, None)._batch is gone
    app.cluster.metadata = object()
    app.set_metadata(app.cluster.metadata)
    app.set_partition_count("t", 2)
    assert app.try_send("t", b"b", None, None, 5, None) is None
    assert app.try_send("t", b"b", None, 3, 5, None) is None
    assert app.partition("t", None, 2) in (0, 1)
    assert gone.builder.record_count == 1


async def test_try_send_after_the_partition_count_grew_uses_the_new_partitions(impl: ModuleType) -> None:
    first = _batch("t", 1)
    app = _appender(impl, {("t", 1): deque([first])}, partitions=2, sticky_partition=None)
    assert app.try_send("t", b"a", None, 3, 5, None) is None  # out of range for 2 partitions
    app.cluster.metadata = object()
    app.set_metadata(app.cluster.metadata)
    assert app.partition_count("t") is None and app.try_send("t", b"a", None, 1, 5, None) is None
    app.set_partition_count("t", 4)
    assert app.partition_counts == {"t": 4}
    assert app.try_send("t", b"a", None, 3, 5, None) is None  # no queue for partition 3 yet
    new = _batch("t", 3)
    app.queue("t", 3).append(new)
    assert app.try_send("t", b"b", None, 3, 5, None)._batch is new
    assert app.try_send("t", b"c", None, 1, 5, None)._batch is first


async def test_a_record_reads_back_the_timestamp_it_was_written_with(impl: ModuleType) -> None:
    # the clock's (no timestamp given), a given one, one beyond what the builder's C path takes
    batch = _batch("t", 2, batch_size=4096)
    app = _appender(impl, {("t", 2): deque([batch])})
    before = impl.now_ms()
    clock = app.try_send("t", b"a", None, 2, None, None)
    after = impl.now_ms()
    given = app.try_send("t", b"b", None, None, 1_700_000_000_123, None)
    wide = app.try_send("t", b"c", None, 2, (1 << 62) + 1, None)
    general = app.append("t", 2, False, 42, None, b"d", None)
    assert type(clock._timestamp) is int and before <= clock._timestamp <= after
    stamps = [clock._timestamp, 1_700_000_000_123, (1 << 62) + 1, 42]
    futs = [clock, given, wide, general]
    assert [f._timestamp for f in futs] == stamps
    builder = batch.builder
    batch.future.set_result((100, -1))
    assert [(f.result().offset, f.result().timestamp) for f in futs] == list(zip(range(100, 104), stamps))
    assert [(await f).timestamp for f in futs] == stamps
    [read] = list(read_batches(builder.build()))
    assert [r.timestamp for r in read.records("t", 2)] == stamps


async def test_bad_timestamps_are_refused_alike_by_both_twins() -> None:
    if len(IMPLS) < 2:
        pytest.skip("the compiled module is not built")
    bad = [1 << 63, -2, -(1 << 63) - 1, 1.5, "1", None]
    outcomes = []
    for impl in IMPLS:
        batch = _batch("t", 2, batch_size=4096)
        app = _appender(impl, {("t", 2): deque([batch])})
        refused = []
        for ts in bad:
            with pytest.raises((TypeError, ValueError, OverflowError)) as general:
                app.append("t", 2, False, ts, None, b"v", None)
            if type(ts) is int and ts >= 0:  # send()'s common path hands it to the builder too
                with pytest.raises(type(general.value)) as common:
                    app.try_send("t", b"v", None, 2, ts, None)
                assert str(common.value) == str(general.value)
            elif ts is not None:  # (None is the clock's timestamp there)
                assert app.try_send("t", b"v", None, 2, ts, None) is None  # the general path's to refuse
            refused.append((type(general.value), str(general.value)))
        assert batch.builder.record_count == 0
        outcomes.append(refused)
    assert outcomes[0] == outcomes[1]


@pytest.mark.parametrize("count", [0, -1])
def test_a_partition_count_below_one_is_refused_by_both_twins(impl: ModuleType, count: int) -> None:
    # the compiled twin divides by the count in C, where a zero kills the process (SIGFPE)
    app = _appender(impl, sticky_partition=None)
    with pytest.raises(ValueError, match="partition count"):
        app.set_partition_count("t", count)
    assert app.partition_count("t") == 4
    with pytest.raises(ValueError, match="partition count"):
        app.partition("t", b"key", count)


@pytest.mark.parametrize(("partition", "count"), [(-1, 4), (-2, 4), (4, 4), (0, 0)])
async def test_append_many_refuses_an_explicit_partition_out_of_range_in_both_twins(
        impl: ModuleType, partition: int, count: int) -> None:
    batches = {("t", p): deque([_batch("t", p, batch_size=4096)]) for p in range(4)}
    app = _appender(impl, batches, sticky_partition=1)
    runs: list[Any] = []
    with pytest.raises(ValueError, match="partition"):
        app.append_many("t", iter([b"v"]), partition, count, 5, runs)
    assert runs == [] and all(b.records_appended == 0 for dq in batches.values() for b in dq)
