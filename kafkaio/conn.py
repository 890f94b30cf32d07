"""One connection to one broker: the asyncio shell around :mod:`kafkaio.conn_core`.

Framing is Kafka's: a 4-byte big-endian size, then the message. Requests carry a correlation id;
many may be in flight at once (pipelined) and the broker answers them in order, but we match each
response to its request by id anyway so that a protocol bug can never hand a caller the wrong
body. Each response frame is matched and its request's future completed from the protocol's read
callback (:class:`kafkaio.framing.FrameProtocol`), without a reader task in between.

This module owns the transport, the timers and the metrics counters; the bookkeeping (state,
correlation ids, requests in flight and held, what a timer's firing means) is the core's, and the
connect-phase exchanges are :mod:`kafkaio.handshake`'s.

On connect: TCP (+TLS), ApiVersions (client software name and version; the negotiated version of
every API is kept for this connection), then SASL when configured.

KIP-368, as the Java client: when the broker limits the SASL session (``session_lifetime_ms`` in
SaslAuthenticate), the first request written after a jittered 85-95% of it starts a new SaslHandshake
and SaslAuthenticate exchange on the same socket (with a fresh token for OAUTHBEARER). Requests made
meanwhile are held, not failed, and written in order once it succeeds; responses to the requests
already in flight are delivered as they arrive. A refused re-authentication closes the connection
with the :class:`AuthenticationError`, which every request on it fails with.

Failure model (as the Java client's NetworkClient): a request that outlives its timeout, a read or
write error, or the peer closing all close the connection and fail *every* request in flight on it
with a retriable error (:class:`KafkaTimeoutError` for a timeout, :class:`KafkaConnectionError`
otherwise). A closed connection is never reused; the pool in :mod:`kafkaio.cluster` makes a new one.

Quota throttling (KIP-219), as the Java client's NetworkClient: a broker over a client quota answers
at once with ``throttle_time_ms`` > 0 and then ignores the connection for that long. For the API
versions where the client is expected to back off (``kafkaio.conn_core.THROTTLE_FROM``), the
connection is muted: requests made meanwhile are encoded and queued, not failed, and written in
order once the time has passed. A request's timeout starts when it is written, so time spent queued
behind a throttle (up to a quota window for request-rate quotas, seconds for byte-rate quotas) never
times out a healthy connection.
"""
from __future__ import annotations

import asyncio
import logging
import random
import socket
import ssl
import struct
from typing import TYPE_CHECKING, Any, Callable, Literal, Protocol, overload

from kafkaio.conn_core import (
    HANDSHAKE_STATES,
    HOLD,
    REAUTH,
    SERVING_STATES,
    SETUP_STATES,
    ConnectionCore,
    ConnState,
    Held,
    Release,
    ResponseSink,
    SinkT,
)
from kafkaio.errors import KafkaConnectionError, KafkaError, KafkaTimeoutError, UnsupportedVersionError
from kafkaio.framing import FrameProtocol, FrameSizeError
from kafkaio.handshake import Negotiated, authenticate, negotiate_versions, unsupported_message
from kafkaio.metrics.window import WindowedMax
from kafkaio.protocol import DirectMessage, RequestBody, api_name, decode_direct_response, decode_response, encode_request
from kafkaio.sasl import SaslSettings, create_mechanism
from kafkaio.tls import SASL_PROTOCOLS, TlsSettings, build_ssl_context, describe_tls_failure, security_protocol
from kafkaio.waiting import within

if TYPE_CHECKING:
    from kafkaio.protocol.bodies import ApiVersionsResponse

__all__ = ["BrokerConnection", "ConnectionSettings", "ResponseSink"]

log = logging.getLogger(__name__)

_CORR = struct.Struct(">i")
# Above this many bytes queued in the transport we wait for it to drain (backpressure); below it
# a write costs no await at all.
_WRITE_HIGH_WATER = 1 << 20
# Largest frame we accept from a broker; a corrupt size must not make us allocate gigabytes.
_MAX_FRAME = 1 << 30
# Compared by identity on the per-request path.
_READY = ConnState.READY
_CLOSED = ConnState.CLOSED
_NO_VERSIONS = Negotiated(None, {}, {})


def _reauth_jitter() -> float:
    """How far into a SASL session to renew it: 85-95%, drawn per session as Java does (so that
    many connections do not renew at once, with room for latency and clock drift)."""
    return random.uniform(0.85, 0.95)


class ConnectionSettings(TlsSettings, SaslSettings, Protocol):
    """The settings a connection is made from (every client config has them)."""

    @property
    def client_id(self) -> str: ...
    @property
    def request_timeout_ms(self) -> int: ...
    @property
    def connections_max_idle_ms(self) -> int | None: ...
    @property
    def socket_connection_setup_timeout_ms(self) -> int: ...
    @property
    def api_version_request_timeout_ms(self) -> int | None: ...
    @property
    def send_buffer_bytes(self) -> int: ...
    @property
    def receive_buffer_bytes(self) -> int: ...
    @property
    def metadata_cluster_check_enable(self) -> bool: ...
    @property
    def metadata_recovery_strategy(self) -> str: ...

    def is_explicit(self, name: str) -> bool: ...


class BrokerConnection:
    """A connection to broker ``node_id`` at ``host:port`` (see module docstring)."""
    def __init__(
        self,
        host: str,
        port: int,
        node_id: int,
        config: ConnectionSettings,
        *,
        purpose: str = "default",
        setup_timeout_ms: float | None = None,
        ssl_context: ssl.SSLContext | None = None,
        cluster_id: str | None = None,
    ) -> None:
        """``ssl_context`` overrides the one built from ``config`` (the pool builds it once for
        all its connections rather than reloading certificate files per connection).
        ``cluster_id``: the cluster the node belongs to, sent with ``node_id`` in ApiVersions
        (KIP-1242) so that a broker which is not that node refuses the connection."""
        self.host = host
        self.port = int(port)
        self.node_id = node_id
        self.purpose = purpose
        # How messages name the other end; bootstrap connections have no real node id yet.
        self._peer = (f"broker {node_id} at {host}:{self.port}" if node_id >= 0
                      else f"bootstrap server {host}:{self.port}")
        self.config = config
        # KIP-1242, as Java 4.4 sends it: both known, checking enabled, rebootstrapping possible
        self._expected: tuple[str, int] | None = (
            (cluster_id, node_id) if cluster_id is not None and node_id >= 0
            and config.metadata_cluster_check_enable and config.metadata_recovery_strategy != "none" else None)
        self._client_id = config.client_id or "kafkaio"
        self._request_timeout = float(config.request_timeout_ms) / 1000.0
        idle_ms = config.connections_max_idle_ms
        idle_timeout = None if idle_ms is None or idle_ms < 0 else float(idle_ms) / 1000.0
        if setup_timeout_ms is None:
            setup_timeout_ms = config.socket_connection_setup_timeout_ms
        self._setup_timeout = float(setup_timeout_ms) / 1000.0
        self._ssl_context = ssl_context
        self._protocol: FrameProtocol | None = None
        self._transport: asyncio.Transport | None = None
        self._core: ConnectionCore[ResponseSink] = ConnectionCore(idle_timeout)
        self._negotiated = _NO_VERSIONS
        self._versions: dict[int, int] = {}
        self._close_error: KafkaError | None = None
        # The timers the core asks for: request timeouts, idleness, the end of a throttle.
        self._timer: asyncio.TimerHandle | None = None
        self._idle_timer: asyncio.TimerHandle | None = None
        self._release_timer: asyncio.TimerHandle | None = None
        self._reauth_task: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None  # connect()'s running loop
        self._close_callbacks: list[Callable[[BrokerConnection], object]] = []
        self.api_versions_response: ApiVersionsResponse | None = None
        #: the SASL session's lifetime (ms) the broker gave at the last (re-)authentication (0: unlimited)
        self.session_lifetime_ms = 0
        #: SASL sessions renewed in place (KIP-368)
        self.reauthentications = 0
        #: throttle time (ms) of the last response that throttled this connection
        self.last_throttle_time_ms = 0
        #: how many responses throttled this connection, and their throttle times summed (ms)
        self.throttle_count = 0
        self.throttle_time_ms_total = 0
        #: requests that were held back by a throttle before being written
        self.delayed_requests = 0
        #: the largest throttle time (ms) of the last 30-60 s (kafkaio.metrics)
        self.throttle_time_max = WindowedMax()
        #: what went over this connection (kafkaio.metrics): frames written and their bytes, responses
        #: read and their bytes, the responses' latencies (write to read, seconds) summed and their max
        self.requests_sent = 0
        self.bytes_sent = 0
        self.responses_received = 0
        self.bytes_received = 0
        self.latency_total_s = 0.0
        self.latency_max_s = WindowedMax()

    # ------------------------------------------------------------------------------- properties

    def __repr__(self) -> str:
        return (f"<BrokerConnection node={self.node_id} {self.host}:{self.port} "
                f"purpose={self.purpose} {self._core.state.value} in_flight={self.in_flight_count}>")

    @property
    def state(self) -> ConnState:
        """Where the connection is in its life (:class:`kafkaio.conn_core.ConnState`)."""
        return self._core.state

    @property
    def connected(self) -> bool:
        """True once connect() finished and until the connection closes (also while it renews its
        SASL session: requests then wait for the renewal)."""
        return self._core.state in SERVING_STATES

    @property
    def closed(self) -> bool:
        return self._core.state is _CLOSED

    @property
    def in_flight_count(self) -> int:
        """Requests sent and not yet answered, plus those held back by a throttle."""
        return self._core.in_flight_count

    @property
    def throttled(self) -> bool:
        """True while a broker-requested throttle (KIP-219) keeps requests from being written."""
        loop = self._loop
        return loop is not None and self._core.throttled(loop.time())

    @property
    def close_error(self) -> KafkaError | None:
        """Why the connection closed (None for a clean close or while open)."""
        return self._close_error

    def add_close_callback(self, callback: Callable[[BrokerConnection], object]) -> None:
        """Call ``callback(self)`` once when the connection closes for any reason."""
        if self._core.state is _CLOSED:
            callback(self)
        else:
            self._close_callbacks.append(callback)

    def version(self, api_key: int) -> int:
        """The highest version of ``api_key`` both sides support on this connection."""
        try:
            return self._versions[api_key]
        except KeyError:
            raise UnsupportedVersionError(self._unsupported_message(api_key)) from None

    def supports(self, api_key: int) -> bool:
        return api_key in self._versions

    def broker_version_range(self, api_key: int) -> tuple[int, int] | None:
        """The broker's advertised (min, max) for ``api_key``, or None if it does not offer it."""
        return self._negotiated.ranges.get(api_key)

    def _unsupported_message(self, api_key: int) -> str:
        return unsupported_message(self._peer, api_key, self._negotiated.ranges)

    # --------------------------------------------------------------------------------- connect

    async def connect(self) -> None:
        """Open the socket (+TLS), negotiate API versions, authenticate. Raises on any failure."""
        core = self._core
        if core.state is not ConnState.NEW:
            raise KafkaConnectionError(
                f"connection to {self.host}:{self.port} cannot be reused ({core.state.value})")
        core.transition(ConnState.CONNECTING)
        self._loop = loop = asyncio.get_running_loop()
        try:
            await self._open_socket(loop)
            self._advance(ConnState.CHECKING_API_VERSIONS)
            timeout_ms = self.config.api_version_request_timeout_ms
            timeout = self._request_timeout if timeout_ms is None else timeout_ms / 1000.0
            negotiated = await negotiate_versions(self._send, self._peer, timeout, self._expected)
            self._negotiated = negotiated
            self._versions = negotiated.versions
            self.api_versions_response = negotiated.response
            if security_protocol(self.config) in SASL_PROTOCOLS:
                self._advance(ConnState.AUTHENTICATING)
                self.session_lifetime_ms = await authenticate(
                    self._send, create_mechanism(self.config, self.host), negotiated, self._peer,
                    self._request_timeout)
            self._advance(ConnState.READY)
        except BaseException as exc:
            err = exc if isinstance(exc, KafkaError) else KafkaConnectionError(
                f"connecting to {self._peer} failed: {exc!r}")
            self._shutdown(err)
            if exc is err or not isinstance(exc, Exception):  # ours, or cancellation
                raise
            raise err from exc
        now = loop.time()
        idle_at = core.start_idle_timer(now)
        if idle_at is not None:
            self._idle_timer = loop.call_at(idle_at, self._check_idle)
        core.start_session(now, self.session_lifetime_ms, _reauth_jitter())

    def _advance(self, target: ConnState) -> None:
        """Move on in the connect phase; the peer may have closed the connection meanwhile."""
        if self._core.state is _CLOSED:
            raise self._not_ready_error()
        self._core.transition(target)

    async def _open_socket(self, loop: asyncio.AbstractEventLoop) -> None:
        ssl_ctx = self._ssl_context or build_ssl_context(self.config)
        kwargs: dict[str, Any] = {}
        if ssl_ctx is not None:
            kwargs["ssl"] = ssl_ctx
            kwargs["server_hostname"] = self.host
            kwargs["ssl_handshake_timeout"] = max(self._setup_timeout, 0.001)
        try:
            transport, protocol = await within(
                loop.create_connection(
                    lambda: FrameProtocol(self._on_frame, self._on_lost, _MAX_FRAME, loop),
                    self.host, self.port, **kwargs),
                self._setup_timeout)
        except asyncio.TimeoutError:
            raise KafkaConnectionError(
                f"connection setup to {self._peer} timed out "
                f"after {self._setup_timeout * 1000:.0f} ms") from None
        except ssl.SSLError as exc:
            raise describe_tls_failure(self.host, self.port, exc) from None
        except OSError as exc:
            raise KafkaConnectionError(
                f"cannot connect to {self._peer}: "
                f"{exc.strerror or exc}") from None
        self._transport, self._protocol = transport, protocol
        sock = transport.get_extra_info("socket")
        if sock is not None:
            config = self.config
            try:
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                # Only sizes the user chose: Linux autotuning beats Java's fixed defaults.
                for name, opt, size in (("send_buffer_bytes", socket.SO_SNDBUF, config.send_buffer_bytes),
                                        ("receive_buffer_bytes", socket.SO_RCVBUF, config.receive_buffer_bytes)):
                    if config.is_explicit(name) and size and size > 0:
                        sock.setsockopt(socket.SOL_SOCKET, opt, size)
            except OSError:
                pass

    # -------------------------------------------------------------------------------- requests

    @overload
    async def request(self, api_key: int, body: dict[str, Any], version: int | None = None,
                      timeout_ms: float | None = None, expect_response: Literal[True] = True) -> dict[str, Any]: ...

    @overload
    async def request(self, api_key: int, body: DirectMessage, version: int | None = None,
                      timeout_ms: float | None = None, expect_response: Literal[True] = True) -> Any: ...

    @overload
    async def request(self, api_key: int, body: dict[str, Any], version: int | None = None,
                      timeout_ms: float | None = None, *, expect_response: bool) -> dict[str, Any] | None: ...

    @overload
    async def request(self, api_key: int, body: DirectMessage, version: int | None = None,
                      timeout_ms: float | None = None, *, expect_response: bool) -> Any: ...

    async def request(
        self,
        api_key: int,
        body: RequestBody,
        version: int | None = None,
        timeout_ms: float | None = None,
        expect_response: bool = True,
    ) -> Any:
        """Send one request and await its decoded response body (a dict; for a body that is a
        :class:`~kafkaio.protocol.DirectMessage`, what its ``decode_body`` returns).

        ``version=None`` uses the negotiated version. ``expect_response=False`` (Produce with
        acks=0) returns None once the request is handed to the socket. Raises
        :class:`KafkaTimeoutError` after ``timeout_ms`` (default ``request_timeout_ms``) and
        :class:`KafkaConnectionError` if the connection breaks; in both cases the connection
        is closed and every other request in flight on it fails the same way.
        """
        sink: asyncio.Future[dict[str, Any] | None] = self._new_future()
        future = self._start(api_key, body, version, timeout_ms, expect_response, sink)
        transport = self._transport
        if transport is not None and transport.get_write_buffer_size() > _WRITE_HIGH_WATER:
            try:
                await self._drain()
            except KafkaError:
                if future is not None and future.done() and not future.cancelled():
                    future.exception()  # failed with the connection; we raise the drain error
                raise
        if future is None:
            return None
        return await future

    def start_request(self, api_key: int, body: RequestBody, version: int | None = None,
                      timeout_ms: float | None = None, sink: ResponseSink | None = None) -> ResponseSink:
        """Write one request now, without waiting; the future of its decoded response body.

        The same request as :meth:`request` (same timeout and errors, through the future), for a
        caller that must not wait for a loop pass before the request is on its way: the producer's
        sender writes a produce request within its own pass. It does not wait for the socket's
        write buffer to drain, so a caller must bound what it writes this way itself. Raises what
        :meth:`request` raises before writing (connection not ready, no usable version, a failed
        write).

        ``sink`` (a :class:`ResponseSink`) takes the future's place and is returned: its
        ``set_result`` runs within the read callback that decoded the response, a loop pass
        before the awaiter of a future would."""
        started = self._start(api_key, body, version, timeout_ms, True,
                              sink if sink is not None else self._new_future())
        assert started is not None  # a request expecting a response always has its sink
        return started

    async def _send(self, api_key: int, version: int, body: dict[str, Any], timeout: float) -> dict[str, Any]:
        """request() for the connection's own exchanges (explicit version), which no throttle or
        re-authentication holds back. The peer may have closed the socket since it was opened: a
        request registered on a closed connection would never be answered nor timed out (its
        timer's _shutdown() does nothing twice), so it fails now."""
        sink: asyncio.Future[dict[str, Any]] = self._new_future()
        self._start(api_key, body, version, timeout * 1000.0, True, sink, handshake=True)
        return await sink

    def _new_future(self) -> asyncio.Future[Any]:
        """A future of the connection's loop for a request (which a connection that never
        connected refuses)."""
        loop = self._loop
        if loop is None:
            raise self._not_ready_error()
        return loop.create_future()

    def _live_loop(self) -> asyncio.AbstractEventLoop:
        """The loop of a connection that connected (the timers', callbacks' and held requests' own)."""
        loop = self._loop
        assert loop is not None  # set by connect() before anything that calls this could run
        return loop

    def _start(self, api_key: int, body: RequestBody, version: int | None, timeout_ms: float | None,
               expect_response: bool, sink: SinkT, handshake: bool = False) -> SinkT | None:
        """Encode and write one request; ``sink``, which receives its response (None when written
        and no response is expected).

        While throttled or re-authenticating the request is held instead (:meth:`_hold`), and
        ``sink`` is returned and also completes (with None) for a request that expects no
        response, once it is written."""
        core = self._core
        state = core.state
        if handshake:
            if state not in HANDSHAKE_STATES:
                raise self._not_ready_error()
        elif state is not _READY and state not in SERVING_STATES:
            raise self._not_ready_error()
        if version is None:
            version = self._versions.get(api_key)
            if version is None:
                raise UnsupportedVersionError(self._unsupported_message(api_key))
        timeout = self._request_timeout if timeout_ms is None else timeout_ms / 1000.0
        loop = self._loop
        assert loop is not None  # set by connect(), which left NEW (refused above)
        now = loop.time()
        message = None if isinstance(body, dict) else body
        # Registered (when a response is expected) before the write: the reader cannot run until
        # we yield, and a failed write withdraws it again, so the caller gets the error raised.
        if handshake:
            corr, arm_at = core.send_handshake(now, sink, api_key, version, timeout)
        else:
            corr, arm_at = core.send(now, sink if expect_response else None, api_key, version, timeout, message)
        if corr < 0:
            if corr == REAUTH:
                # before the hold, which may raise (an encode failure): the core waits for this
                # renewal, and every later request is held until it ends
                self._start_reauthentication()
            return self._hold(api_key, version, body, timeout, expect_response, sink, message)
        if arm_at is not None:  # armed even if the encode fails: the core counts on this timer
            self._arm_timer(arm_at)
        try:
            frame = encode_request(api_key, version, corr, self._client_id, body)
        except BaseException:
            core.withdraw(corr)
            raise
        # _write(), inline: this is the per-request path
        self.requests_sent += 1
        self.bytes_sent += len(frame)
        transport = self._transport
        assert transport is not None  # opened before the first request (ApiVersions) was allowed
        try:
            transport.write(frame)
        except (OSError, RuntimeError, AttributeError) as exc:
            core.withdraw(corr)
            raise self._write_failed(exc) from None
        return sink if expect_response else None

    def _hold(self, api_key: int, version: int, body: RequestBody, timeout: float,
              expect_response: bool, sink: SinkT, message: DirectMessage | None) -> SinkT:
        """Queue a request while throttled or re-authenticating; ``sink`` completes once it is
        answered (or written, without a response)."""
        corr = self._core.next_correlation_id()
        frame = encode_request(api_key, version, corr, self._client_id, body)
        self._core.hold(Held(frame, corr, api_key, version, timeout, sink, expect_response, message))
        self.delayed_requests += 1
        return sink

    # ------------------------------------------------------------------------ re-authentication

    def _start_reauthentication(self) -> None:
        """The core entered REAUTHENTICATING: run the SASL exchange again on this socket."""
        log.debug("SASL session with %s due for renewal; re-authenticating", self._peer)
        self._reauth_task = self._live_loop().create_task(
            self._reauthenticate(), name=f"kafkaio-reauthenticate-{self.node_id}")

    async def _reauthenticate(self) -> None:
        """SaslHandshake and SaslAuthenticate with the versions negotiated at connect (Java does not
        ask ApiVersions again either); then write the requests held meanwhile. A refusal closes the
        connection with the :class:`AuthenticationError`; a broken connection is closed already."""
        try:
            lifetime_ms = await authenticate(self._send, create_mechanism(self.config, self.host), self._negotiated,
                                             self._peer, self._request_timeout)
        except KafkaError as exc:
            if self._core.state is not _CLOSED:
                log.info("re-authentication with %s failed: %s", self._peer, exc)
                self._shutdown(exc)
            return
        except Exception as exc:  # noqa: BLE001 - e.g. a token provider's own failure
            self._shutdown(KafkaConnectionError(f"re-authentication with {self._peer} failed: {exc!r}"))
            return
        if self._core.state is _CLOSED:
            return
        self.session_lifetime_ms = lifetime_ms
        self.reauthentications += 1
        loop = self._live_loop()
        now = loop.time()
        log.debug("re-authenticated with %s; next session lasts %d ms", self._peer, lifetime_ms)
        self._write_released(self._core.reauthenticated(now, lifetime_ms, _reauth_jitter()), now)

    # ------------------------------------------------------------------------------- throttle

    def _throttle(self, api_key: int, version: int, throttle_ms: int) -> None:
        """A response asked us to back off (KIP-219): write nothing more for ``throttle_ms``."""
        loop = self._live_loop()
        now = loop.time()
        if not self._core.throttle(api_key, version, throttle_ms, now):
            return  # an old version: the broker delayed the response itself
        self.last_throttle_time_ms = throttle_ms
        self.throttle_count += 1
        self.throttle_time_ms_total += throttle_ms
        self.throttle_time_max.record(now, throttle_ms)
        log.debug("%s throttled %s v%d for %d ms (quota); holding further requests",
                  self._peer, api_name(api_key), version, throttle_ms)
        release_at = self._core.release_timer()
        if release_at is not None:
            self._release_timer = loop.call_at(release_at, self._release)

    def _release(self) -> None:
        """The throttle has passed: write the held requests in order (their timeouts start now)."""
        self._release_timer = None
        core = self._core
        loop = self._live_loop()
        now = loop.time()
        release = core.release(now)
        if release.next_at is not None:  # extended by a later response
            self._release_timer = loop.call_at(release.next_at, self._release)
            return
        if release.due:
            log.debug("%s throttle over; writing %d held request(s)", self._peer, len(release.due))
        self._write_released(release, now)

    def _write_released(self, release: Release[ResponseSink], now: float) -> None:
        """Write the requests a throttle's or a re-authentication's end released, in order (their
        timeouts start now); or start re-authenticating, the session being due for renewal."""
        if release.reauthenticate:
            self._start_reauthentication()
            return
        core = self._core
        due = release.due
        for i, entry in enumerate(due):
            sink = entry.sink
            if entry.expect_response:
                # Registered before the write: a failed write closes the connection, which fails it.
                arm_at = core.track(entry.corr, sink, entry.api_key, entry.version, now, entry.timeout,
                                    entry.message)
                if arm_at is not None:
                    self._arm_timer(arm_at)
            try:
                self._write(entry.frame)
            except KafkaError as exc:
                for rest in due[i:]:  # no longer held, so the close did not fail them
                    if not rest.sink.done():
                        rest.sink.set_exception(type(exc)(exc.message))
                return
            if not entry.expect_response:
                sink.set_result(None)

    def _write(self, frame: bytes | bytearray) -> None:
        self.requests_sent += 1
        self.bytes_sent += len(frame)
        transport = self._transport
        assert transport is not None  # written only once connected
        try:
            transport.write(frame)
        except (OSError, RuntimeError, AttributeError) as exc:
            raise self._write_failed(exc) from None

    def _write_failed(self, exc: BaseException) -> KafkaError:
        """A write found the connection broken: close it; the error to raise."""
        err = KafkaConnectionError(f"write to {self._peer} failed: {exc!r}")
        self._shutdown(err)
        return err

    async def _drain(self) -> None:
        protocol = self._protocol
        assert protocol is not None  # drained only once connected
        try:
            await protocol.drain()
        except (OSError, RuntimeError, AttributeError) as exc:
            raise self._write_failed(exc) from None

    def _not_ready_error(self) -> KafkaError:
        state = self._core.state
        if state is _CLOSED:
            reason = f": {self._close_error}" if self._close_error is not None else ""
            return KafkaConnectionError(f"connection to {self._peer} is closed{reason}")
        return KafkaConnectionError(f"connection to {self._peer} is not ready ({state.value})")

    # ---------------------------------------------------------------------------------- reader

    def _on_frame(self, payload: bytes | memoryview) -> None:
        """One response frame (called from the protocol's read callback; a large frame comes as a
        read-only memoryview of its own buffer, which the decoded body's record sets share)."""
        (corr,) = _CORR.unpack_from(payload, 0)
        core = self._core
        try:
            entry = core.answered(corr)
        except KafkaConnectionError as exc:  # a lost response, or an id we never sent
            self._shutdown(KafkaConnectionError(f"{self._peer} {exc.message}"))
            return
        loop = self._loop
        assert loop is not None  # frames arrive only on a connection connect() opened
        now = loop.time()
        latency = now - entry.sent
        self.responses_received += 1
        self.bytes_received += len(payload) + 4
        self.latency_total_s += latency
        self.latency_max_s.record(now, latency)
        future = entry.sink
        if future.done():  # the caller gave up (cancelled); the response is dropped
            return
        message = entry.message
        body: Any
        try:
            if message is None:
                body = decode_response(entry.api_key, entry.version, payload)
                throttle_ms = body.get("throttle_time_ms")
            else:
                body = decode_direct_response(message, entry.api_key, entry.version, payload)
                throttle_ms = body.throttle_time_ms
        except Exception as exc:  # noqa: BLE001 - a bad response fails its request only
            future.set_exception(exc if isinstance(exc, KafkaError) else KafkaConnectionError(
                f"cannot decode response from {self._peer}: {exc!r}"))
            return
        if throttle_ms and throttle_ms > 0:
            self._throttle(entry.api_key, entry.version, throttle_ms)
        future.set_result(body)

    def _on_lost(self, exc: BaseException | None) -> None:
        """The stream ended: ``exc`` None when the broker closed it, else what broke it."""
        state = self._core.state
        if state is _CLOSED:
            return  # we closed it ourselves
        if exc is None:
            err: KafkaError = KafkaConnectionError(f"{self._peer} closed the connection")
        elif isinstance(exc, KafkaError):
            err = exc
        elif isinstance(exc, FrameSizeError):
            err = KafkaConnectionError(f"{self._peer} sent a frame of impossible size {exc.size}")
        elif isinstance(exc, ssl.SSLError):
            if state in SETUP_STATES:
                # TLS 1.3 reports a refused client certificate only after the handshake, as an
                # alert on the first read: still a TLS failure, not worth retrying.
                err = describe_tls_failure(self.host, self.port, exc)
            else:
                err = KafkaConnectionError(f"TLS connection to {self._peer} failed: {exc!r}")
        elif isinstance(exc, OSError):
            err = KafkaConnectionError(f"connection to {self._peer} failed: {exc!r}")
        else:  # a bug of ours while handling a response: say so, and fail what is in flight
            log.error("kafkaio: error handling a response from %s", self._peer, exc_info=exc)
            err = KafkaConnectionError(f"connection to {self._peer} failed: {exc!r}")
        self._shutdown(err)

    # --------------------------------------------------------------------------------- timers

    def _arm_timer(self, at: float) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self._timer = self._live_loop().call_at(at, self._check_timeouts)

    def _check_timeouts(self) -> None:
        self._timer = None
        check = self._core.check_timeouts(self._live_loop().time())
        if check.expired:
            names = sorted({api_name(e.api_key) for e in check.expired})
            self._shutdown(KafkaTimeoutError(
                f"{', '.join(names)} request to {self._peer} "
                f"got no response in time; closing the connection"))
        elif check.next_at is not None:
            self._arm_timer(check.next_at)

    def _check_idle(self) -> None:
        self._idle_timer = None
        loop = self._live_loop()
        wake = self._core.check_idle(loop.time())
        if wake.close:
            log.debug("closing idle connection to broker %s at %s:%s", self.node_id, self.host, self.port)
            self._shutdown(None)
        elif wake.next_at is not None:
            self._idle_timer = loop.call_at(wake.next_at, self._check_idle)

    # ---------------------------------------------------------------------------------- close

    def _shutdown(self, error: KafkaError | None) -> None:
        """Close now (synchronously): fail every request in flight with ``error``."""
        if self._core.state is _CLOSED:
            return
        sinks = self._core.close()
        self._close_error = error
        if error is not None:
            log.info("connection to %s closed: %s", self._peer, error)
        for handle in (self._timer, self._idle_timer, self._release_timer):
            if handle is not None:
                handle.cancel()
        self._timer = self._idle_timer = self._release_timer = None
        task = self._reauth_task
        if task is not None and not task.done() and task is not asyncio.current_task():
            task.cancel()
        if sinks:
            fail = error or KafkaConnectionError(f"connection to {self._peer} was closed")
            for sink in sinks:
                if not sink.done():
                    # A fresh instance per request: callers may chain and re-raise independently.
                    sink.set_exception(type(fail)(fail.message))
        if self._transport is not None:
            try:
                self._transport.close()
            except RuntimeError:  # the loop is already closed
                pass
        callbacks, self._close_callbacks = self._close_callbacks, []
        for callback in callbacks:
            try:
                callback(self)
            except Exception:  # noqa: BLE001 - a listener must not break closing
                log.exception("connection close callback failed")

    async def close(self) -> None:
        """Close the connection; requests still in flight fail with :class:`KafkaConnectionError`."""
        self._shutdown(None)
        task = self._reauth_task
        if task is not None and not task.done():
            await asyncio.wait([task])
        protocol = self._protocol
        if protocol is not None and not protocol.closed.done():
            try:
                await within(asyncio.shield(protocol.closed), 1.0)
            except (OSError, asyncio.TimeoutError, ssl.SSLError, RuntimeError):
                pass

