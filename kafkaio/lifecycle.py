"""A client's lifecycle (new, starting, started, closing, closed) as an enum with a transition table,
and the rules for concurrent callers of ``start()`` and ``close()``.

One start runs at a time: a ``start()`` called while another is in progress waits for it (and, if
it failed, tries again itself). The close runs once, in a task of its own, and every caller of
``close()`` waits for it, so each returns only once the client's records are decided and its tasks
ended; a cancelled caller does not cut the close short (it may make it hurry: ``force``). A
``start()`` during or after a close is refused.
"""
from __future__ import annotations

import asyncio
from enum import Enum
from typing import Any, Callable, Coroutine


class ClientState(Enum):
    """Where a client is in its life."""

    NEW = "new"
    STARTING = "starting"
    STARTED = "started"
    CLOSING = "closing"
    CLOSED = "closed"


TRANSITIONS: dict[ClientState, frozenset[ClientState]] = {
    ClientState.NEW: frozenset({ClientState.STARTING, ClientState.CLOSED}),
    ClientState.STARTING: frozenset({ClientState.STARTED, ClientState.NEW}),   # NEW: the start failed
    ClientState.STARTED: frozenset({ClientState.CLOSING}),
    ClientState.CLOSING: frozenset({ClientState.CLOSED}),
    ClientState.CLOSED: frozenset(),
}

# started, or closing: until close() ends, what close() does itself (a listener's commits) works
ACTIVE = frozenset({ClientState.STARTED, ClientState.CLOSING})


class Lifecycle:
    """The state of one client and the futures its concurrent ``start()``/``close()`` callers wait on.

    ``closed_error`` is the error a ``start()`` during or after a close raises; ``name`` names the
    client in its message."""

    __slots__ = ("state", "_name", "_closed_error", "_started", "_closing")

    def __init__(self, name: str, closed_error: Callable[[str], Exception]) -> None:
        self.state = ClientState.NEW
        self._name = name
        self._closed_error = closed_error
        self._started: asyncio.Future[None] | None = None   # done when the start in progress ends
        self._closing: asyncio.Task[None] | None = None    # the close, once begun

    def _move(self, new: ClientState) -> None:
        if new not in TRANSITIONS[self.state]:
            raise AssertionError(f"client lifecycle: {self.state.value} -> {new.value} is not allowed")
        self.state = new

    async def begin_start(self) -> bool:
        """True if the caller is to start the client now (then :meth:`started` or
        :meth:`start_failed`); False if it is started already."""
        while True:
            state = self.state
            if state is ClientState.STARTED:
                return False
            if state is ClientState.NEW:
                self._move(ClientState.STARTING)
                self._started = asyncio.get_running_loop().create_future()
                return True
            if state is ClientState.STARTING:
                assert self._started is not None
                await asyncio.shield(self._started)
                continue
            raise self._closed_error(f"the {self._name} is {state.value}: it cannot be started again; "
                                     "create a new one")

    def started(self) -> None:
        self._move(ClientState.STARTED)
        self._end_start()

    def start_failed(self) -> None:
        self._move(ClientState.NEW)
        self._end_start()

    def _end_start(self) -> None:
        started, self._started = self._started, None
        if started is not None and not started.done():
            started.set_result(None)

    async def close(self, work: Callable[[], Coroutine[Any, Any, None]], *, timeout: float | None = None,
                    force: Callable[[], None] | None = None) -> None:
        """Close the client by running ``work()`` once, in a task of its own, whoever calls first;
        every caller waits for it to end and sees its error, if any.

        ``timeout`` (seconds, None: no limit): when this caller's time runs out first, or when this
        caller is cancelled, ``force()`` is called (the close then ends without waiting for the
        broker) and, after a timeout, the caller goes on waiting for the end. A cancelled caller
        does not stop the close: it still ends every task of the client."""
        while self.state is ClientState.STARTING:
            assert self._started is not None
            await asyncio.shield(self._started)
        if self.state is ClientState.NEW:
            self._move(ClientState.CLOSED)
            return
        if self.state is ClientState.STARTED:
            self._move(ClientState.CLOSING)
            self._closing = asyncio.get_running_loop().create_task(self._run(work), name="kafkaio-close")
        task = self._closing
        if task is None:
            return
        try:
            done, _ = await asyncio.wait({task}, timeout=timeout)   # never cancels the close
            if not done:
                if force is not None:
                    force()
                await asyncio.wait({task})
        except asyncio.CancelledError:
            if force is not None:
                force()
            raise
        task.result()

    async def _run(self, work: Callable[[], Coroutine[Any, Any, None]]) -> None:
        try:
            await work()
        finally:
            self._move(ClientState.CLOSED)
