"""FrameProtocol: cutting a byte stream into Kafka frames, whatever the reads' boundaries.

The protocol is driven the way an asyncio transport drives a buffered protocol: ``get_buffer``,
copy what the socket returned into it, ``buffer_updated(n)``. Its use on real sockets (TLS
included) is covered by every integration test; these pin the buffer handling.
"""
from __future__ import annotations

import asyncio
import random
import struct

import pytest

from kafkaio.framing import FrameProtocol, FrameSizeError


class FakeTransport:
    def __init__(self) -> None:
        self.aborted = False
        self.closing = False

    def is_closing(self) -> bool:
        return self.closing or self.aborted

    def abort(self) -> None:
        self.aborted = True


def frame(payload: bytes) -> bytes:
    return struct.pack(">i", len(payload)) + payload


class Harness:
    def __init__(self, buffer_size: int = 64, max_frame: int = 1 << 20) -> None:
        self.loop = asyncio.new_event_loop()
        self.frames: list[bytes] = []
        self.lost: list[BaseException | None] = []
        self.proto = FrameProtocol(self.frames.append, self.lost.append, max_frame, self.loop,
                                   buffer_size=buffer_size)
        self.transport = FakeTransport()
        self.proto.connection_made(self.transport)  # type: ignore[arg-type]

    def feed(self, data: bytes, max_read: int | None = None) -> None:
        """What the transport does: fill the offered buffer with at most what it holds."""
        while data:
            buf = self.proto.get_buffer(-1)
            assert len(buf) > 0
            n = min(len(buf), len(data), max_read or len(data))
            buf[:n] = data[:n]
            data = data[n:]
            self.proto.buffer_updated(n)

    def close(self) -> None:
        self.loop.close()


@pytest.fixture
def harness():
    h = Harness()
    yield h
    h.close()


def test_frames_arrive_whole_whatever_the_read_boundaries():
    rnd = random.Random(7)
    payloads = [bytes(rnd.getrandbits(8) for _ in range(rnd.choice([4, 5, 17, 63, 64, 65, 300, 5000])))
                for _ in range(60)]
    stream = b"".join(frame(p) for p in payloads)
    for max_read in (1, 2, 3, 5, 7, 64, 100, 4096, None):
        h = Harness(buffer_size=64)
        h.feed(stream, max_read)
        assert h.frames == payloads, max_read
        assert h.lost == []
        h.close()


def test_many_frames_in_one_read(harness):
    payloads = [b"abcd" * i for i in range(1, 10)]
    harness.feed(b"".join(frame(p) for p in payloads))
    assert harness.frames == payloads


@pytest.mark.parametrize("max_read", [1, 7, 60, 1000, None])
def test_a_large_frame_is_read_into_its_own_buffer_and_handed_over_without_a_copy(max_read):
    h = Harness(buffer_size=64)
    big = bytes(range(256)) * 40  # 10,240 bytes, through a 64-byte reusable buffer
    h.feed(frame(b"small") + frame(big) + frame(b"next") + frame(big[:30]), max_read=max_read)
    assert h.frames == [b"small", big, b"next", big[:30]]
    large = h.frames[1]
    assert isinstance(large, memoryview) and large.readonly  # the frame's own buffer, not a copy
    assert all(isinstance(f, bytes) for f in h.frames[::2])  # small frames: copied out
    assert h.proto._buf is h.proto._small and len(h.proto._small) == 64
    h.close()


@pytest.mark.parametrize("size", [-1, 0, 3, (1 << 20) + 1])
def test_an_impossible_size_aborts_and_is_reported_once(harness, size):
    harness.feed(frame(b"ok!!") + struct.pack(">i", size) + b"\x00" * 8)
    assert harness.frames == [b"ok!!"]
    assert harness.transport.aborted
    assert len(harness.lost) == 1 and isinstance(harness.lost[0], FrameSizeError)
    assert harness.lost[0].size == size
    harness.proto.buffer_updated(0)  # further reads are ignored
    harness.proto.connection_lost(None)  # the transport's own report adds nothing
    assert len(harness.lost) == 1
    assert harness.proto.closed.done()


def test_an_error_in_the_frame_callback_aborts_and_is_reported():
    h = Harness()

    def boom(payload: bytes) -> None:
        raise ValueError("handler bug")

    h.proto._on_frame = boom
    h.feed(frame(b"abcd") + frame(b"efgh"))
    assert h.transport.aborted
    assert len(h.lost) == 1 and isinstance(h.lost[0], ValueError)
    h.close()


def test_a_callback_that_closes_the_connection_stops_the_cutting():
    h = Harness()
    seen: list[bytes] = []

    def close_after_first(payload: bytes) -> None:
        seen.append(payload)
        h.transport.closing = True

    h.proto._on_frame = close_after_first
    h.feed(frame(b"abcd") + frame(b"efgh"))
    assert seen == [b"abcd"]
    h.close()


def test_end_of_stream_is_reported_as_none_mid_frame_too(harness):
    harness.feed(frame(b"abcd")[:6])
    assert harness.proto.eof_received() is False  # the transport closes itself
    harness.proto.connection_lost(None)
    assert harness.frames == [] and harness.lost == [None]


def test_drain_waits_for_resume_and_fails_once_lost(harness):
    loop = harness.loop

    async def scenario() -> None:
        await harness.proto.drain()  # not paused: returns at once
        harness.proto.pause_writing()
        waiting = loop.create_task(harness.proto.drain())
        await asyncio.sleep(0)
        assert not waiting.done()
        harness.proto.resume_writing()
        await waiting
        harness.proto.pause_writing()
        waiting = loop.create_task(harness.proto.drain())
        await asyncio.sleep(0)
        harness.proto.connection_lost(ConnectionResetError("peer reset"))
        with pytest.raises(ConnectionResetError):
            await waiting
        with pytest.raises(ConnectionResetError):
            await harness.proto.drain()

    loop.run_until_complete(scenario())
    assert harness.lost and isinstance(harness.lost[0], ConnectionResetError)
