"""Splitting a batch refused with MESSAGE_TOO_LARGE (no broker): the parts' records and order, the
sequence hand-over of the idempotent producer, and each record's future following its part."""
from __future__ import annotations

import asyncio

import pytest

from kafkaio.errors import RecordTooLargeError
from kafkaio.producer.accumulator import ProducerBatch
from kafkaio.producer.future import RecordFuture
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
