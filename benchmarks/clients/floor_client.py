"""The floor of an asyncio round trip: what ``send_and_wait`` would cost a client that did nothing
but write one pre-encoded Produce request on an ``asyncio.Protocol`` and await one future for its
response.

The request is what an idempotent producer sends for one record (acks=all, a producer id from
InitProducerId, the next sequence number and the batch's CRC rewritten per request), so the broker
does the same work as for a client's ``send_and_wait``; the client side is one ``transport.write``,
the response's frame found in ``data_received`` and one future resolved. No Kafka client on this
loop can have a lower latency on this machine and broker: the latency table shows each loop's floor
beside the clients, so a ratio against confluent-kafka can be read against what the loop itself
costs.
"""
from __future__ import annotations

import asyncio
import socket
import struct
import time
from typing import cast

from benchmarks.clients._common import measure_latency_async, run_on_loop
from benchmarks.settings import Job
from kafkaio.errors import ErrorCode
from kafkaio.protocol.api import decode_response, encode_request
from kafkaio.records import BatchBuilder, rewrite_producer_state

PRODUCE, INIT_PRODUCER_ID = 0, 22
PRODUCE_VERSION = 9  # flexible and named topics: every broker the suite runs speaks it
INIT_VERSION = 4
_SIZE = struct.Struct(">i")
RETRIABLE_INIT = frozenset({ErrorCode.COORDINATOR_LOAD_IN_PROGRESS, ErrorCode.COORDINATOR_NOT_AVAILABLE,
                            ErrorCode.NOT_COORDINATOR, ErrorCode.REQUEST_TIMED_OUT})


class _Frames(asyncio.Protocol):
    """Resolves ``waiter`` with each response frame (without its size prefix)."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.waiter: asyncio.Future[bytes] | None = None
        self._buf = bytearray()
        self.lost: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is not an asyncio.Transport subclass

    def data_received(self, data: bytes) -> None:
        buf = self._buf
        buf += data
        while len(buf) >= 4:
            end = 4 + _SIZE.unpack_from(buf)[0]
            if len(buf) < end:
                return
            frame = bytes(buf[4:end])
            del buf[:end]
            waiter, self.waiter = self.waiter, None
            if waiter is None or waiter.done():
                raise RuntimeError("a response nobody waits for")
            waiter.set_result(frame)

    def connection_lost(self, exc: Exception | None) -> None:
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(exc or ConnectionError("connection closed"))
        if not self.lost.done():
            self.lost.set_result(None)

    async def call(self, request: bytes | bytearray) -> bytes:
        """Write ``request`` and wait for the next response frame."""
        assert self.transport is not None
        waiter = self.waiter = asyncio.get_running_loop().create_future()
        self.transport.write(request)
        return await waiter


async def _leader(job: Job) -> tuple[str, int]:
    """Host and port of partition 0's leader (read with kafkaio's admin metadata)."""
    from kafkaio import Admin

    async with Admin(bootstrap_servers=job.bootstrap) as admin:
        desc = (await admin.describe_topics([job.topic]))[job.topic]
        leader = next(p.leader for p in desc.partitions if p.partition == 0)
        node = next(n for n in (await admin.describe_cluster()).brokers if n.node_id == leader)
    return node.host, node.port


async def _latency(job: Job) -> dict:
    host, port = await _leader(job)
    loop = asyncio.get_running_loop()
    transport, frames = await loop.create_connection(_Frames, host, port)
    transport.get_extra_info("socket").setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        pid, epoch = await _producer_id(frames)
        builder = BatchBuilder()
        builder.append(int(time.time() * 1000), None, bytes(job.record_size), None)
        template = bytes(builder.build())
        request = bytes(encode_request(PRODUCE, PRODUCE_VERSION, 2, "floor", {
            "transactional_id": None, "acks": -1, "timeout_ms": 30000,
            "topic_data": [{"name": job.topic, "partition_data": [{"index": 0, "records": template}]}]}))
        at = request.index(template)
        head, tail = request[:at], request[at + len(template):]
        # the partition's error code in a v9 response to one topic with one partition: after the
        # correlation id, the header's tagged fields, the topic count, the topic name and the
        # partition count and index
        error_at = 4 + 1 + 1 + 1 + len(job.topic.encode()) + 1 + 4
        sequence = 0

        async def send_one(value: bytes) -> None:
            # every send carries the same one-record batch (same size), its sequence advanced
            nonlocal sequence
            batch = rewrite_producer_state(template, pid, epoch, sequence)
            sequence += 1
            frame = await frames.call(head + batch + tail)
            if frame[error_at] or frame[error_at + 1]:
                raise RuntimeError(f"the broker refused a floor request: {_produce_error(frame)}")

        return await measure_latency_async(job, send_one)
    finally:
        transport.close()
        await frames.lost


async def _producer_id(frames: _Frames) -> tuple[int, int]:
    """A producer id and epoch from InitProducerId, waiting out a broker still loading its
    coordinator (a fresh broker answers COORDINATOR_LOAD_IN_PROGRESS or COORDINATOR_NOT_AVAILABLE)."""
    deadline = time.monotonic() + 30.0
    while True:
        reply = decode_response(INIT_PRODUCER_ID, INIT_VERSION, await frames.call(encode_request(
            INIT_PRODUCER_ID, INIT_VERSION, 1, "floor",
            {"transactional_id": None, "transaction_timeout_ms": -1, "producer_id": -1, "producer_epoch": -1})))
        code = reply["error_code"]
        if not code:
            return reply["producer_id"], reply["producer_epoch"]
        if code not in RETRIABLE_INIT or time.monotonic() > deadline:
            raise RuntimeError(f"InitProducerId: error {code}")
        await asyncio.sleep(0.1)


def _produce_error(frame: bytes) -> int:
    """The error code of the one partition of a Produce v9 response frame."""
    body = decode_response(PRODUCE, PRODUCE_VERSION, frame)
    return int(body["responses"][0]["partition_responses"][0]["error_code"])


def run(job: Job) -> dict:
    return run_on_loop(job, lambda: _latency(job))
