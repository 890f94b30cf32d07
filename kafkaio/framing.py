"""Kafka's framing on an asyncio transport: a 4-byte big-endian size, then that many bytes.

:class:`FrameProtocol` is the protocol of one broker connection. It cuts the incoming byte stream
into frames and hands each to a callback from ``buffer_updated`` itself, as soon as its last byte
arrives, and gives the writer the transport's flow control (:meth:`FrameProtocol.drain`).

Why not ``asyncio.StreamReader`` and a reader task: a response then travels socket -> reader
buffer -> wake-up of the reader task (one event-loop pass later) -> ``readexactly`` twice -> the
request's future. Handing the frame over from the protocol saves that pass and those calls on
every response; for ``send_and_wait`` they were a sizeable part of the client's time per round trip.
"""
from __future__ import annotations

import asyncio
import struct
from typing import Callable, Protocol, runtime_checkable

__all__ = ["FrameProtocol", "FrameSizeError", "StreamTransport"]

_SIZE = struct.Struct(">i")
# Default read buffer; frames larger than this (fetch responses) grow it while they arrive.
_BUFFER = 256 * 1024
# Read no less than this at a time, so that a frame's tail is not read a few bytes per call.
_MIN_READ = 16 * 1024


@runtime_checkable
class StreamTransport(Protocol):
    """What the protocol uses of its transport: a stream's, asyncio's or uvloop's (whose
    transports are not ``asyncio.Transport`` subclasses)."""

    def is_closing(self) -> bool: ...

    def abort(self) -> None: ...


class FrameSizeError(Exception):
    """The peer announced a frame smaller than a header or larger than we accept."""

    def __init__(self, size: int) -> None:
        super().__init__(f"frame of impossible size {size}")
        self.size = size


class FrameProtocol(asyncio.BufferedProtocol):
    """Splits the stream into frames for ``on_frame(frame)``; reports the end to ``on_lost(exc)``.

    ``on_frame`` gets each frame's bytes without the size prefix, in order. It runs inside
    ``buffer_updated``; if it raises, or a frame's size is out of range, the transport is aborted
    and ``on_lost`` gets that exception at once. ``on_lost`` is called exactly once: with None when
    the peer closed the connection (end of stream), else with the error that ended it.

    The socket is read straight into one reusable buffer (a buffered protocol): a plain protocol
    gets a fresh ``bytes`` per read, which CPython allocates at the transport's 256 KiB read size
    and then shrinks -- on glibc an ``mmap``/``mremap``/``munmap`` for every response. Frames that
    fit in that buffer are copied out of it when handed over. A larger frame (a big fetch response)
    is read into a buffer of its own, exactly its size, offered only up to the frame's end, and
    handed over as a read-only ``memoryview`` of it without any copy; the reusable buffer then takes
    over again.
    """

    def __init__(self, on_frame: Callable[[bytes | memoryview], object],
                 on_lost: Callable[[BaseException | None], object],
                 max_frame: int, loop: asyncio.AbstractEventLoop, buffer_size: int = _BUFFER) -> None:
        self._on_frame = on_frame
        self._on_lost = on_lost
        self._max_frame = max_frame
        self.transport: StreamTransport | None = None
        self._small = bytearray(buffer_size)
        self._small_view = memoryview(self._small)
        self._buf = self._small  # the reusable buffer, or a large frame's own
        self._view = self._small_view
        self._start = 0  # unconsumed bytes are _buf[_start:_end]
        self._end = 0
        self._need = 4   # bytes from _start needed before anything can be cut (prefix, or prefix + size)
        self._error: BaseException | None = None
        self._lost = False
        self._reported = False
        self._paused = False
        self._drain_waiter: asyncio.Future[None] | None = None
        self.closed: asyncio.Future[None] = loop.create_future()

    # -- asyncio.BufferedProtocol ---------------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        if not isinstance(transport, StreamTransport):
            raise TypeError(f"FrameProtocol needs a stream transport, not {transport!r}")
        self.transport = transport

    def get_buffer(self, sizehint: int) -> memoryview:
        if self._buf is not self._small:
            return self._view[self._end:]  # a large frame's own buffer: the rest of that frame
        size = len(self._small)
        if self._need <= size and (size - self._end >= _MIN_READ or self._start + self._need <= size):
            return self._view[self._end:]
        pending = self._end - self._start
        if self._need > size:
            # a frame larger than the reusable buffer: from here on it is read into its own
            buf = bytearray(self._need)
            buf[:pending] = self._view[self._start:self._end]
            self._buf, self._view = buf, memoryview(buf)
        else:
            # too little room left at the end: move the unconsumed bytes to the front (through a
            # copy: the two ranges may overlap)
            self._small[:pending] = self._view[self._start:self._end].tobytes()
        self._start, self._end = 0, pending
        return self._view[pending:]

    def buffer_updated(self, nbytes: int) -> None:
        if self._error is not None:
            return  # aborting: the rest of the stream means nothing
        self._end = end = self._end + nbytes
        pos = self._start
        if end - pos < self._need:
            return  # most reads of a large frame end here
        view = self._view
        if self._buf is not self._small:
            # a large frame is complete (its buffer was offered only up to its end): hand it over
            # as it is, and go back to the reusable buffer
            frame: bytes | memoryview = view.toreadonly()[4:]
            self._buf, self._view = self._small, self._small_view
            self._start = self._end = 0
            self._need = 4
            try:
                self._on_frame(frame)
            except BaseException as exc:  # noqa: BLE001 - reported through on_lost, never lost
                self._abort(exc)
                if not isinstance(exc, Exception):
                    raise
            return
        need = 4
        transport = self.transport
        assert transport is not None  # data arrives only after connection_made()
        try:
            while end - pos >= 4:
                (size,) = _SIZE.unpack_from(view, pos)
                if size < 4 or size > self._max_frame:
                    raise FrameSizeError(size)
                stop = pos + 4 + size
                if stop > end:
                    need = 4 + size
                    break
                frame = bytes(view[pos + 4:stop])
                pos = stop
                self._start = pos
                self._on_frame(frame)
                if self._error is not None or self._lost or transport.is_closing():
                    return  # the callback closed the connection: the rest is not for anyone
        except BaseException as exc:  # noqa: BLE001 - reported through on_lost, never lost
            self._abort(exc)
            if not isinstance(exc, Exception):
                raise
            return
        self._need = need
        if pos == end:
            self._start = self._end = 0
        else:
            self._start = pos

    def eof_received(self) -> bool:
        return False  # let the transport close itself; connection_lost(None) follows

    def connection_lost(self, exc: BaseException | None) -> None:
        if self._lost:
            return
        self._lost = True
        reason = self._error if self._error is not None else exc
        waiter = self._drain_waiter
        if waiter is not None and not waiter.done():
            waiter.set_exception(ConnectionResetError("connection lost") if reason is None else reason)
            waiter.exception()  # a drain nobody awaits any more must not log "never retrieved"
        if not self.closed.done():
            self.closed.set_result(None)
        self._report(reason)

    def pause_writing(self) -> None:
        self._paused = True

    def resume_writing(self) -> None:
        self._paused = False
        waiter = self._drain_waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    # -- writer side ---------------------------------------------------------------------------
    async def drain(self) -> None:
        """Wait until the transport's write buffer is below its high-water mark again.

        Raises ``ConnectionResetError`` (or the error that ended the connection) once it is lost."""
        if self._lost:
            raise self._error if self._error is not None else ConnectionResetError("connection lost")
        if not self._paused:
            return
        waiter = self._drain_waiter
        if waiter is None or waiter.done():
            waiter = self._drain_waiter = asyncio.get_running_loop().create_future()
        await asyncio.shield(waiter)

    def _abort(self, exc: BaseException) -> None:
        # reported now, not when the transport's connection_lost comes a loop pass later: nothing
        # must be written to a connection whose stream can no longer be read
        self._error = exc
        if self.transport is not None:
            self.transport.abort()
        self._report(exc)

    def _report(self, reason: BaseException | None) -> None:
        if not self._reported:
            self._reported = True
            self._on_lost(reason)
