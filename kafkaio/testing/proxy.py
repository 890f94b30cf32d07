"""A fault-injection TCP proxy between Kafka clients and one broker, under test control.

The proxy listens on 127.0.0.1 (a free port by default) and forwards every connection to the
broker's real listener. The broker advertises the proxy's address (``LocalKafkaCluster(advertised=
{i: proxy.address})``), so clients that follow metadata come back through it. It reads Kafka's
framing (4-byte size, then the request header's api key, version and correlation id) so that
faults can be aimed at one kind of request:

    proxy.drop_responses(1, api_key=ApiKey.PRODUCE)   # the broker handles it, the client never hears
    proxy.drop_requests(1, api_key=ApiKey.PRODUCE)    # lost on the way: the broker never sees it
    proxy.delay(500)                                   # hold every response 500 ms (delay(0) releases)
    proxy.rewrite_responses(fn, 1, api_key=ApiKey.PRODUCE)  # the client gets fn(info, payload) instead
    proxy.cut()                                        # close every connection now
    proxy.cut_after_requests(3, api_key=0)             # 3rd produce reaches the broker, then the link dies
    proxy.pause(); proxy.resume()                      # stop / restart forwarding in both directions
    proxy.refuse_connections(True)                     # accept and immediately close new connections
    proxy.requests_seen[ApiKey.METADATA]               # counters per api key
    proxy.versions_seen[ApiKey.FETCH]                  # per api key, a counter per version

It runs in the caller's event loop (``await proxy.start()`` / ``async with``) or in a thread of its
own for code that is not async (``proxy.start_in_thread()`` / ``proxy.stop_thread()``); the control
methods may be called from any thread. ``framing=False`` forwards raw bytes (TLS listeners): then
only pause, cut and refusal apply.
"""
from __future__ import annotations

import asyncio
import contextlib
from contextlib import asynccontextmanager
import struct
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, AsyncIterator, Callable

from kafkaio._speedups import load
from kafkaio.errors import KafkaError

if TYPE_CHECKING:
    from kafkaio.testing.broker import LocalKafkaCluster

_read_uvarint = load("varint").decode_unsigned_varint

__all__ = ["FaultProxy", "RequestInfo", "proxied_cluster", "start_proxied_cluster"]

PRODUCE = 0
_HEADER = struct.Struct(">hhi")  # api_key, api_version, correlation_id
_MAX_FRAME = 1 << 30  # refuse absurd sizes rather than trying to allocate them


@dataclass(frozen=True)
class RequestInfo:
    """What the proxy learned from one request's header."""

    api_key: int
    api_version: int
    correlation_id: int
    size: int


Matcher = Callable[[RequestInfo], bool]


class _Rule:
    """Applies to the next ``remaining`` requests/responses matching ``api_key`` and ``predicate``."""

    def __init__(self, count: int | None, api_key: int | None, predicate: Matcher | None) -> None:
        self.remaining = count
        self.api_key = api_key
        self.predicate = predicate

    def take(self, info: RequestInfo | None) -> bool:
        """True (and one fewer remaining) when ``info`` matches."""
        if self.remaining is not None and self.remaining <= 0:
            return False
        if self.api_key is not None and (info is None or info.api_key != self.api_key):
            return False
        if self.predicate is not None and (info is None or not self.predicate(info)):
            return False
        if self.remaining is not None:
            self.remaining -= 1
        return True

    @property
    def spent(self) -> bool:
        return self.remaining is not None and self.remaining <= 0


def _expects_response(info: RequestInfo, payload: bytes) -> bool:
    """False only for a produce request with acks=0, which the broker never answers."""
    if info.api_key != PRODUCE:
        return True
    try:
        pos = 8
        (client_id_len,) = struct.unpack_from(">h", payload, pos)
        pos += 2 + max(client_id_len, 0)
        flexible = info.api_version >= 9
        if flexible:
            pos = _skip_tagged_fields(payload, pos)
        if info.api_version >= 3:  # transactional_id
            if flexible:
                length, pos = _read_uvarint(payload, pos)
                pos += max(length - 1, 0)
            else:
                (length,) = struct.unpack_from(">h", payload, pos)
                pos += 2 + max(length, 0)
        acks: int = struct.unpack_from(">h", payload, pos)[0]
        return acks != 0
    except (struct.error, IndexError, KafkaError):  # a malformed request is forwarded untouched
        return True


def _skip_tagged_fields(buf: bytes, pos: int) -> int:
    count, pos = _read_uvarint(buf, pos)
    for _ in range(count):
        _, pos = _read_uvarint(buf, pos)
        size, pos = _read_uvarint(buf, pos)
        pos += size
    return pos


class _Link:
    """One client connection and the broker connection made for it."""

    def __init__(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        self.client_reader = client_reader
        self.client_writer = client_writer
        self.broker_reader: asyncio.StreamReader | None = None
        self.broker_writer: asyncio.StreamWriter | None = None
        self.pending: dict[int, RequestInfo] = {}  # correlation id -> request awaiting its response
        self.cut_on_response: set[int] = set()
        self.closed = False

    def abort(self) -> None:
        """Close both sides at once, discarding anything buffered (as a crash or cable cut would)."""
        self.closed = True
        for writer in (self.client_writer, self.broker_writer):
            if writer is not None:
                writer.transport.abort()


class FaultProxy:
    """TCP proxy in front of one broker listener; see the module docstring for the controls."""

    def __init__(self, target: tuple[str, int] | None = None, *, listen_host: str = "127.0.0.1",
                 listen_port: int = 0, framing: bool = True, connect_timeout: float = 30.0) -> None:
        self.listen_host = listen_host
        self.listen_port = listen_port
        self.framing = framing
        self.connect_timeout = connect_timeout
        self._target = target
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: asyncio.base_events.Server | None = None
        self._thread: threading.Thread | None = None
        self._links: set[_Link] = set()
        self._lock = threading.Lock()  # guards rules and counters against control calls from other threads
        self._drop_rules: list[_Rule] = []
        self._drop_request_rules: list[_Rule] = []
        self._cut_rules: list[_CountdownRule] = []
        self._rewrite_rules: list[tuple[_Rule, Callable[[RequestInfo, bytes], bytes]]] = []
        self._delay_ms = 0.0
        self._delay_api_key: int | None = None
        self._refuse = False
        self._flowing: asyncio.Event | None = None
        self._delay_changed: asyncio.Event | None = None
        #: requests forwarded to the broker, per api key
        self.requests_seen: Counter[int] = Counter()
        #: requests forwarded to the broker, per api key and version: ``versions_seen[key][version]``
        self.versions_seen: defaultdict[int, Counter[int]] = defaultdict(Counter)
        #: responses forwarded to the client, per api key of their request
        self.responses_seen: Counter[int] = Counter()
        #: responses swallowed by drop_responses / cut_after_requests, per api key
        self.responses_dropped: Counter[int] = Counter()
        #: the last response swallowed per api key (the frame without its size prefix), so a test
        #: can tell what the broker answered to a request whose answer the client never saw
        self.last_dropped_response: dict[int, bytes] = {}
        #: requests swallowed by drop_requests (not counted in requests_seen), per api key
        self.requests_dropped: Counter[int] = Counter()
        #: responses replaced by rewrite_responses, per api key
        self.responses_rewritten: Counter[int] = Counter()
        self.connections_accepted = 0
        self.connections_cut = 0

    # ------------------------------------------------------------------ lifecycle

    @property
    def port(self) -> int:
        """The port clients connect to (known once started)."""
        if self._server is None:
            raise RuntimeError("the proxy is not started")
        port: int = self._server.sockets[0].getsockname()[1]
        return port

    @property
    def address(self) -> tuple[str, int]:
        """(host, port) to advertise for the broker behind this proxy."""
        return self.listen_host, self.port

    @property
    def bootstrap_servers(self) -> str:
        return f"{self.listen_host}:{self.port}"

    def set_target(self, host: str, port: int) -> None:
        """Where new connections go (the broker's real listener). Connections made before a target
        is known wait for it (up to ``connect_timeout``)."""
        self._target = (host, int(port))

    async def start(self) -> "FaultProxy":
        """Listen in the running event loop."""
        self._loop = asyncio.get_running_loop()
        self._flowing = asyncio.Event()
        self._flowing.set()
        self._delay_changed = asyncio.Event()
        self._server = await asyncio.start_server(self._accept, self.listen_host, self.listen_port)
        return self

    async def stop(self) -> None:
        """Stop listening and close every connection."""
        if self._server is not None:
            self._server.close()
            self._abort_all()
            await self._server.wait_closed()
            self._server = None

    async def __aenter__(self) -> "FaultProxy":
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    def start_in_thread(self) -> "FaultProxy":
        """Run the proxy on an event loop in a daemon thread; returns once it listens."""
        ready = threading.Event()
        failure: list[BaseException] = []

        def run() -> None:
            loop = asyncio.new_event_loop()
            try:
                loop.run_until_complete(self.start())
            except BaseException as exc:  # report start-up failure to the caller's thread
                failure.append(exc)
                ready.set()
                loop.close()
                return
            ready.set()
            loop.run_forever()
            loop.run_until_complete(self.stop())
            loop.close()

        self._thread = threading.Thread(target=run, name="kafkaio-fault-proxy", daemon=True)
        self._thread.start()
        ready.wait()
        if failure:
            raise failure[0]
        return self

    def stop_thread(self) -> None:
        """Stop a proxy started with :meth:`start_in_thread` and join its thread."""
        if self._thread is None or self._loop is None:
            return
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=30)
        self._thread = None

    def __enter__(self) -> "FaultProxy":
        return self.start_in_thread()

    def __exit__(self, *exc: object) -> None:
        self.stop_thread()

    # ------------------------------------------------------------------ controls (any thread)

    def drop_responses(self, count: int | None = 1, api_key: int | None = None,
                       predicate: Matcher | None = None) -> None:
        """Swallow the next ``count`` responses (None: all) whose request matches ``api_key`` and
        ``predicate``. The broker still handles the requests; the connection stays open."""
        with self._lock:
            self._drop_rules.append(_Rule(count, None if api_key is None else int(api_key), predicate))

    def rewrite_responses(self, fn: Callable[[RequestInfo, bytes], bytes], count: int | None = 1,
                          api_key: int | None = None, predicate: Matcher | None = None) -> None:
        """Hand the client ``fn(info, payload)`` instead of the next ``count`` responses (None: all)
        whose request matches (``payload``: the response after its size prefix, header included):
        an answer the broker did not give, e.g. an error code it no longer sends."""
        with self._lock:
            self._rewrite_rules.append((_Rule(count, None if api_key is None else int(api_key), predicate), fn))

    def drop_requests(self, count: int | None = 1, api_key: int | None = None,
                      predicate: Matcher | None = None) -> None:
        """Swallow the next ``count`` requests (None: all) matching ``api_key`` and ``predicate``:
        the broker never sees them, the client waits for an answer that does not come."""
        with self._lock:
            self._drop_request_rules.append(_Rule(count, None if api_key is None else int(api_key), predicate))

    def delay(self, ms: float, api_key: int | None = None) -> None:
        """Hold each response (of ``api_key`` only, if given) ``ms`` milliseconds before forwarding.
        Order on a connection is kept. ``delay(0)`` releases held responses at once."""
        with self._lock:
            self._delay_ms = float(ms)
            self._delay_api_key = None if api_key is None else int(api_key)
        self._call(lambda: self._delay_changed.set() if self._delay_changed else None)

    def cut(self) -> None:
        """Close every open connection now (both sides, buffered bytes discarded)."""
        self._call(self._abort_all)

    def cut_after_requests(self, count: int, api_key: int | None = None,
                           predicate: Matcher | None = None) -> None:
        """Forward ``count`` more matching requests; when the broker answers the last one, swallow
        the answer and cut that connection. The request has then certainly been handled by the
        broker while the client never learns its outcome. (An acks=0 produce, which gets no
        answer, cuts the connection right after it is forwarded.)"""
        if count < 1:
            raise ValueError("count must be at least 1")
        with self._lock:
            self._cut_rules.append(_CountdownRule(count, None if api_key is None else int(api_key), predicate))

    def pause(self) -> None:
        """Stop forwarding in both directions; bytes wait in the proxy until :meth:`resume`."""
        self._call(lambda: self._flowing.clear() if self._flowing else None)

    def resume(self) -> None:
        self._call(lambda: self._flowing.set() if self._flowing else None)

    def refuse_connections(self, refuse: bool = True) -> None:
        """Accept and immediately close new connections (a broker that is down but whose port answers)."""
        self._refuse = refuse

    def reset(self) -> None:
        """Forget every fault (drops, cuts, delay, pause, refusal); keep the counters."""
        with self._lock:
            self._drop_rules.clear()
            self._drop_request_rules.clear()
            self._rewrite_rules.clear()
            self._cut_rules.clear()
        self.refuse_connections(False)
        self.delay(0)
        self.resume()

    @property
    def open_connections(self) -> int:
        return len(self._links)

    async def wait_for_requests(self, count: int, api_key: int | None = None, timeout: float = 30.0) -> None:
        """Wait until at least ``count`` requests (of ``api_key``, if given) have been forwarded."""
        deadline = time.monotonic() + timeout
        while self._requests(api_key) < count:
            if time.monotonic() > deadline:
                raise TimeoutError(f"saw {self._requests(api_key)} of {count} requests (api_key={api_key})")
            await asyncio.sleep(0.01)

    def _requests(self, api_key: int | None) -> int:
        return sum(self.requests_seen.values()) if api_key is None else self.requests_seen[int(api_key)]

    def _call(self, fn: Callable[[], Any]) -> None:
        """Run ``fn`` on the proxy's loop: directly from that loop, scheduled from other threads."""
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            fn()
        else:
            loop.call_soon_threadsafe(fn)

    def _abort_all(self) -> None:
        for link in list(self._links):
            if not link.closed:
                self.connections_cut += 1
            link.abort()

    # ------------------------------------------------------------------ forwarding

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections_accepted += 1
        if self._refuse:
            writer.transport.abort()
            return
        link = _Link(reader, writer)
        self._links.add(link)
        try:
            target = await self._wait_for_target()
            link.broker_reader, link.broker_writer = await asyncio.wait_for(
                asyncio.open_connection(*target), self.connect_timeout)
            if link.closed:  # cut while connecting
                link.abort()
                return
            if self.framing:
                coros = [self._pump_up(link), self._pump_down(link)]
            else:
                coros = [self._raw_pump(link.client_reader, link.broker_writer),
                         self._raw_pump(link.broker_reader, link.client_writer)]
            tasks = [asyncio.ensure_future(c) for c in coros]
            # When either direction ends, the link is over: a half-open Kafka connection is useless.
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        except (OSError, asyncio.TimeoutError):
            pass
        finally:
            link.abort()
            self._links.discard(link)

    async def _wait_for_target(self) -> tuple[str, int]:
        deadline = time.monotonic() + self.connect_timeout
        while self._target is None:
            if time.monotonic() > deadline:
                raise asyncio.TimeoutError("no target set")
            await asyncio.sleep(0.02)
        return self._target

    async def _flow(self) -> None:
        assert self._flowing is not None
        if not self._flowing.is_set():
            await self._flowing.wait()

    @staticmethod
    async def _read_frame(reader: asyncio.StreamReader) -> bytes | None:
        """One size-prefixed frame (prefix included), or None at end of stream."""
        try:
            head = await reader.readexactly(4)
            (size,) = struct.unpack(">i", head)
            if not 0 <= size <= _MAX_FRAME:
                return None
            return head + await reader.readexactly(size)
        except (asyncio.IncompleteReadError, ConnectionError):
            return None

    async def _pump_up(self, link: _Link) -> None:
        """Client -> broker, one request at a time."""
        assert link.broker_writer is not None
        while True:
            frame = await self._read_frame(link.client_reader)
            if frame is None:
                return
            await self._flow()
            info = None
            if len(frame) >= 12:
                api_key, version, corr = _HEADER.unpack_from(frame, 4)
                info = RequestInfo(api_key, version, corr, len(frame) - 4)
            cut_now = False
            if info is not None:
                with self._lock:
                    lost = any(rule.take(info) for rule in self._drop_request_rules)
                    self._drop_request_rules = [r for r in self._drop_request_rules if not r.spent]
                if lost:
                    self.requests_dropped[info.api_key] += 1
                    continue
                with self._lock:
                    self.requests_seen[info.api_key] += 1
                    self.versions_seen[info.api_key][info.api_version] += 1
                    fires = any([rule.fire(info) for rule in self._cut_rules])
                    self._cut_rules = [r for r in self._cut_rules if not r.spent]
                if _expects_response(info, frame[4:]):
                    link.pending[info.correlation_id] = info
                    if fires:
                        link.cut_on_response.add(info.correlation_id)
                else:
                    cut_now = fires
            link.broker_writer.write(frame)
            await link.broker_writer.drain()
            if cut_now:
                self.connections_cut += 1
                link.abort()
                return

    async def _pump_down(self, link: _Link) -> None:
        """Broker -> client, one response at a time, in order."""
        assert link.broker_reader is not None
        while True:
            frame = await self._read_frame(link.broker_reader)
            if frame is None:
                return
            corr = struct.unpack_from(">i", frame, 4)[0] if len(frame) >= 8 else None
            info = link.pending.pop(corr, None) if corr is not None else None
            key = info.api_key if info is not None else -1
            if corr in link.cut_on_response:
                self.responses_dropped[key] += 1
                self.last_dropped_response[key] = frame[4:]
                self.connections_cut += 1
                link.abort()
                return
            with self._lock:
                dropped = any(rule.take(info) for rule in self._drop_rules)
                self._drop_rules = [r for r in self._drop_rules if not r.spent]
                rewrite = next((fn for rule, fn in self._rewrite_rules if rule.take(info)), None)
                self._rewrite_rules = [(r, fn) for r, fn in self._rewrite_rules if not r.spent]
            if dropped:
                self.responses_dropped[key] += 1
                self.last_dropped_response[key] = frame[4:]
                continue
            if rewrite is not None and info is not None:
                payload = rewrite(info, frame[4:])
                frame = struct.pack(">i", len(payload)) + payload
                self.responses_rewritten[key] += 1
            await self._hold(info)
            await self._flow()
            self.responses_seen[key] += 1
            link.client_writer.write(frame)
            await link.client_writer.drain()

    async def _hold(self, info: RequestInfo | None) -> None:
        """Wait out the configured delay, re-reading it whenever it changes (delay(0) releases)."""
        assert self._delay_changed is not None
        start = time.monotonic()
        while True:
            with self._lock:
                ms, only = self._delay_ms, self._delay_api_key
            if only is not None and (info is None or info.api_key != only):
                return
            remaining = start + ms / 1000.0 - time.monotonic()
            if remaining <= 0:
                return
            self._delay_changed.clear()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._delay_changed.wait(), remaining)

    async def _raw_pump(self, reader: asyncio.StreamReader | None,
                        writer: asyncio.StreamWriter | None) -> None:
        """Bytes as they come, for listeners whose framing the proxy cannot read (TLS)."""
        assert reader is not None and writer is not None
        while True:
            try:
                chunk = await reader.read(65536)
            except ConnectionError:
                return
            if not chunk:
                return
            await self._flow()
            writer.write(chunk)
            await writer.drain()


class _CountdownRule(_Rule):
    """Fires once, on the ``count``-th matching request."""

    def fire(self, info: RequestInfo) -> bool:
        if self.spent:
            return False
        if self.api_key is not None and info.api_key != self.api_key:
            return False
        if self.predicate is not None and not self.predicate(info):
            return False
        assert self.remaining is not None
        self.remaining -= 1
        return self.remaining == 0


async def start_proxied_cluster(brokers: int = 1, **cluster_kwargs: Any) -> tuple[LocalKafkaCluster, list[FaultProxy]]:
    """Start one FaultProxy per node, then a LocalKafkaCluster whose nodes advertise the proxies.

    Returns ``(cluster, proxies)``; ``cluster.bootstrap_servers`` names the proxies. The caller
    stops both (``cluster.stop()`` in a thread, ``await proxy.stop()``). The JVMs start in a worker
    thread so that the event loop (and the proxies on it) keeps running meanwhile.
    """
    from kafkaio.testing.broker import LocalKafkaCluster

    proxies = [await FaultProxy().start() for _ in range(brokers)]
    # JVM start-up on a busy machine can take minutes; a slow start is not a test failure.
    cluster_kwargs.setdefault("start_timeout", 300.0)
    cluster = LocalKafkaCluster(brokers=brokers, advertised={i: p.address for i, p in enumerate(proxies)},
                                **cluster_kwargs)
    try:
        await asyncio.to_thread(cluster.start)
    except BaseException:
        for proxy in proxies:
            await proxy.stop()
        raise
    for proxy, node in zip(proxies, cluster.brokers):
        proxy.set_target(node.host, node.port)
    return cluster, proxies


@asynccontextmanager
async def proxied_cluster(brokers: int = 1, **cluster_kwargs: Any) -> AsyncIterator[tuple[LocalKafkaCluster, list[FaultProxy]]]:
    """``async with proxied_cluster(1) as (cluster, proxies):`` start_proxied_cluster, stopped on exit."""
    cluster, proxies = await start_proxied_cluster(brokers, **cluster_kwargs)
    try:
        yield cluster, proxies
    finally:
        for proxy in proxies:
            await proxy.stop()
        await asyncio.to_thread(cluster.stop)
