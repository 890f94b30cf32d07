"""Splitting a batch refused with MESSAGE_TOO_LARGE (no broker): the parts' records and order, the
sequence hand-over of the idempotent producer, and each record's future following its part."""
from __future__ import annotations

import asyncio

import pytest

from kafkaio.errors import NotLeaderOrFollowerError, RecordTooLargeError
from kafkaio.producer.accumulator import ProducerBatch
from kafkaio.producer.future import ManyFuture, RecordFuture, Run
from kafkaio.producer.idempotence import IdempotenceState
from kafkaio.producer.split import SPLIT_BASE_OFFSET, follow_split, split_batch, when_parts_done
from kafkaio.records import BatchBuilder, read_batches


def built_batch(values: list[bytes], loop: asyncio.AbstractEventLoop) -> tuple[ProducerBatch, list]:
    b = ProducerBatch("t", 0, BatchBuilder(0, 1 << 20), loop.create_future(), 0.0, 30000.0, 0)
    futs = [RecordFuture(b, b.builder.append(1000 + i, b"k%d" % i, v, [("h", b"x")]), 1000 + i)
            for i, v in enumerate(values)]
    b.close()
    b.data = b.builder.build(7, 0, 40)
    b.builder = None
    return b, futs


def values_of(part: ProducerBatch) -> list[bytes]:
    data = part.builder.build()
    return [r.value for bt in read_batches(data) for r in bt.records("t", 0)]


async def test_split_halves_in_order_keeping_keys_headers_and_timestamps() -> None:
    vals = [b"v%d" % i for i in range(5)]
    b, _ = built_batch(vals, asyncio.get_running_loop())
    parts = split_batch(b, lambda: BatchBuilder(0, 1 << 20))
    assert [p.record_count for p in parts] == [2, 3]
    assert values_of(parts[0]) + values_of(parts[1]) == vals
    rec = [r for bt in read_batches(parts[1].builder.build()) for r in bt.records("t", 0)][0]
    assert (rec.key, rec.headers, rec.timestamp) == (b"k2", [("h", b"x")], 1002)
    assert all(p.deadline_ms == b.deadline_ms for p in parts)
    assert follow_split(b, 0) == (parts[0], 0) and follow_split(b, 4) == (parts[1], 2)


def test_single_record_batch_is_not_split() -> None:
    loop = asyncio.new_event_loop()
    try:
        b, _ = built_batch([b"only"], loop)
        with pytest.raises(ValueError):
            split_batch(b, lambda: BatchBuilder(0, 1 << 20))
    finally:
        loop.close()


async def test_record_futures_follow_their_part_after_the_split() -> None:
    b, futs = built_batch([b"a", b"b", b"big", b"c"], asyncio.get_running_loop())
    parts = split_batch(b, lambda: BatchBuilder(0, 1 << 20))
    for p in parts:  # as the sender does
        p.data, p.builder = p.builder.build(), None
    second = split_batch(parts[1], lambda: BatchBuilder(0, 1 << 20))  # split again: big alone
    when_parts_done(second, lambda: parts[1].future.set_result((SPLIT_BASE_OFFSET, -1)))
    when_parts_done(parts, lambda: b.future.set_result((SPLIT_BASE_OFFSET, -1)))
    parts[0].future.set_result((100, -1))
    second[0].future.set_exception(RecordTooLargeError("too big"))
    assert not futs[0].done()  # the original resolves only once every part is done
    second[1].future.set_result((102, -1))
    await asyncio.wait_for(b.future, 5)  # done callbacks run in later loop iterations
    assert [f.done() for f in futs] == [True] * 4
    assert [(await f).offset for f in (futs[0], futs[1], futs[3])] == [100, 101, 102]
    assert futs[0].exception() is None
    assert isinstance(futs[2].exception(), RecordTooLargeError)
    with pytest.raises(RecordTooLargeError):
        futs[2].result()


def split_twice(b: ProducerBatch) -> tuple[list[ProducerBatch], list[ProducerBatch]]:
    """``b`` split as the sender does, its second part split again; the originals resolve once
    their parts are done. Returns (parts, the second part's parts)."""
    parts = split_batch(b, lambda: BatchBuilder(0, 1 << 20))
    for p in parts:
        p.data, p.builder = p.builder.build(), None
    second = split_batch(parts[1], lambda: BatchBuilder(0, 1 << 20))
    when_parts_done(second, lambda: parts[1].future.set_result((SPLIT_BASE_OFFSET, -1)))
    when_parts_done(parts, lambda: b.future.set_result((SPLIT_BASE_OFFSET, -1)))
    return parts, second


def many_over(b: ProducerBatch, count: int) -> ManyFuture:
    run = Run(b, 0)
    run.count = count
    return ManyFuture([run], 1000)


async def test_many_future_exception_reports_a_failed_split_part() -> None:
    b, _ = built_batch([b"a", b"b", b"big", b"c"], asyncio.get_running_loop())
    parts, second = split_twice(b)
    parts[0].future.set_result((100, -1))
    second[0].future.set_exception(RecordTooLargeError("too big"))
    second[1].future.set_result((102, -1))
    await asyncio.wait_for(b.future, 5)
    many = many_over(b, 4)
    assert many.done()
    assert isinstance(many.exception(), RecordTooLargeError)  # not None: record 2 was not delivered
    with pytest.raises(RecordTooLargeError):
        await many

    ok, _ = built_batch([b"a", b"b", b"c"], asyncio.get_running_loop())
    ok_parts, ok_second = split_twice(ok)
    for part, offset in ((ok_parts[0], 100), (ok_second[0], 101), (ok_second[1], 102)):
        part.future.set_result((offset, -1))
    await asyncio.wait_for(ok.future, 5)
    ok_many = many_over(ok, 3)
    assert ok_many.exception() is None
    assert [m.offset for m in await ok_many] == [100, 101, 102]


async def test_many_future_reports_the_first_failed_record_in_input_order_across_a_split() -> None:
    loop = asyncio.get_running_loop()
    b, _ = built_batch([b"a", b"big", b"c"], loop)
    parts = split_batch(b, lambda: BatchBuilder(0, 1 << 20))
    when_parts_done(parts, lambda: b.future.set_result((SPLIT_BASE_OFFSET, -1)))
    parts[0].future.set_exception(RecordTooLargeError("record 1"))
    parts[1].future.set_result((100, -1))
    later = ProducerBatch("t", 1, None, loop.create_future(), 0.0, 30000.0, 0)
    later.future.set_exception(NotLeaderOrFollowerError("a later record"))
    later.future.exception()  # marked retrieved, as the accumulator does when it fails a batch
    await asyncio.wait_for(b.future, 5)
    run = Run(b, 0)
    run.count = 3
    many = ManyFuture([run, Run(later, 0)], 1000)
    assert isinstance(many.exception(), RecordTooLargeError)
    with pytest.raises(RecordTooLargeError):
        await many


async def test_many_future_is_done_only_once_every_split_part_is() -> None:
    b, _ = built_batch([b"a", b"b", b"big", b"c"], asyncio.get_running_loop())
    parts, second = split_twice(b)
    many = many_over(b, 4)
    parts[0].future.set_result((100, -1))
    second[0].future.set_exception(RecordTooLargeError("too big"))
    for _ in range(3):
        await asyncio.sleep(0)
    assert not many.done()  # record 3's part is undecided
    with pytest.raises(asyncio.InvalidStateError):
        many.exception()
    second[1].future.set_result((102, -1))
    await asyncio.wait_for(b.future, 5)
    assert many.done()
    assert isinstance(many.exception(), RecordTooLargeError)


async def test_awaiting_a_many_future_waits_for_every_split_part() -> None:
    b, _ = built_batch([b"a", b"b", b"big", b"c"], asyncio.get_running_loop())
    parts, second = split_twice(b)
    waiter = asyncio.ensure_future(_await(many_over(b, 4)))
    parts[0].future.set_result((100, -1))
    second[0].future.set_result((101, -1))
    for _ in range(3):
        await asyncio.sleep(0)
    assert not waiter.done()  # record 3's part is undecided
    second[1].future.set_exception(RecordTooLargeError("too big"))
    with pytest.raises(RecordTooLargeError):
        await asyncio.wait_for(waiter, 5)


async def _await(aw: ManyFuture) -> object:
    return await aw


def _seq(count: int) -> ProducerBatch:
    loop_free = ProducerBatch("t", 0, None, None, 0.0, 0.0, 0)  # type: ignore[arg-type]
    loop_free.record_count = count
    return loop_free


def test_idempotent_parts_take_over_the_sequence_range_and_place() -> None:
    s = IdempotenceState()
    s.set_producer_id(1000, 3)
    a, refused, later = _seq(2), _seq(5), _seq(4)
    for x in (a, refused, later):
        s.assign(x)
    p1, p2 = _seq(2), _seq(3)
    s.split(refused, [p1, p2])
    assert [(p.base_sequence, p.producer_id, p.producer_epoch) for p in (p1, p2)] == \
        [(2, 1000, 3), (4, 1000, 3)]
    s.acknowledged(a)
    assert s.can_drain(p1) and not s.can_drain(p2) and not s.can_drain(later)  # in sequence order
    s.acknowledged(p1)
    assert s.can_drain(p2) and not s.can_drain(later)
    s.acknowledged(p2)
    assert s.can_drain(later)  # no gap: no epoch bump needed
    assert not s.epoch_bump_needed


def test_parts_of_an_unsequenced_batch_stay_unsequenced() -> None:
    s = IdempotenceState()
    s.set_producer_id(1000, 3)
    refused = _seq(4)  # e.g. sequences were reset by an epoch bump meanwhile
    p1, p2 = _seq(2), _seq(2)
    s.split(refused, [p1, p2])
    assert p1.base_sequence == p2.base_sequence == -1 and s.unacked_count() == 0
