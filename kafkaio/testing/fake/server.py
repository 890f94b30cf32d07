"""The fake cluster: one asyncio server per broker on 127.0.0.1, Kafka framing, control hooks.

A connection's requests are read, handled and answered one at a time, in order, because a Kafka
broker does exactly that (it mutes a connection while a request is in its hands): a delayed or
dropped request therefore affects the requests behind it on its connection as it would on Kafka.
"""
from __future__ import annotations

import asyncio
import functools
import itertools
import struct
from dataclasses import dataclass
from typing import Any

from kafkaio.protocol.api import decode_request, encode_response
from kafkaio.records import read_batches
from kafkaio.testing.fake.control import (
    CLOSE, DELAY, DROP, DROP_RESPONSE, Control, ControlFn, Outcome, RequestInfo)
from kafkaio.testing.fake.handlers import HANDLERS
from kafkaio.testing.fake.state import DEFAULT_MAX_MESSAGE_BYTES, ClusterState, StoredBatch

_SIZE = struct.Struct(">i")
_MAX_REQUEST = 100 * 1024 * 1024  # Kafka's socket.request.max.bytes


@dataclass(frozen=True)
class FakeRecord:
    """One record of a partition's log with the producer state of the batch that carried it."""

    offset: int
    key: bytes | None
    value: bytes | None
    headers: list[tuple[str, bytes | None]]
    timestamp: int
    producer_id: int
    producer_epoch: int
    sequence: int  # the record's own sequence (batch base sequence + offset delta), -1 if none


class _Broker:
    """One fake broker: its node id, its server, and what handlers may ask of the cluster."""

    def __init__(self, cluster: "FakeCluster", node_id: int) -> None:
        self.cluster = cluster
        self.node_id = node_id
        self.state = cluster.state
        self.server: asyncio.AbstractServer | None = None
        self.port = 0

    def address(self, node_id: int) -> tuple[str, int]:
        return self.cluster.host, self.cluster._brokers[node_id].port


class FakeCluster:
    """An in-process Kafka cluster for tests: ``async with FakeCluster(topics={"t": 3}) as fake``.

    ``brokers`` fake brokers share one state; partition ``p`` of a topic is led by broker
    ``p % brokers``. ``topics`` maps names to partition counts (or to ``(partitions,
    max_message_bytes)``). Unknown topics named in a Metadata request are created with
    ``default_partitions`` when ``auto_create_topics`` is true, as Kafka's default does.
    ``features`` are the finalized feature levels ApiVersions reports, e.g.
    ``{"transaction.version": 2}`` for KIP-890's second transaction protocol (none by default).
    """

    DROP = DROP
    DROP_RESPONSE = DROP_RESPONSE
    CLOSE = CLOSE
    DELAY = DELAY

    def __init__(self, brokers: int = 1, topics: dict[str, Any] | None = None, *,
                 auto_create_topics: bool = True, default_partitions: int = 1,
                 host: str = "127.0.0.1", features: dict[str, int] | None = None) -> None:
        if brokers < 1:
            raise ValueError("a cluster needs at least one broker")
        self.host = host
        self.state = ClusterState(list(range(brokers)), auto_create_topics, default_partitions, features)
        self._brokers = {n: _Broker(self, n) for n in self.state.node_ids}
        self._controls: list[Control] = []
        self._conn_ids = itertools.count(1)
        self._tasks: set[asyncio.Task[None]] = set()
        self._writers: set[asyncio.StreamWriter] = set()
        self.errors: list[BaseException] = []  # failures of handlers or controls, raised at exit
        self.requests: list[RequestInfo] = []  # every request received, in order
        for name, spec in (topics or {}).items():
            partitions, max_bytes = spec if isinstance(spec, tuple) else (spec, DEFAULT_MAX_MESSAGE_BYTES)
            self.state.create_topic(name, partitions, max_bytes)

    # -- lifecycle ------------------------------------------------------------------------------
    async def start(self) -> None:
        """Listen on a free port per broker."""
        for broker in self._brokers.values():
            broker.server = await asyncio.start_server(functools.partial(self._accept, broker), self.host, 0)
            broker.port = broker.server.sockets[0].getsockname()[1]

    async def close(self) -> None:
        """Stop listening, cut every connection, end every connection task."""
        for broker in self._brokers.values():
            if broker.server is not None:
                broker.server.close()
        for writer in list(self._writers):
            writer.transport.abort()
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        self.state.close()
        for broker in self._brokers.values():
            if broker.server is not None:
                await broker.server.wait_closed()

    async def __aenter__(self) -> "FakeCluster":
        await self.start()
        return self

    async def __aexit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        await self.close()
        if exc_type is None and self.errors:
            raise RuntimeError(f"the fake cluster failed {len(self.errors)} time(s)") from self.errors[0]

    @property
    def bootstrap_servers(self) -> str:
        return ",".join(f"{self.host}:{b.port}" for b in self._brokers.values())

    # -- what tests use -------------------------------------------------------------------------
    @property
    def open_connections(self) -> int:
        """How many client connections the fake brokers are serving now."""
        return len(self._writers)

    def control(self, api_key: int | None, fn: ControlFn, *, persistent: bool = False) -> Control:
        """Intercept requests of ``api_key`` (every API if None) with ``fn(info, body)``.

        Controls are consulted in the order they were added; the first to return something other
        than None decides. A one-shot control (the default) is removed when it decides once; a
        persistent one stays until :meth:`remove_control`. The returned object counts ``calls``
        and ``hits``."""
        c = Control(api_key, fn, persistent)
        self._controls.append(c)
        return c

    def remove_control(self, control: Control) -> None:
        if control in self._controls:
            self._controls.remove(control)

    def create_topic(self, name: str, partitions: int, max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES) -> None:
        self.state.create_topic(name, partitions, max_message_bytes)

    def batches(self, topic: str, partition: int) -> list[StoredBatch]:
        """The batches of a partition's log, in offset order, as the fake stored them."""
        log = self.state.partition(topic, partition)
        if log is None:
            raise KeyError(f"no partition {topic}-{partition}")
        return list(log.batches)

    def records(self, topic: str, partition: int) -> list[FakeRecord]:
        """The data records of a partition's log, in offset order (transaction markers left out;
        :meth:`batches` has them), each with its batch's producer id and epoch and its own
        sequence number. Records of aborted or open transactions are included."""
        out = []
        for stored in self.batches(topic, partition):
            for batch in read_batches(stored.data):
                if batch.is_control:
                    continue
                for r in batch.records(topic, partition):
                    seq = -1 if batch.base_sequence < 0 else (
                        (batch.base_sequence + r.offset - batch.base_offset) & 0x7FFFFFFF)
                    out.append(FakeRecord(r.offset, r.key, r.value, list(r.headers), r.timestamp,
                                          batch.producer_id, batch.producer_epoch, seq))
        return out

    # -- serving --------------------------------------------------------------------------------
    def _accept(self, broker: _Broker, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.ensure_future(self._serve(broker, next(self._conn_ids), reader, writer))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _serve(self, broker: _Broker, conn_id: int, reader: asyncio.StreamReader,
                     writer: asyncio.StreamWriter) -> None:
        self._writers.add(writer)
        try:
            while True:
                try:
                    (size,) = _SIZE.unpack(await reader.readexactly(4))
                    if not 0 < size <= _MAX_REQUEST:
                        raise ValueError(f"request frame of {size} bytes")
                    payload = await reader.readexactly(size)
                except (asyncio.IncompleteReadError, ConnectionError):
                    return  # the client closed the connection
                if not await self._one(broker, conn_id, payload, writer):
                    return
        except asyncio.CancelledError:
            raise
        except BaseException as exc:  # noqa: BLE001 - kept for __aexit__; the connection is cut
            self.errors.append(exc)
        finally:
            self._writers.discard(writer)
            writer.transport.abort()

    async def _one(self, broker: _Broker, conn_id: int, payload: bytes, writer: asyncio.StreamWriter) -> bool:
        """Handle one request; False when the connection is to be closed."""
        api_key, version, corr, client_id, body = decode_request(payload)
        info = RequestInfo(api_key, version, corr, client_id, broker.node_id, conn_id)
        self.requests.append(info)
        outcome = self._consult(info, body)
        if isinstance(outcome, DELAY):
            await asyncio.sleep(outcome.ms / 1000)
            outcome = None
        if outcome is DROP:
            return True
        if outcome is CLOSE:
            return False
        if isinstance(outcome, dict):
            response: dict[str, Any] | None = outcome
        else:
            handler = HANDLERS.get(api_key)
            if handler is None:  # not advertised in ApiVersions: a client should never send it
                raise NotImplementedError(f"the fake broker does not answer API key {api_key}")
            response = await handler(broker, version, body)
        if response is None or outcome is DROP_RESPONSE:
            return True
        writer.write(encode_response(api_key, version, corr, response))
        await writer.drain()
        return True

    def _consult(self, info: RequestInfo, body: dict[str, Any]) -> Outcome:
        for c in list(self._controls):
            if c.api_key is not None and c.api_key != info.api_key:
                continue
            c.calls += 1
            outcome = c.fn(info, body)
            if outcome is None:
                continue
            c.hits += 1
            if not c.persistent:
                self._controls.remove(c)
            return outcome
        return None
