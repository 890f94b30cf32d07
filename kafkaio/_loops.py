"""A client belongs to the event loop it was started on.

Its futures, locks and tasks are that loop's: awaited from another loop they would never complete,
so a call from another loop fails at once with :class:`IllegalStateError` instead of hanging. The
producer, the consumer and the admin client share this check and its message.
"""
from __future__ import annotations

import asyncio

from kafkaio.errors import IllegalStateError

__all__ = ["check_loop", "wrong_loop"]


def wrong_loop(client: str) -> IllegalStateError:
    """The error for a ``client`` ("producer", "consumer", "admin client") used from another loop."""
    return IllegalStateError(
        f"this {client} was started on another event loop: a client belongs to the loop it was "
        "started on (start one per loop, e.g. in each worker's own asyncio.run)")


def check_loop(started_on: asyncio.AbstractEventLoop | None, client: str) -> None:
    """Raise :func:`wrong_loop` when a loop other than ``started_on`` runs this call.

    Nothing is checked before the client was started (``started_on`` None) or when no loop runs
    (a plain method called from synchronous code)."""
    if started_on is None:
        return
    running = asyncio._get_running_loop()
    if running is not None and running is not started_on:
        raise wrong_loop(client)
