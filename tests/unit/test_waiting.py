"""Bounded waits keep their caller's cancellation (kafkaio.waiting)."""
from __future__ import annotations

import asyncio

import pytest

from kafkaio.waiting import within


async def _ran_on_after_cancel(wait: object, sleeps: int) -> bool:
    """Whether a task cancelled ``sleeps`` loop passes after the event it waits for was set, and
    not finished when cancelled, returned normally (its cancellation lost) instead of raising
    CancelledError."""
    event = asyncio.Event()

    async def waiter() -> str:
        await wait(event.wait(), 10.0)  # type: ignore[operator]
        return "ran on"

    task = asyncio.ensure_future(waiter())
    await asyncio.sleep(0)
    event.set()
    for _ in range(sleeps):
        await asyncio.sleep(0)
    if not task.cancel():
        return False  # it had finished: nothing to lose
    try:
        await task
    except asyncio.CancelledError:
        return False
    return True


@pytest.mark.parametrize("sleeps", [0, 1, 2, 3])
async def test_a_cancel_as_the_awaited_event_is_set_is_never_lost(sleeps: int) -> None:
    assert not await _ran_on_after_cancel(within, sleeps)


async def test_within_returns_the_result_and_times_out_with_timeout_error() -> None:
    async def answer() -> int:
        await asyncio.sleep(0)
        return 42

    assert await within(answer(), 1.0) == 42
    assert await within(answer(), None) == 42
    with pytest.raises(TimeoutError):
        await within(asyncio.Event().wait(), 0.01)
    with pytest.raises(asyncio.TimeoutError):  # the same class the callers catch
        await within(asyncio.Event().wait(), 0)
