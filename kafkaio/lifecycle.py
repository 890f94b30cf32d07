"""A client's lifecycle (new, starting, started, closing, closed) as an enum with a transition table,
and the rules for concurrent callers of ``start()`` and ``close()``.

One start runs at a time: a ``start()`` called while another is in progress waits for it (and, if
it failed, tries again itself). A ``close()`` called while another is in progress waits until the
client is closed, so that every caller of ``close()`` returns only once the client's records are
decided and its tasks ended. A ``start()`` during or after a close is refused.
"""
from __future__ import annotations

import asyncio
from enum import Enum
from typing import Callable


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

    __slots__ = ("state", "_name", "_closed_error", "_started", "_closed")

    def __init__(self, name: str, closed_error: Callable[[str], Exception]) -> None:
        self.state = ClientState.NEW
        self._name = name
        self._closed_error = closed_error
        self._started: asyncio.Future[None] | None = None   # done when the start in progress ends
        self._closed: asyncio.Future[None] | None = None    # done when the close in progress ends

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

    async def begin_close(self) -> bool:
        """True if the caller is to close the client now (then :meth:`closed`); False if there is
        nothing to close or another caller is closing it (:meth:`wait_closed` waits for that)."""
        while True:
            state = self.state
            if state is ClientState.NEW:
                self._move(ClientState.CLOSED)
                return False
            if state is ClientState.STARTING:
                assert self._started is not None
                await asyncio.shield(self._started)
                continue
            if state is ClientState.STARTED:
                self._move(ClientState.CLOSING)
                self._closed = asyncio.get_running_loop().create_future()
                return True
            return False

    async def wait_closed(self, timeout: float | None = None) -> bool:
        """Wait (up to ``timeout`` seconds, None: no limit) for the close in progress; True once
        the client is closed."""
        closed = self._closed
        if self.state is ClientState.CLOSED or closed is None:
            return self.state is ClientState.CLOSED
        done, _ = await asyncio.wait({closed}, timeout=timeout)   # never cancels ``closed``
        return bool(done)

    def closed(self) -> None:
        self._move(ClientState.CLOSED)
        closed = self._closed
        if closed is not None and not closed.done():
            closed.set_result(None)
