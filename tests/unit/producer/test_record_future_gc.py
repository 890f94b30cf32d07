"""A record's future and the cyclic garbage collector: every cycle a record's future can be part of
is collected once the application drops it.

The cycles: the error raised from a failed record keeps the frames it went through in its
traceback, and the batch's future keeps that error, so any future of that batch held by one of
those frames (the one awaited, or a sibling in a list never awaited) closes a cycle through its
batch; a task awaiting a record, or a done callback, is kept by the batch's future while the batch
is undecided. A future left out of the collector (to save the collections a fast send() loop
runs, one per 700 records) hides its edge to the batch and would leak each of these whole: the
compiled path leaves one out only until its batch could refer back to it (``UntrackedFutures``).
"""
from __future__ import annotations

import asyncio
import copy
import gc
import weakref
from collections import deque
from types import ModuleType
from typing import Any

import pytest

from kafkaio.errors import NotLeaderOrFollowerError
from kafkaio.producer import future as future_mod  # defines RecordMetadata before the speedups load it
from kafkaio.producer.accumulator import ProducerBatch
from kafkaio.records import BatchBuilder, Compression

from producer_impls import impl  # noqa: F401 - impl is a fixture


class Marker:
    """Something the application keeps beside the record's future; collected with it or leaked."""


def _appended(impl: ModuleType) -> tuple[ProducerBatch, Any]:
    """A batch and the future of a record appended to it by the hot path (as send() does)."""
    loop = asyncio.get_running_loop()
    batch = ProducerBatch("t", 3, BatchBuilder(Compression.NONE, 1024), loop.create_future(), 0.0, 10_000.0, 1024)
    fut = impl.try_append({("t", 3): deque([batch])}, "t", 3, 1000, b"k", b"v", None)
    assert fut is not None
    return batch, fut


def _collected(ref: weakref.ref[Marker]) -> bool:
    gc.collect()
    return ref() is None


async def _await_with(fut: Any, marker: Marker) -> Any:
    return await fut


async def test_the_error_raised_by_awaiting_a_record_does_not_keep_its_frame_forever(impl: ModuleType) -> None:
    # the batch's future keeps the error, whose traceback keeps the awaiting frame, whose locals
    # keep the record's future, which keeps the batch: a cycle the collector must see whole
    batch, fut = _appended(impl)
    batch.future.set_exception(NotLeaderOrFollowerError("t-3"))
    marker = Marker()
    ref = weakref.ref(marker)
    with pytest.raises(NotLeaderOrFollowerError):
        await _await_with(fut, marker)
    del batch, fut, marker
    assert _collected(ref)


@pytest.mark.parametrize("how", ["result", "exception"])
async def test_an_error_read_from_a_record_and_raised_does_not_leak(impl: ModuleType, how: str) -> None:
    batch, fut = _appended(impl)
    batch.future.set_exception(NotLeaderOrFollowerError("t-3"))
    marker = Marker()
    ref = weakref.ref(marker)

    def read(f: Any, m: Marker) -> None:
        if how == "result":
            f.result()
        raise f.exception()

    with pytest.raises(NotLeaderOrFollowerError):
        read(fut, marker)
    del batch, fut, marker
    assert _collected(ref)


async def test_the_unawaited_siblings_of_a_failed_record_do_not_keep_the_frame_forever(impl: ModuleType) -> None:
    loop = asyncio.get_running_loop()
    batch = ProducerBatch("t", 3, BatchBuilder(Compression.NONE, 1024), loop.create_future(), 0.0, 10_000.0, 1024)
    queues = {("t", 3): deque([batch])}
    futs = [impl.try_append(queues, "t", 3, 1000, b"k", b"v", None) for _ in range(3)]
    batch.future.set_exception(NotLeaderOrFollowerError("t-3"))
    marker = Marker()
    ref = weakref.ref(marker)

    async def await_all(fs: list[Any], m: Marker) -> None:
        for f in fs:  # the first raises through this frame; the others were never awaited
            await f

    with pytest.raises(NotLeaderOrFollowerError):
        await await_all(futs, marker)
    del batch, futs, marker, queues
    assert _collected(ref)


async def test_a_send_many_error_with_a_record_of_the_same_batch_in_the_frame_does_not_leak(impl: ModuleType) -> None:
    batch, single = _appended(impl)
    many = future_mod.ManyFuture([impl.Run(batch, 0)], 1000)
    batch.future.set_exception(NotLeaderOrFollowerError("t-3"))
    marker = Marker()
    ref = weakref.ref(marker)

    async def app(s: Any, mf: Any, m: Marker) -> None:
        await mf

    with pytest.raises(NotLeaderOrFollowerError):
        await app(single, many, marker)
    del batch, single, many, marker
    assert _collected(ref)


async def test_a_task_awaiting_a_record_of_an_undecided_batch_is_collected_when_dropped(impl: ModuleType) -> None:
    # the batch's future -> the task's wake-up -> the task -> its frame -> the record's future -> the batch
    batch, fut = _appended(impl)
    marker = Marker()
    ref = weakref.ref(marker)
    task = asyncio.ensure_future(_await_with(fut, marker))
    await asyncio.sleep(0)
    assert not task.done()
    task._log_destroy_pending = False  # dropped on purpose: no "destroyed but pending" report
    del batch, fut, marker, task
    assert _collected(ref)


async def test_a_done_callback_of_an_undecided_batch_is_collected_when_dropped(impl: ModuleType) -> None:
    batch, fut = _appended(impl)
    marker = Marker()
    ref = weakref.ref(marker)
    fut.add_done_callback(lambda f, m=marker: (f, m))
    del batch, fut, marker
    assert _collected(ref)


async def test_a_delivered_record_read_after_the_fact_is_freed_at_once(impl: ModuleType) -> None:
    batch, fut = _appended(impl)
    batch.future.set_result((7, -1))
    assert (await fut).offset == 7
    ref = weakref.ref(batch.future)
    del batch, fut
    assert ref() is None  # no cycle at all: reference counting alone frees it


def _appended_many(impl: ModuleType, n: int) -> tuple[ProducerBatch, list[Any]]:
    """A batch and the futures of ``n`` records appended to it by the hot path."""
    loop = asyncio.get_running_loop()
    batch = ProducerBatch("t", 3, BatchBuilder(Compression.NONE, 1024), loop.create_future(), 0.0, 10_000.0, 1024)
    queues = {("t", 3): deque([batch])}
    futs = [impl.try_append(queues, "t", 3, 1000, b"k", b"v", None) for _ in range(n)]
    return batch, futs


async def test_a_task_awaiting_one_record_beside_its_unawaited_siblings_is_collected_when_dropped(
        impl: ModuleType) -> None:
    # the batch's future -> the task -> its frame -> the list -> a sibling never awaited -> the batch
    # (a producer dropped unclosed leaves its batch undecided so, with the task waiting on it)
    batch, futs = _appended_many(impl, 3)
    marker = Marker()
    ref = weakref.ref(marker)

    async def await_first(fs: list[Any], m: Marker) -> Any:
        return await fs[0]

    task = asyncio.ensure_future(await_first(futs, marker))
    await asyncio.sleep(0)
    assert not task.done()
    task._log_destroy_pending = False  # dropped on purpose: no "destroyed but pending" report
    del batch, futs, marker, task
    assert _collected(ref)


async def test_a_done_callback_of_one_record_keeping_its_siblings_is_collected_when_dropped(impl: ModuleType) -> None:
    batch, futs = _appended_many(impl, 3)
    marker = Marker()
    ref = weakref.ref(marker)
    futs[0].add_done_callback(lambda f, fs=futs, m=marker: (f, fs, m))
    del batch, futs, marker
    assert _collected(ref)


async def test_an_undecided_batch_dropped_with_its_unawaited_records_is_freed(impl: ModuleType) -> None:
    # what a producer dropped without close() leaves: batches never decided, records never awaited
    batch, futs = _appended_many(impl, 5)
    holder = [futs, batch]
    holder.append(holder)  # the application's own cycle around them
    ref = weakref.ref(batch.future)
    del batch, futs, holder
    gc.collect()
    assert ref() is None


async def test_the_records_of_a_delivered_batch_never_awaited_are_freed_by_reference_counting(
        impl: ModuleType) -> None:
    batch, futs = _appended_many(impl, 5)
    batch.future.set_result((7, -1))
    ref = weakref.ref(batch.future)
    gc.disable()
    try:
        del batch, futs
        assert ref() is None  # no cycle at all: reference counting alone frees it
    finally:
        gc.enable()


async def test_an_error_read_from_a_sibling_with_exception_does_not_keep_the_frame_forever(impl: ModuleType) -> None:
    batch, futs = _appended_many(impl, 3)
    batch.future.set_exception(NotLeaderOrFollowerError("t-3"))
    marker = Marker()
    ref = weakref.ref(marker)

    def raise_first(fs: list[Any], m: Marker) -> None:
        exc = fs[0].exception()
        assert exc is not None
        raise exc

    with pytest.raises(NotLeaderOrFollowerError):
        raise_first(futs, marker)
    del batch, futs, marker
    assert _collected(ref)


async def test_a_copy_of_a_record_future_cannot_keep_the_original_out_of_the_collector(impl: ModuleType) -> None:
    # found by review: a copy made through the pickle protocol shared the original's slot in the
    # batch's list, and dropping it emptied that slot, so the original was never given back
    batch, futs = _appended_many(impl, 3)
    if impl.__name__.endswith("._producer"):
        with pytest.raises(TypeError):                # the compiled future refuses to be copied
            copy.copy(futs[1])
    else:
        copy.copy(futs[1])                            # the twin's (always tracked) may be
    batch.future.set_exception(NotLeaderOrFollowerError("t-3"))
    marker = Marker()
    ref = weakref.ref(marker)

    async def await_all(fs: list[Any], m: Marker) -> None:
        for f in fs:
            await f

    with pytest.raises(NotLeaderOrFollowerError):
        await await_all(futs, marker)
    del batch, futs, marker
    assert _collected(ref)
