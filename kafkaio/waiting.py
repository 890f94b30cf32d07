"""Bounded waits that never lose a cancellation.

On Python 3.11, ``asyncio.wait_for`` drops a cancellation of its caller that arrives after the
awaited operation completed but before the caller resumed: it returns the result instead of
raising ``CancelledError`` (CPython gh-86296; 3.12 rebuilt ``wait_for`` on ``asyncio.timeout``).
A task that must end when cancelled then runs on: a consumer's ``getmany()`` under Ctrl-C, a
commit whose caller gave up, a background loop that ``close()`` stops and waits for.
:func:`within` waits with ``asyncio.timeout()``, which keeps every cancellation, in the caller's
own task (``wait_for`` makes one more task for a coroutine).
"""
from __future__ import annotations

import asyncio
from typing import Awaitable, TypeVar

__all__ = ["within"]

T = TypeVar("T")


async def within(aw: Awaitable[T], timeout: float | None) -> T:
    """``aw``'s result; :class:`TimeoutError` (``asyncio.TimeoutError``) when ``timeout`` seconds
    pass first, ``aw`` then being cancelled. ``None``: no bound."""
    async with asyncio.timeout(timeout):
        return await aw
