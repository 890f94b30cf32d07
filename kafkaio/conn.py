"""One connection to one broker on asyncio streams.

Framing is Kafka's: a 4-byte big-endian size, then the message. Requests carry a correlation id;
many may be in flight at once (pipelined) and the broker answers them in order, but we match each
response to its request by id anyway so that a protocol bug can never hand a caller the wrong
body. Each response frame is matched and its request's future completed from the protocol's read
callback (:class:`kafkaio.framing.FrameProtocol`), without a reader task in between.

On connect: TCP (+TLS), ApiVersions (client software name and version; the negotiated version of
every API is kept for this connection), then SASL when configured.

Failure model (as the Java client's NetworkClient): a request that outlives its timeout, a read or
write error, or the peer closing all close the connection and fail *every* request in flight on it
with a retriable error (:class:`KafkaTimeoutError` for a timeout, :class:`KafkaConnectionError`
otherwise). A closed connection is never reused; the pool in :mod:`kafkaio.cluster` makes a new one.

Quota throttling (KIP-219), as the Java client's NetworkClient: a broker over a client quota answers
at once with ``throttle_time_ms`` > 0 and then ignores the connection for that long. For the API
versions where the client is expected to back off (``kafkaio.conn_core.THROTTLE_FROM``), the connection is muted:
requests made meanwhile are encoded and queued, not failed, and written in order once the time has
passed. A request's timeout starts when it is written, so time spent queued behind a throttle (up to
a quota window for request-rate quotas, seconds for byte-rate quotas) never times out a healthy
connection.
"""
from __future__ import annotations

import asyncio
import logging
import random
import socket
import ssl
import struct
from collections import deque
from typing import Any, Callable

from kafkaio.conn_core import THROTTLE_FROM, Held, InFlight, ResponseSink
from kafkaio.errors import (
    AuthenticationError,
    ErrorCode,
    KafkaConnectionError,
    KafkaError,
    KafkaTimeoutError,
    UnsupportedVersionError,
    error_for_code,
)
from kafkaio.framing import FrameProtocol, FrameSizeError
from kafkaio.metrics.window import WindowedMax
from kafkaio.protocol import (
    ApiKey,
    api_name,
    client_versions,
    decode_response,
    encode_request,
    negotiate_version,
)
from kafkaio.sasl import create_mechanism
from kafkaio.tls import SASL_PROTOCOLS, build_ssl_context, describe_tls_failure, security_protocol

log = logging.getLogger(__name__)

_CORR = struct.Struct(">i")
# Above this many bytes queued in the transport we wait for it to drain (backpressure); below it
# a write costs no await at all.
_WRITE_HIGH_WATER = 1 << 20
# Largest frame we accept from a broker; a corrupt size must not make us allocate gigabytes.
_MAX_FRAME = 1 << 30
_CORR_WRAP = 1 << 31
_CLIENT_SOFTWARE_NAME = "kafkaio"

def _software_version() -> str:
    from kafkaio import __version__

    return __version__


class BrokerConnection:
    """A connection to broker ``node_id`` at ``host:port`` (see module docstring)."""

    def __init__(
        self,
        host: str,
        port: int,
        node_id: int,
        config: Any,
        *,
        purpose: str = "default",
        setup_timeout_ms: float | None = None,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        """``ssl_context`` overrides the one built from ``config`` (the pool builds it once for
        all its connections rather than reloading certificate files per connection)."""
        self.host = host
        self.port = int(port)
        self.node_id = node_id
        self.purpose = purpose
        # How messages name the other end; bootstrap connections have no real node id yet.
        self._peer = (f"broker {node_id} at {host}:{self.port}" if node_id >= 0
                      else f"bootstrap server {host}:{self.port}")
        self.config = config
        self._client_id = getattr(config, "client_id", None) or "kafkaio"
        self._request_timeout = float(getattr(config, "request_timeout_ms", 30000)) / 1000.0
        idle_ms = getattr(config, "connections_max_idle_ms", 540000)
        self._idle_timeout = None if idle_ms is None or idle_ms < 0 else float(idle_ms) / 1000.0
        if setup_timeout_ms is None:
            setup_timeout_ms = getattr(config, "socket_connection_setup_timeout_ms", 10000)
        self._setup_timeout = float(setup_timeout_ms) / 1000.0
        self._ssl_context = ssl_context
        self._protocol: FrameProtocol | None = None
        self._transport: asyncio.Transport | None = None
        self._in_flight: dict[int, InFlight[ResponseSink]] = {}
        self._corr = 0
        self._versions: dict[int, int] = {}
        self._broker_ranges: dict[int, tuple[int, int]] = {}
        self._state = "new"  # new -> connecting -> ready -> closed
        self._close_error: KafkaError | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._timer_at = 0.0
        self._idle_timer: asyncio.TimerHandle | None = None
        self._last_used = 0.0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._close_callbacks: list[Callable[[BrokerConnection], object]] = []
        self.api_versions_response: dict | None = None
        self.session_lifetime_ms = 0
        self._expiring = False
        self._expiry_timer: asyncio.TimerHandle | None = None
        # KIP-219 throttling: loop time before which nothing is written (0.0: not throttled), the
        # requests waiting for it, in order, and the timer that releases them.
        self._muted_until = 0.0
        self._held: deque[Held[ResponseSink]] = deque()
        self._release_timer: asyncio.TimerHandle | None = None
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
                f"purpose={self.purpose} {self._state} in_flight={self.in_flight_count}>")

    @property
    def connected(self) -> bool:
        """True once connect() finished and until the connection closes or its SASL session
        nears its end (then the pool opens a replacement; see ``_session_expiring``)."""
        return self._state == "ready" and not self._expiring

    @property
    def closed(self) -> bool:
        return self._state == "closed"

    @property
    def in_flight_count(self) -> int:
        """Requests sent and not yet answered, plus those held back by a throttle."""
        return len(self._in_flight) + len(self._held)

    @property
    def throttled(self) -> bool:
        """True while a broker-requested throttle (KIP-219) keeps requests from being written."""
        return self._muted_until > 0.0 and (
            bool(self._held) or self._loop is not None and self._loop.time() < self._muted_until)

    @property
    def close_error(self) -> KafkaError | None:
        """Why the connection closed (None for a clean close or while open)."""
        return self._close_error

    def add_close_callback(self, callback: Callable[[BrokerConnection], object]) -> None:
        """Call ``callback(self)`` once when the connection closes for any reason."""
        if self._state == "closed":
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
        return self._broker_ranges.get(api_key)

    def _unsupported_message(self, api_key: int) -> str:
        name = api_name(api_key)
        theirs = self._broker_ranges.get(api_key)
        offer = f"offers v{theirs[0]}-v{theirs[1]}" if theirs else "does not offer it"
        return f"{self._peer} {offer}; no version of {name} in common with kafkaio"

    # --------------------------------------------------------------------------------- connect

    async def connect(self) -> None:
        """Open the socket (+TLS), negotiate API versions, authenticate. Raises on any failure."""
        if self._state != "new":
            raise KafkaConnectionError(f"connection to {self.host}:{self.port} cannot be reused ({self._state})")
        self._state = "connecting"
        self._loop = asyncio.get_running_loop()
        try:
            await self._open_socket()
            await self._negotiate_versions()
            if security_protocol(self.config) in SASL_PROTOCOLS:
                await self._authenticate()
        except BaseException as exc:
            err = exc if isinstance(exc, KafkaError) else KafkaConnectionError(
                f"connecting to {self._peer} failed: {exc!r}")
            self._shutdown(err)
            if exc is err or not isinstance(exc, Exception):  # ours, or cancellation
                raise
            raise err from exc
        self._state = "ready"
        self._last_used = self._loop.time()
        self._arm_idle_timer()
        if self.session_lifetime_ms > 0:
            # KIP-368: the broker ends the session after session_lifetime_ms. Rather than
            # re-authenticating in place, retire the connection a little before that (jittered
            # so a pool's connections do not all reconnect at once).
            lifetime = self.session_lifetime_ms / 1000.0
            self._expiry_timer = self._loop.call_later(lifetime * random.uniform(0.85, 0.95), self._session_expiring)

    async def _open_socket(self) -> None:
        ssl_ctx = self._ssl_context or build_ssl_context(self.config)
        kwargs: dict[str, Any] = {}
        if ssl_ctx is not None:
            kwargs["ssl"] = ssl_ctx
            kwargs["server_hostname"] = self.host
            kwargs["ssl_handshake_timeout"] = max(self._setup_timeout, 0.001)
        try:
            loop = self._loop
            assert loop is not None
            self._transport, self._protocol = await asyncio.wait_for(  # type: ignore[assignment]
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
        sock = self._transport.get_extra_info("socket")  # type: ignore[union-attr]
        if sock is not None:
            try:
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                # Only sizes the user chose: Linux autotuning beats Java's fixed defaults.
                is_explicit = getattr(self.config, "is_explicit", None)
                for name, opt in (("send_buffer_bytes", socket.SO_SNDBUF), ("receive_buffer_bytes", socket.SO_RCVBUF)):
                    size = getattr(self.config, name, -1)
                    if callable(is_explicit) and is_explicit(name) and size and size > 0:
                        sock.setsockopt(socket.SOL_SOCKET, opt, size)
            except (OSError, AttributeError):
                pass

    async def _negotiate_versions(self) -> None:
        body = {"client_software_name": _CLIENT_SOFTWARE_NAME,
                "client_software_version": _software_version()}
        version = client_versions(ApiKey.API_VERSIONS)[1]
        timeout_ms = getattr(self.config, "api_version_request_timeout_ms", None)
        timeout = self._request_timeout if timeout_ms is None else timeout_ms / 1000.0
        for _ in range(2):
            resp = await self._send(ApiKey.API_VERSIONS, version, body, timeout)
            code = resp.get("error_code", 0)
            ranges = {k["api_key"]: (k["min_version"], k["max_version"]) for k in resp.get("api_keys") or ()}
            if code == ErrorCode.UNSUPPORTED_VERSION:
                # The broker answered in v0 with the ApiVersions range it supports: retry within it.
                theirs = ranges.get(ApiKey.API_VERSIONS, (0, 0))
                version = negotiate_version(ApiKey.API_VERSIONS, theirs[0], theirs[1])
                continue
            if code:
                raise error_for_code(code)(f"ApiVersions to {self._peer}")
            self.api_versions_response = resp
            self._broker_ranges = ranges
            versions: dict[int, int] = {}
            for api_key, (lo, hi) in ranges.items():
                try:
                    versions[api_key] = negotiate_version(api_key, lo, hi)
                except (UnsupportedVersionError, KeyError, ValueError):
                    continue  # an API we do not implement, or no overlap: version() will say so
            self._versions = versions
            return
        raise UnsupportedVersionError(f"{self._peer} rejected every ApiVersions version")

    async def _authenticate(self) -> None:
        mech = create_mechanism(self.config)
        name = mech.name
        resp = await self._send(ApiKey.SASL_HANDSHAKE, self._version_or_fail(ApiKey.SASL_HANDSHAKE),
                                {"mechanism": name}, self._request_timeout)
        code = resp.get("error_code", 0)
        if code:
            enabled = ", ".join(resp.get("mechanisms") or ()) or "none"
            raise error_for_code(code)(
                f"SASL mechanism {name} is not enabled on {self._peer} (enabled: {enabled})")
        auth_version = self._version_or_fail(ApiKey.SASL_AUTHENTICATE)
        message = await mech.start()
        while message is not None:
            resp = await self._send(ApiKey.SASL_AUTHENTICATE, auth_version, {"auth_bytes": message},
                                    self._request_timeout)
            code = resp.get("error_code", 0)
            if code:
                detail = resp.get("error_message") or "credentials rejected"
                server_error = getattr(mech, "server_error", "")
                if server_error and server_error not in detail:
                    detail = f"{detail}: {server_error}"
                raise AuthenticationError(
                    f"SASL {name} authentication with {self._peer} failed: {detail}")
            message = mech.step(bytes(resp.get("auth_bytes") or b""))
            self.session_lifetime_ms = resp.get("session_lifetime_ms", 0) or 0
        if not mech.complete:
            raise AuthenticationError(f"SASL {name} exchange with {self._peer} ended early")

    def _version_or_fail(self, api_key: int) -> int:
        if api_key not in self._versions:
            raise UnsupportedVersionError(self._unsupported_message(api_key))
        return self._versions[api_key]

    # -------------------------------------------------------------------------------- requests

    async def request(
        self,
        api_key: int,
        body: dict,
        version: int | None = None,
        timeout_ms: float | None = None,
        expect_response: bool = True,
    ) -> dict | None:
        """Send one request and await its decoded response body (a dict).

        ``version=None`` uses the negotiated version. ``expect_response=False`` (Produce with
        acks=0) returns None once the request is handed to the socket. Raises
        :class:`KafkaTimeoutError` after ``timeout_ms`` (default ``request_timeout_ms``) and
        :class:`KafkaConnectionError` if the connection breaks; in both cases the connection
        is closed and every other request in flight on it fails the same way.
        """
        future = self._start(api_key, body, version, timeout_ms, expect_response)
        if self._transport is not None and self._transport.get_write_buffer_size() > _WRITE_HIGH_WATER:
            try:
                await self._drain()
            except KafkaError:
                if future is not None and future.done() and not future.cancelled():
                    future.exception()  # failed with the connection; we raise the drain error
                raise
        if future is None:
            return None
        return await future  # type: ignore[misc]  # our own asyncio.Future: no sink here

    def start_request(self, api_key: int, body: dict, version: int | None = None,
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
        return self._start(api_key, body, version, timeout_ms, True, sink)  # type: ignore[return-value]

    def _start(self, api_key: int, body: dict, version: int | None, timeout_ms: float | None,
               expect_response: bool, sink: ResponseSink | None = None) -> ResponseSink | None:
        if self._state != "ready":
            raise self._not_ready_error()
        if version is None:
            version = self._versions.get(api_key)
            if version is None:
                raise UnsupportedVersionError(self._unsupported_message(api_key))
        timeout = self._request_timeout if timeout_ms is None else timeout_ms / 1000.0
        return self._enqueue(api_key, version, body, timeout, expect_response, sink)

    async def _send(self, api_key: int, version: int, body: dict, timeout: float) -> dict:
        """request() for the connect phase (explicit version). The peer may have closed the
        socket since it was opened: a request registered on a closed connection would never be
        answered nor timed out (its timer's _shutdown() does nothing twice), so it fails now."""
        if self._state != "connecting":
            raise self._not_ready_error()
        return await self._enqueue(api_key, version, body, timeout, True)  # type: ignore[misc]

    def _enqueue(self, api_key: int, version: int, body: dict, timeout: float,
                 expect_response: bool, sink: ResponseSink | None = None) -> ResponseSink | None:
        """Encode and write one request; the future of its response (None without one).

        While throttled the request is queued instead, and the returned future also completes
        (with None) for a request that expects no response, once it is written."""
        loop = self._loop
        self._corr = corr = (self._corr + 1) % _CORR_WRAP
        frame = encode_request(api_key, version, corr, self._client_id, body)
        now = loop.time()  # type: ignore[union-attr]
        self._last_used = now
        if self._muted_until:
            if self._held or now < self._muted_until:
                future = sink if sink is not None else loop.create_future()  # type: ignore[union-attr]
                self._held.append(Held(frame, corr, api_key, version, timeout, future, expect_response))
                self.delayed_requests += 1
                return future
            self._muted_until = 0.0
        # Written before it is registered: the reader cannot run until we yield, and a failed
        # write then leaves no orphan future behind.
        self._write(frame)
        if not expect_response:
            return None
        future = sink if sink is not None else loop.create_future()  # type: ignore[union-attr]
        deadline = now + timeout
        self._in_flight[corr] = InFlight(future, api_key, version, deadline, now)
        if self._timer is None or deadline < self._timer_at:
            self._arm_timer(deadline)
        return future

    # ------------------------------------------------------------------------------- throttle

    def _throttle(self, api_key: int, version: int, throttle_ms: int) -> None:
        """A response asked us to back off (KIP-219): write nothing more for ``throttle_ms``."""
        since = THROTTLE_FROM.get(api_key)
        if since is None or version < since:
            return  # an old version: the broker delayed the response itself
        self.last_throttle_time_ms = throttle_ms
        self.throttle_count += 1
        self.throttle_time_ms_total += throttle_ms
        now = self._loop.time()  # type: ignore[union-attr]
        self.throttle_time_max.record(now, throttle_ms)
        until = now + throttle_ms / 1000.0
        if until > self._muted_until:
            self._muted_until = until
        log.debug("%s throttled %s v%d for %d ms (quota); holding further requests",
                  self._peer, api_name(api_key), version, throttle_ms)
        if self._release_timer is None:
            self._release_timer = self._loop.call_at(self._muted_until, self._release)  # type: ignore[union-attr]

    def _release(self) -> None:
        """The throttle has passed: write the held requests in order (their timeouts start now)."""
        self._release_timer = None
        if self._state == "closed":
            return
        now = self._loop.time()  # type: ignore[union-attr]
        if now < self._muted_until:  # extended by a later response
            self._release_timer = self._loop.call_at(self._muted_until, self._release)  # type: ignore[union-attr]
            return
        self._muted_until = 0.0
        held = self._held
        if held:
            log.debug("%s throttle over; writing %d held request(s)", self._peer, len(held))
        while held:
            entry = held.popleft()
            future = entry.sink
            if future.done():
                continue  # the caller gave up before it was written: never send it
            if entry.expect_response:
                deadline = now + entry.timeout
                # Registered before the write: a failed write closes the connection, which fails it.
                self._in_flight[entry.corr] = InFlight(future, entry.api_key, entry.version, deadline, now)
                if self._timer is None or deadline < self._timer_at:
                    self._arm_timer(deadline)
            try:
                self._write(entry.frame)
            except KafkaError as exc:
                if not future.done():
                    future.set_exception(type(exc)(exc.message))
                return  # _shutdown failed everything else
            if not entry.expect_response:
                future.set_result(None)
        self._last_used = now

    def _write(self, frame: bytes) -> None:
        self.requests_sent += 1
        self.bytes_sent += len(frame)
        try:
            self._transport.write(frame)  # type: ignore[union-attr]
        except (OSError, RuntimeError, AttributeError) as exc:
            err = KafkaConnectionError(f"write to {self._peer} failed: {exc!r}")
            self._shutdown(err)
            raise err from None

    async def _drain(self) -> None:
        try:
            await self._protocol.drain()  # type: ignore[union-attr]
        except (OSError, RuntimeError, AttributeError) as exc:
            err = KafkaConnectionError(f"write to {self._peer} failed: {exc!r}")
            self._shutdown(err)
            raise err from None

    def _not_ready_error(self) -> KafkaError:
        if self._state == "closed":
            reason = f": {self._close_error}" if self._close_error is not None else ""
            return KafkaConnectionError(f"connection to {self._peer} is closed{reason}")
        return KafkaConnectionError(f"connection to {self._peer} is not ready ({self._state})")

    # ---------------------------------------------------------------------------------- reader

    def _on_frame(self, payload: bytes | memoryview) -> None:
        """One response frame (called from the protocol's read callback; a large frame comes as a
        read-only memoryview of its own buffer, which the decoded body's record sets share)."""
        (corr,) = _CORR.unpack_from(payload, 0)
        in_flight = self._in_flight
        if in_flight and next(iter(in_flight)) != corr and corr in in_flight:
            # A broker answers a connection's requests in order: an earlier answer never came,
            # so this connection lost data. Closed, like Java's correlation check, so that every
            # request after the lost one is known unanswered too (and retried in order), rather
            # than a later answer arriving while the earlier request waits for its timeout.
            self._shutdown(KafkaConnectionError(
                f"{self._peer} answered request {corr} before request {next(iter(in_flight))}: "
                "a response was lost; closing the connection"))
            return
        entry = in_flight.pop(corr, None)
        if entry is None:
            self._shutdown(KafkaConnectionError(
                f"{self._peer} sent a response with unknown correlation id {corr}"))
            return
        now = self._loop.time()  # type: ignore[union-attr]
        latency = now - entry.sent
        self.responses_received += 1
        self.bytes_received += len(payload) + 4
        self.latency_total_s += latency
        self.latency_max_s.record(now, latency)
        future = entry.sink
        if future.done():  # the caller gave up (cancelled); the response is dropped
            return
        try:
            body = decode_response(entry.api_key, entry.version, payload)
        except Exception as exc:  # noqa: BLE001 - a bad response fails its request only
            future.set_exception(exc if isinstance(exc, KafkaError) else KafkaConnectionError(
                f"cannot decode response from {self._peer}: {exc!r}"))
            return
        throttle_ms = body.get("throttle_time_ms")
        if throttle_ms and throttle_ms > 0:
            self._throttle(entry.api_key, entry.version, throttle_ms)
        future.set_result(body)
        if self._expiring and not self._in_flight and not self._held:
            self._shutdown(None)

    def _on_lost(self, exc: BaseException | None) -> None:
        """The stream ended: ``exc`` None when the broker closed it, else what broke it."""
        if self._state == "closed":
            return  # we closed it ourselves
        if exc is None:
            err: KafkaError = KafkaConnectionError(f"{self._peer} closed the connection")
        elif isinstance(exc, KafkaError):
            err = exc
        elif isinstance(exc, FrameSizeError):
            err = KafkaConnectionError(f"{self._peer} sent a frame of impossible size {exc.size}")
        elif isinstance(exc, ssl.SSLError):
            if self._state == "connecting":
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
        self._timer_at = at
        self._timer = self._loop.call_at(at, self._check_timeouts)  # type: ignore[union-attr]

    def _check_timeouts(self) -> None:
        self._timer = None
        if not self._in_flight:
            return
        now = self._loop.time()  # type: ignore[union-attr]
        earliest = min(entry.deadline for entry in self._in_flight.values())
        if earliest <= now:
            expired = [e for e in self._in_flight.values() if e.deadline <= now]
            names = sorted({api_name(e.api_key) for e in expired})
            self._shutdown(KafkaTimeoutError(
                f"{', '.join(names)} request to {self._peer} "
                f"got no response in time; closing the connection"))
        else:
            self._arm_timer(earliest)

    def _arm_idle_timer(self) -> None:
        if self._idle_timeout is None or self._state == "closed":
            return
        self._idle_timer = self._loop.call_at(  # type: ignore[union-attr]
            self._last_used + self._idle_timeout, self._check_idle)

    def _check_idle(self) -> None:
        self._idle_timer = None
        if self._state != "ready":
            return
        now = self._loop.time()  # type: ignore[union-attr]
        if not self._in_flight and not self._held and now - self._last_used >= self._idle_timeout:  # type: ignore[operator]
            log.debug("closing idle connection to broker %s at %s:%s", self.node_id, self.host, self.port)
            self._shutdown(None)
        else:
            self._arm_idle_timer()

    def _session_expiring(self) -> None:
        """Stop being offered by the pool; close once the requests in flight are answered.

        Requests still sent through this connection by a caller holding it are accepted until
        the broker's own deadline, when the connection is closed for good.
        """
        self._expiry_timer = None
        if self._state != "ready":
            return
        self._expiring = True
        log.debug("SASL session to broker %s ends soon; retiring the connection", self.node_id)
        if not self._in_flight and not self._held:
            self._shutdown(None)
            return
        remaining = self.session_lifetime_ms / 1000.0 * 0.05
        self._expiry_timer = self._loop.call_later(remaining, self._shutdown, None)  # type: ignore[union-attr]

    # ---------------------------------------------------------------------------------- close

    def _shutdown(self, error: KafkaError | None) -> None:
        """Close now (synchronously): fail every request in flight with ``error``."""
        if self._state == "closed":
            return
        self._state = "closed"
        self._close_error = error
        if error is not None:
            log.info("connection to %s closed: %s", self._peer, error)
        for handle in (self._timer, self._idle_timer, self._expiry_timer, self._release_timer):
            if handle is not None:
                handle.cancel()
        self._timer = self._idle_timer = self._expiry_timer = self._release_timer = None
        in_flight, self._in_flight = self._in_flight, {}
        held, self._held = self._held, deque()
        if in_flight or held:
            fail = error or KafkaConnectionError(f"connection to {self._peer} was closed")
            for entry in (*in_flight.values(), *held):
                if not entry.sink.done():
                    # A fresh instance per request: callers may chain and re-raise independently.
                    entry.sink.set_exception(type(fail)(fail.message))
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
        protocol = self._protocol
        if protocol is not None and not protocol.closed.done():
            try:
                await asyncio.wait_for(asyncio.shield(protocol.closed), 1.0)
            except (OSError, asyncio.TimeoutError, ssl.SSLError, RuntimeError):
                pass

