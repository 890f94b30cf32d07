"""Accumulator: batching by size and linger, buffer-memory backpressure, readiness, expiry."""
from __future__ import annotations

import asyncio

import pytest

from kafkaio.errors import BufferExhaustedError, ProducerClosedError, RecordTooLargeError
from kafkaio.producer.accumulator import RecordAccumulator
from kafkaio._speedups import load as load_speedups
from kafkaio.records import BatchBuilder, Compression, read_batches


MetadataCell = load_speedups("metadata_cell").MetadataCell  # the loaded twin's, as the appender types it


class _Cluster:
    """What the accumulator reads the current metadata from."""

    def __init__(self) -> None:
        self.metadata_cell = MetadataCell(object())

    @property
    def metadata(self) -> object:
        return self.metadata_cell.current


def make_acc(**kw) -> RecordAccumulator:
    batch_size = kw.pop("batch_size", 1024)
    params = dict(batch_size=batch_size, linger_ms=0, buffer_memory=1 << 20, max_block_ms=200,
                  delivery_timeout_ms=10_000, max_request_size=1 << 20,
                  builder_factory=lambda: BatchBuilder(Compression.NONE, batch_size), cluster=_Cluster())
    params.update(kw)
    return RecordAccumulator(**params)


def leader0(topic: str, partition: int) -> int:
    return 0


def always(_node: int) -> bool:
    return True


async def append(acc: RecordAccumulator, partition: int, value: bytes, topic: str = "t"):
    fut = acc.try_append(topic, partition, 1000, None, value, None)
    if fut is None:
        fut = (await acc.append(topic, partition, 1000, None, value, None, len(value) + 82)).future
    return fut


async def test_records_fill_a_batch_then_start_the_next() -> None:
    acc = make_acc(batch_size=1024)
    futs = [await append(acc, 0, b"x" * 100) for _ in range(20)]
    batches = {id(f._batch) for f in futs}
    assert len(batches) >= 2  # 20 x ~110 bytes do not fit in 1024
    deltas = [f._delta for f in futs if f._batch is futs[0]._batch]
    assert deltas == list(range(len(deltas)))


async def test_linger_holds_a_batch_until_it_is_due() -> None:
    acc = make_acc(linger_ms=50)
    fut = await append(acc, 0, b"v")
    created = fut._batch.created_ms
    out, next_check, unknown = acc.drain(created + 10, leader0, always)
    assert out == {} and next_check == pytest.approx(created + 50) and not unknown
    out, _, _ = acc.drain(created + 50, leader0, always)
    assert [b for b in out[0]] == [fut._batch]


async def test_flush_makes_lingering_batches_ready() -> None:
    acc = make_acc(linger_ms=10_000)
    fut = await append(acc, 0, b"v")
    acc.begin_flush()
    out, _, _ = acc.drain(fut._batch.created_ms, leader0, always)
    acc.end_flush()
    assert out[0] == [fut._batch]


async def test_drain_groups_by_leader_one_batch_per_partition_within_request_size() -> None:
    acc = make_acc(batch_size=200, max_request_size=500)
    for p in range(4):
        for _ in range(4):
            await append(acc, p, b"y" * 100)
    leaders = {0: 1, 1: 1, 2: 2, 3: 2}
    out, _, _ = acc.drain(1e18, lambda t, p: leaders[p], always)
    assert set(out) == {1, 2}
    for node, batches in out.items():
        assert len({b.partition for b in batches}) == len(batches)  # one per partition
        assert sum(b.size for b in batches) <= 500 or len(batches) == 1


async def test_unknown_leader_is_reported_and_batch_kept() -> None:
    acc = make_acc()
    await append(acc, 0, b"v")
    out, _, unknown = acc.drain(1e18, lambda t, p: None, always)
    assert out == {} and unknown
    assert acc.has_undrained()


async def test_busy_node_is_skipped() -> None:
    acc = make_acc()
    await append(acc, 0, b"v")
    out, _, _ = acc.drain(1e18, leader0, lambda node: False)
    assert out == {} and acc.has_undrained()


async def test_full_buffer_blocks_then_raises_buffer_exhausted() -> None:
    acc = make_acc(batch_size=1000, buffer_memory=2000, max_block_ms=100)
    await append(acc, 0, b"a")
    await append(acc, 1, b"b")  # two batches reserve the whole buffer
    assert acc.memory_used == 2000
    with pytest.raises(BufferExhaustedError) as info:
        await append(acc, 2, b"c")
    assert "max_block_ms" in str(info.value)
    # the others are undisturbed
    assert acc.incomplete_count == 2


async def test_blocked_send_proceeds_when_memory_is_released() -> None:
    acc = make_acc(batch_size=1000, buffer_memory=2000, max_block_ms=5000)
    f1 = await append(acc, 0, b"a")
    await append(acc, 1, b"b")
    waiter = asyncio.ensure_future(append(acc, 2, b"c"))
    await asyncio.sleep(0.01)
    assert not waiter.done()
    acc.complete(f1._batch, 0, -1)  # delivered: its memory comes back
    f3 = await asyncio.wait_for(waiter, 2)
    assert f3._batch.partition == 2
    assert (await f1).offset == 0


async def test_record_larger_than_buffer_memory_is_refused() -> None:
    acc = make_acc(batch_size=100, buffer_memory=1000)
    with pytest.raises(RecordTooLargeError):
        await acc.append("t", 0, 1, None, b"x" * 2000, None, 2082)


async def test_expire_fails_only_batches_past_their_deadline() -> None:
    acc = make_acc(delivery_timeout_ms=100)
    f = await append(acc, 0, b"v")
    assert acc.expire(f._batch.created_ms + 50) == []
    expired = acc.expire(f._batch.created_ms + 100)
    assert expired == [f._batch]
    assert not acc.has_undrained()


async def test_reenqueue_keeps_sequence_order_ahead_of_new_batches() -> None:
    acc = make_acc(batch_size=120)
    futs = [await append(acc, 0, b"z" * 100) for _ in range(3)]
    b0, b1, b2 = (f._batch for f in futs)
    out, _, _ = acc.drain(1e18, leader0, always)
    assert out[0] == [b0]
    out, _, _ = acc.drain(1e18, leader0, always)
    assert out[0] == [b1]
    b0.base_sequence, b1.base_sequence = 0, 1
    acc.reenqueue(b1, 0)
    acc.reenqueue(b0, 0)
    assert list(acc.queued_batches()) == [b0, b1, b2]


async def test_closing_refuses_new_records() -> None:
    acc = make_acc()
    acc.closing = True
    with pytest.raises(ProducerClosedError):
        await acc.append("t", 0, 1, None, b"v", None, 90)


async def test_record_future_reports_offset_and_timestamps() -> None:
    acc = make_acc()
    f0 = await append(acc, 0, b"a")
    f1 = await append(acc, 0, b"b")
    acc.complete(f0._batch, 41, -1)
    assert (await f1).offset == 42 and (await f1).timestamp == 1000 and (await f1).timestamp_type == 0
    assert f0.done() and f0.exception() is None


async def test_log_append_time_is_reported_instead_of_create_time() -> None:
    acc = make_acc()
    f = await append(acc, 0, b"a")
    acc.complete(f._batch, 7, 123456)
    md = await f
    assert (md.offset, md.timestamp, md.timestamp_type) == (7, 123456, 1)


async def test_failed_batch_fails_every_record_with_the_error() -> None:
    acc = make_acc()
    f0 = await append(acc, 0, b"a")
    f1 = await append(acc, 0, b"b")
    acc.fail(f0._batch, RecordTooLargeError("boom"))
    for f in (f0, f1):
        with pytest.raises(RecordTooLargeError):
            await f
    assert acc.memory_used == 0


async def test_built_batch_holds_the_records() -> None:
    acc = make_acc()
    for v in (b"a", b"b", b"c"):
        await append(acc, 0, v)
    out, _, _ = acc.drain(1e18, leader0, always)
    batch = out[0][0]
    batch.close()
    data = batch.builder.build()
    [rb] = list(read_batches(data))
    assert [r.value for r in rb.records("t", 0)] == [b"a", b"b", b"c"]


async def test_many_future_returns_in_order_and_raises_only_after_every_batch() -> None:
    from kafkaio.producer.future import ManyFuture, Run

    acc = make_acc()
    f0 = await append(acc, 0, b"a")
    f1 = await append(acc, 1, b"b")
    f2 = await append(acc, 0, b"c")
    many = ManyFuture([Run(f0._batch, 0), Run(f1._batch, 0), Run(f2._batch, 1)], 1000)
    assert len(many) == 3 and not many.done()
    with pytest.raises(asyncio.InvalidStateError):
        many.exception()  # not decided yet
    acc.complete(f0._batch, 10, -1)
    acc.complete(f1._batch, 20, -1)
    assert many.exception() is None
    assert [(m.partition, m.offset) for m in await many] == [(0, 10), (1, 20), (0, 11)]

    g0 = await append(acc, 2, b"x")
    g1 = await append(acc, 3, b"y")
    failing = ManyFuture([Run(g0._batch, 0), Run(g1._batch, 0)], 1000)
    waiter = asyncio.ensure_future(_await(failing))
    acc.fail(g0._batch, RecordTooLargeError("first"))
    await asyncio.sleep(0)
    assert not waiter.done()  # g1 is still undecided
    with pytest.raises(asyncio.InvalidStateError):
        failing.exception()  # as a future's: not before every record is decided
    acc.complete(g1._batch, 5, -1)
    assert isinstance(failing.exception(), RecordTooLargeError)
    with pytest.raises(RecordTooLargeError):
        await waiter


async def _await(aw):
    return await aw


async def test_slow_nodes_are_those_whose_ready_batches_wait_past_the_timeout() -> None:
    """partitioner_availability_timeout_ms: a leader whose ready batches could not be sent (its
    in-flight limit reached) for longer than the timeout is slow; draining to it again, or its
    queues emptying, ends that."""
    acc = make_acc()
    leaders = {0: 1, 1: 2}
    await append(acc, 0, b"a")
    await append(acc, 1, b"b")
    blocked = {1}
    t = 1e12
    acc.drain(t, lambda _t, p: leaders[p], lambda n: n not in blocked)  # node 2 drained, node 1 blocked
    await append(acc, 1, b"c")
    acc.drain(t + 400, lambda _t, p: leaders[p], lambda n: n not in blocked)
    assert acc.slow_nodes(500) == set()
    await append(acc, 1, b"d")
    acc.drain(t + 600, lambda _t, p: leaders[p], lambda n: n not in blocked)
    assert acc.slow_nodes(500) == {1}
    assert acc.slow_nodes(1000) == set()
    blocked.clear()
    out, _, _ = acc.drain(t + 700, lambda _t, p: leaders[p], lambda n: n not in blocked)
    assert 1 in out and acc.slow_nodes(500) == set()


async def test_a_slow_node_whose_queue_emptied_is_not_slow_any_more() -> None:
    acc = make_acc()
    fut = await append(acc, 0, b"a")
    acc.drain(1e12, lambda _t, p: 1, lambda n: False)
    acc.drain(1e12 + 1000, lambda _t, p: 1, lambda n: False)
    assert acc.slow_nodes(500) == {1}
    for batch in acc.expire(1e12 + 1e9):  # the queued batch expires: nothing waits for node 1
        assert batch is fut._batch
    acc.drain(1e12 + 1e9, lambda _t, p: 1, lambda n: False)
    assert acc.slow_nodes(500) == set()


async def test_a_batch_decided_while_its_awaiters_gave_up_still_releases_its_memory() -> None:
    acc = make_acc(batch_size=1024)
    fut = await append(acc, 0, b"x" * 100)
    batch = fut._batch
    batch.future.cancel()  # what a caller's cancel did to the shared future before BatchWaiter
    assert acc.memory_used > 0 and acc.incomplete_count == 1
    acc.complete(batch, 5, -1)
    assert acc.memory_used == 0 and acc.incomplete_count == 0 and acc.is_complete(batch)


async def test_a_queued_batch_failed_by_the_sender_leaves_its_queue() -> None:
    acc = make_acc(batch_size=1024)
    first = (await append(acc, 0, b"x" * 100))._batch
    acc.drain(10**12, leader0, always)
    acc.reenqueue(first, 0.0)  # waiting for a retry
    acc.unqueue(first)
    acc.fail(first, RuntimeError("refused"))
    second = await append(acc, 0, b"y")
    drained, _, _ = acc.drain(10**12, leader0, always)
    assert drained == {0: [second._batch]}  # the failed batch does not hold the partition's queue


async def test_append_reports_new_batches_and_full_ones_for_the_producer_to_wake_the_sender() -> None:
    acc = make_acc(batch_size=300)
    first = await acc.append("t", 0, 1, None, b"x" * 100, None, 182)
    assert first.new_batch_created and not first.batch_is_full  # the sender needs its linger deadline
    assert acc.try_append("t", 0, 1, None, b"x" * 100, None) is not None
    assert acc.try_append("t", 0, 1, None, b"x" * 100, None) is None and acc.open_batch_full("t", 0)
    second = await acc.append("t", 0, 1, None, b"x" * 100, None, 182)
    assert second.new_batch_created and second.batch_is_full  # the first batch is sendable now
    assert second.future._batch is not first.future._batch
    assert not acc.open_batch_full("t", 1)  # no batch at all


async def test_append_now_appends_nothing_when_a_new_batch_would_wait_for_memory() -> None:
    acc = make_acc(batch_size=1000, buffer_memory=2000)
    first = acc.append_now("t", 0, 1, None, b"a", None, 83)
    assert first is not None and first.new_batch_created and acc.memory_used == 1000
    assert acc.append_now("t", 1, 1, None, b"b" * 1400, None, 1482) is None  # 1000 + 1482 > 2000
    assert acc.memory_used == 1000 and not acc.open_batch_full("t", 1)
    assert acc.append_now("t", 1, 1, None, b"b", None, 83) is not None
    assert acc.append_now("t", 2, 1, None, b"c", None, 83) is None  # full: 2000 of 2000 reserved
    assert acc.memory_used == 2000 and [b.partition for b in acc.queued_batches()] == [0, 1]


async def test_drain_of_one_partition_takes_its_ready_batch_and_leaves_the_others_queued() -> None:
    acc = make_acc()
    f0 = await append(acc, 0, b"a")
    f1 = await append(acc, 1, b"b")
    drained, _, unknown = acc.drain(10**12, leader0, always, only=("t", 1))
    assert drained == {0: [f1._batch]} and not unknown
    assert [b.partition for b in acc.queued_batches()] == [0]
    assert acc.drain(10**12, leader0, always, only=("t", 1))[0] == {}  # nothing left there
    assert acc.drain(10**12, leader0, always, only=("t", 7))[0] == {}  # never had a queue
    # the same readiness rules as a full drain: a partition without a leader is reported
    assert acc.drain(10**12, lambda t, p: None, always, only=("t", 0)) == ({}, float("inf"), True)
    assert acc.drain(10**12, leader0, always)[0] == {0: [f0._batch]}


def _full_scan(acc: RecordAccumulator) -> tuple[set[tuple[str, int]], float]:
    queues = acc.appender.queues
    undrained = {tp for tp, dq in queues.items() if dq}
    return undrained, min((dq[0].deadline_ms for dq in queues.values() if dq), default=float("inf"))


@pytest.mark.parametrize("seed", range(12))
async def test_the_undrained_partitions_always_match_a_full_scan(seed: int) -> None:
    """The accumulator keeps the partitions whose queue holds a batch rather than scanning every
    queue per sender pass; a wrong entry strands a batch (never drained) or costs nothing but a
    look. Random appends, drains (one partition or all, nodes busy, leaders unknown, ordering
    refusals), retries put back in sequence order, splits, unqueues, expiries, aborts and forgotten
    topics: after every step the kept state is what a scan of every queue finds, and at the end
    everything queued drains."""
    import random

    from kafkaio.producer.accumulator import ProducerBatch
    rng = random.Random(seed)
    acc = make_acc(batch_size=300, linger_ms=rng.choice([0, 5]), max_request_size=1000)
    loop = asyncio.get_running_loop()
    tps = [(t, p) for t in ("t", "u") for p in range(5)]
    out: list[ProducerBatch] = []  # drained, not settled: in flight
    sequence = {tp: 0 for tp in tps}
    now = 0.0

    def check() -> None:
        undrained, next_expiry = _full_scan(acc)
        assert acc.undrained_partitions() == undrained
        assert acc.has_undrained() == bool(undrained)
        assert acc.next_expiry_ms() == next_expiry
        for topic in ("t", "u"):
            sizes = [len(acc.appender.queues.get((topic, p), ())) for p in range(5)]
            assert acc.queue_sizes(topic, range(5)) == (sizes if any(sizes) else None)

    for _ in range(400):
        op = rng.random()
        now += rng.choice([0, 1, 10, 1000])
        if op < 0.35:
            topic, partition = rng.choice(tps)
            value = b"v" * rng.randrange(0, 250)
            if acc.try_append(topic, partition, 1000, None, value, None) is None:
                result = acc.append_now(topic, partition, 1000, None, value, None, len(value) + 82)
                assert result is not None  # buffer_memory is ample
        elif op < 0.55:
            only = rng.choice([None, None, rng.choice(tps)])
            nodes = {tp: rng.choice([0, 1, None]) for tp in tps}
            busy = rng.choice([set(), {0}, {1}])
            refuse = rng.random() < 0.2
            drained, _, _ = acc.drain(
                now, lambda t, p: nodes[(t, p)], lambda n: n not in busy,
                (lambda b: rng.random() < 0.7) if refuse else None, only)
            for batches in drained.values():
                for b in batches:
                    if b.base_sequence < 0 and rng.random() < 0.5:
                        b.base_sequence = sequence[b.tp]
                        sequence[b.tp] += 10
                    out.append(b)
        elif op < 0.65 and out:
            b = out.pop(rng.randrange(len(out)))
            acc.reenqueue(b, now + rng.choice([0, 50]))
        elif op < 0.70 and out:
            b = out.pop(rng.randrange(len(out)))  # split into two parts, put back in order
            parts = []
            for _part in range(2):
                part = ProducerBatch(b.topic, b.partition, acc.new_builder(), loop.create_future(), now,
                                     acc.delivery_timeout_ms, 0)
                part.builder.append(1000, None, b"p", None)
                acc.track(part)
                parts.append(part)
            if b.base_sequence >= 0:
                parts[0].base_sequence, parts[1].base_sequence = b.base_sequence, b.base_sequence + 1
            acc.complete(b, -1, -1)
            for part in (parts if parts[0].base_sequence >= 0 else reversed(parts)):
                acc.reenqueue(part, now)
        elif op < 0.78:
            queued = list(acc.queued_batches())
            if queued:
                b = rng.choice(queued)
                acc.unqueue(b)
                acc.fail(b, ProducerClosedError("unqueued"))
        elif op < 0.85:
            for b in acc.expire(now + rng.choice([0, 5_000, 20_000])):
                acc.fail(b, ProducerClosedError("expired"))
        elif op < 0.93 and out:
            acc.complete(out.pop(rng.randrange(len(out))), 0, -1)
        elif op < 0.96:
            acc.appender.forget_topic(rng.choice(["t", "u"]))
        else:
            acc.abort_queued(lambda b: ProducerClosedError("aborted"))
        check()
    acc.begin_flush()
    for _ in range(50):
        drained, _, _ = acc.drain(now + 1e9, leader0, always)
        for batches in drained.values():
            for b in batches:
                acc.complete(b, 0, -1)
        check()
    assert not acc.has_undrained() and list(acc.queued_batches()) == []


async def test_records_after_a_forgotten_queue_is_made_again_go_to_the_queue_drained() -> None:
    """send()'s common record finds its partition's queue in the appender's per-topic rows, not by
    ``(topic, partition)``. forget_topic drops an empty queue and a new batch makes the partition's
    queue again: every record after that (try_send, keyed or explicit, and append_many) lands in the
    new queue's batch, the one drain hands to the sender, never in the forgotten deque."""
    acc = make_acc(batch_size=4096)
    app = acc.appender
    app.enabled = True

    def counts() -> None:  # what the producer does once it knows the topic's partition count
        app.set_metadata(app.cluster.metadata)
        app.set_partition_count("t", 4)

    counts()
    first = acc.append_now("t", 2, 1000, None, b"a", None, 83)
    assert first is not None
    assert app.try_send("t", b"b", None, 2, 1000, None)._batch is first.future._batch
    old_queue = acc.appender.queues[("t", 2)]
    assert acc.drain(10**12, leader0, always)[0] == {0: [first.future._batch]}
    app.forget_topic("t")
    assert ("t", 2) not in app.queues

    counts()
    assert app.try_send("t", b"c", None, 2, 1000, None) is None  # no queue: the general path
    again = acc.append_now("t", 2, 1000, None, b"c", None, 83)
    assert again is not None
    batch = again.future._batch
    assert app.queues[("t", 2)] is not old_queue and list(app.queues[("t", 2)]) == [batch]
    keyed = next(k for k in (b"k%d" % i for i in range(100)) if app.partition("t", k, 4) == 2)
    futs = [app.try_send("t", b"d", None, 2, 1000, None), app.try_send("t", b"e", keyed, None, 1000, None)]
    assert [f._batch for f in futs] == [batch, batch]
    assert app.append_many("t", iter([b"f"]), 2, 4, 1000, []) is None
    assert not old_queue
    assert acc.drain(10**12, leader0, always)[0] == {0: [batch]}
    [read] = list(read_batches(batch.builder.build()))
    assert [r.value for r in read.records("t", 2)] == [b"c", b"d", b"e", b"f"]


@pytest.mark.parametrize("path", ["append_now", "append"])
async def test_a_first_record_the_builder_refuses_releases_its_reservation(path: str) -> None:
    # a header name that UTF-8 cannot encode is refused by the builder: no batch is made, so the
    # buffer memory reserved for it is given back (else each refusal leaks a batch_size for good)
    acc = make_acc(batch_size=1000, buffer_memory=2000)
    bad = [("\ud800", b"x")]
    with pytest.raises(UnicodeEncodeError):
        if path == "append_now":
            acc.append_now("t", 0, 1, None, b"a", bad, 100)
        else:
            await acc.append("t", 0, 1, None, b"a", bad, 100)
    assert acc.memory_used == 0 and acc.incomplete_count == 0 and not list(acc.queued_batches())
