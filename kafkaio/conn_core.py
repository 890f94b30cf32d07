"""A broker connection's bookkeeping without I/O: its state, correlation ids, the requests in
flight in send order with their deadlines, the KIP-219 throttle hold queue, when to close for
idleness, and when to renew the SASL session in place (KIP-368).

Nothing here reads a clock or touches a socket: every method that depends on time takes ``now``
(the event loop's clock, in seconds) and returns what the caller must do — write a frame now or
hold it, fail these requests, arm a timer at that time, close. The asyncio connection
(:mod:`kafkaio.conn`) feeds it bytes' outcomes and time; the unit tests drive it directly.

The state model follows the Java client's ``ConnectionState`` (``CONNECTING``,
``CHECKING_API_VERSIONS``, ``READY``), with an explicit SASL step, and ``REAUTHENTICATING`` for
KIP-368 as Java's ``KafkaChannel``/``SaslClientAuthenticator`` do it: once a jittered 85-95% of the
session lifetime the broker gave has passed, the next request to be written starts a new SaslHandshake
and SaslAuthenticate exchange on the same socket instead; that request and every later one are held
(not failed) until the exchange succeeds, while responses to the requests already in flight are
still read and delivered in order. A connection without a session lifetime never re-authenticates.
"""
from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any, Generic, Protocol, TypeVar

from kafkaio.errors import IllegalStateError, KafkaConnectionError
from kafkaio.protocol import ApiKey, DirectMessage

CORR_WRAP = 1 << 31
#: what :meth:`ConnectionCore.send` answers for a request that must wait (a throttle, or a
#: re-authentication in progress): hold it
HOLD = -1
#: what :meth:`ConnectionCore.send` answers for the first request after the session's renewal time:
#: hold it, and re-authenticate (the connection is now REAUTHENTICATING)
REAUTH = -2
# _reauth_at while no renewal is due (no session lifetime, or one is under way)
_NEVER = float("inf")

# KIP-219: from which version of each API a throttled response means "the broker answered at once
# and now expects the client to wait" (older versions were delayed by the broker instead). The
# numbers are the Java client's (each response class's shouldClientThrottle); APIs absent here are
# never throttled client-side, also as in the Java client.
THROTTLE_FROM: Mapping[int, int] = {
    ApiKey.PRODUCE: 6, ApiKey.FETCH: 8, ApiKey.LIST_OFFSETS: 3, ApiKey.METADATA: 6,
    ApiKey.OFFSET_COMMIT: 4, ApiKey.OFFSET_FETCH: 4, ApiKey.FIND_COORDINATOR: 2, ApiKey.JOIN_GROUP: 3,
    ApiKey.HEARTBEAT: 2, ApiKey.LEAVE_GROUP: 2, ApiKey.SYNC_GROUP: 2, ApiKey.DESCRIBE_GROUPS: 2,
    ApiKey.LIST_GROUPS: 2, ApiKey.API_VERSIONS: 2, ApiKey.CREATE_TOPICS: 3, ApiKey.DELETE_TOPICS: 2,
    ApiKey.DELETE_RECORDS: 1, ApiKey.INIT_PRODUCER_ID: 1, ApiKey.ADD_PARTITIONS_TO_TXN: 1,
    ApiKey.ADD_OFFSETS_TO_TXN: 1, ApiKey.END_TXN: 1, ApiKey.TXN_OFFSET_COMMIT: 1,
    ApiKey.DESCRIBE_CONFIGS: 2, ApiKey.ALTER_CONFIGS: 1, ApiKey.CREATE_PARTITIONS: 1,
    ApiKey.DELETE_GROUPS: 1, ApiKey.INCREMENTAL_ALTER_CONFIGS: 0, ApiKey.OFFSET_DELETE: 0,
}

class ResponseSink(Protocol):
    """What receives a request's outcome: an ``asyncio.Future`` is one.

    The connection calls ``set_result(body)`` from the socket's read callback, as soon as the
    response is decoded, and ``set_exception(exc)`` when the request fails (possibly from inside
    one of its own methods, e.g. a write that finds the connection broken); it never calls either
    once ``done()`` is True."""

    def done(self) -> bool: ...

    def set_result(self, body: Any, /) -> None: ...

    def set_exception(self, exc: BaseException, /) -> None: ...


SinkT = TypeVar("SinkT", bound=ResponseSink)


class ConnState(str, Enum):
    """Where a broker connection is in its life."""

    NEW = "new"                                        # constructed, connect() not called
    CONNECTING = "connecting"                          # TCP (+TLS) being opened
    CHECKING_API_VERSIONS = "checking_api_versions"    # ApiVersions asked, not yet answered
    AUTHENTICATING = "authenticating"                  # SASL handshake and authenticate
    READY = "ready"                                    # requests may be sent
    REAUTHENTICATING = "reauthenticating"              # renewing the SASL session: requests wait
    CLOSED = "closed"                                  # for good; never reused


TRANSITIONS: Mapping[ConnState, frozenset[ConnState]] = {
    ConnState.NEW: frozenset({ConnState.CONNECTING, ConnState.CLOSED}),
    ConnState.CONNECTING: frozenset({ConnState.CHECKING_API_VERSIONS, ConnState.CLOSED}),
    ConnState.CHECKING_API_VERSIONS: frozenset({ConnState.AUTHENTICATING, ConnState.READY,
                                                ConnState.CLOSED}),
    ConnState.AUTHENTICATING: frozenset({ConnState.READY, ConnState.CLOSED}),
    ConnState.READY: frozenset({ConnState.REAUTHENTICATING, ConnState.CLOSED}),
    ConnState.REAUTHENTICATING: frozenset({ConnState.READY, ConnState.CLOSED}),
    ConnState.CLOSED: frozenset(),
}

#: states before READY: a failure here fails connect()
SETUP_STATES = frozenset({ConnState.CONNECTING, ConnState.CHECKING_API_VERSIONS, ConnState.AUTHENTICATING})
#: states in which the connection sends its own requests (ApiVersions, SASL)
HANDSHAKE_STATES = frozenset({ConnState.CHECKING_API_VERSIONS, ConnState.AUTHENTICATING,
                              ConnState.REAUTHENTICATING})
#: states in which the application's requests are accepted (written, or held)
SERVING_STATES = frozenset({ConnState.READY, ConnState.REAUTHENTICATING})


class InFlight(Generic[SinkT]):
    """A request written and waiting for its response."""

    __slots__ = ("sink", "api_key", "version", "deadline", "sent", "message")

    def __init__(self, sink: SinkT, api_key: int, version: int, deadline: float, sent: float,
                 message: DirectMessage | None = None) -> None:
        self.sink = sink
        self.api_key = api_key
        self.version = version
        self.deadline = deadline
        self.sent = sent  # when it was written: its response's latency is measured from here
        self.message = message  # a request that decodes its own response (None: the generic codec)


class Held(Generic[SinkT]):
    """A request encoded while the connection was throttled, waiting to be written."""

    __slots__ = ("frame", "corr", "api_key", "version", "timeout", "sink", "expect_response", "message")

    def __init__(self, frame: bytes | bytearray, corr: int, api_key: int, version: int, timeout: float,
                 sink: SinkT, expect_response: bool, message: DirectMessage | None = None) -> None:
        self.frame = frame
        self.corr = corr
        self.api_key = api_key
        self.version = version
        self.timeout = timeout
        self.sink = sink
        self.expect_response = expect_response
        self.message = message


@dataclass
class TimeoutCheck(Generic[SinkT]):
    """What the request-timeout timer found: the requests past their deadline (non-empty: close
    the connection and fail every request on it), else when to look again (None: nothing left)."""

    expired: list[InFlight[SinkT]]
    next_at: float | None


@dataclass
class Release(Generic[SinkT]):
    """What the end of a throttle or of a re-authentication allows: the held requests to write
    now, in order (those whose caller gave up are left out), or, when a later response extended
    the throttle, when to look again; or, when the session is due for renewal, to re-authenticate
    first (the connection is then REAUTHENTICATING and the requests stay held)."""

    due: list[Held[SinkT]]
    next_at: float | None
    reauthenticate: bool = False


@dataclass(frozen=True)
class Wake:
    """A timer's verdict: close the connection now, or look again at ``next_at`` (None: never)."""

    close: bool = False
    next_at: float | None = None


class ConnectionCore(Generic[SinkT]):
    """One connection's state and request bookkeeping (see module docstring).

    ``state`` is read directly (it is on the per-request path) and changed only by
    :meth:`transition`. ``idle_timeout`` is ``connections_max_idle_ms`` in seconds, None for never.
    """

    __slots__ = ("state", "idle_timeout", "_corr", "_in_flight", "_held", "_timer_at",
                 "_muted_until", "_release_at", "_last_used", "_reauth_at")

    def __init__(self, idle_timeout: float | None) -> None:
        self.state = ConnState.NEW
        self.idle_timeout = idle_timeout
        self._corr = 0
        self._in_flight: dict[int, InFlight[SinkT]] = {}  # in send order: dicts keep insertion order
        self._held: deque[Held[SinkT]] = deque()
        self._timer_at: float | None = None  # when the armed request-timeout timer fires
        self._muted_until = 0.0  # before this nothing is written (0.0: not throttled)
        self._release_at: float | None = None  # when the armed throttle-release timer fires
        self._last_used = 0.0
        # When the next request starts a re-authentication (_NEVER: not due; 0.0 while one is
        # under way, so that send() takes its slow path and holds).
        self._reauth_at = _NEVER

    # ------------------------------------------------------------------------------ state

    def transition(self, target: ConnState) -> None:
        """Move to ``target``; raises :class:`IllegalStateError` if the table does not allow it."""
        if target not in TRANSITIONS[self.state]:
            raise IllegalStateError(f"connection state {self.state.value} -> {target.value}")
        self.state = target

    @property
    def in_flight_count(self) -> int:
        """Requests written and not yet answered, plus those held back by a throttle."""
        return len(self._in_flight) + len(self._held)

    @property
    def idle(self) -> bool:
        """True when no request is in flight or held."""
        return not self._in_flight and not self._held

    def throttled(self, now: float) -> bool:
        """True while a throttle keeps requests from being written (or held ones are not yet)."""
        return self._muted_until > 0.0 and (bool(self._held) or now < self._muted_until)

    # ---------------------------------------------------------------------------- sending

    def next_correlation_id(self) -> int:
        """The correlation id of the next request (wraps before the int32 limit)."""
        self._corr = corr = (self._corr + 1) % CORR_WRAP
        return corr

    def send(self, now: float, sink: SinkT | None, api_key: int, version: int,
             timeout: float, message: DirectMessage | None = None,
             handshake: bool = False) -> tuple[int, float | None]:
        """An application request is to be sent at ``now``: its correlation id, and the time to
        arm the request-timeout timer at when it must fire earlier than the one armed (else None).

        With a ``sink`` the request is registered in flight under that id, its deadline
        ``timeout`` from now (``sink`` None: no response is expected). The id is :data:`HOLD`
        when a throttle is on, earlier requests are still held (order is kept) or the session is
        being renewed, and :data:`REAUTH` when the session is due for renewal (the connection is
        now REAUTHENTICATING): then nothing is registered, and the caller queues the request with
        :meth:`hold`. ``message``: the request, when it decodes its own response. ``handshake``:
        the connection's own request (:meth:`send_handshake`)."""
        if not handshake:
            self._last_used = now
            if self._muted_until or now >= self._reauth_at:
                gate = self._gate(now)
                if gate:
                    return gate, None
        self._corr = corr = (self._corr + 1) % CORR_WRAP
        if sink is None:
            return corr, None
        deadline = now + timeout
        self._in_flight[corr] = InFlight(sink, api_key, version, deadline, now, message)
        if self._timer_at is None or deadline < self._timer_at:
            self._timer_at = deadline
            return corr, deadline
        return corr, None

    def _gate(self, now: float) -> int:
        """send()'s slow path: HOLD, REAUTH, or 0 to write now."""
        if self.state is ConnState.REAUTHENTICATING:
            return HOLD
        if self._muted_until:
            if self._held or now < self._muted_until:
                return HOLD
            self._muted_until = 0.0
        if now >= self._reauth_at and self.state is ConnState.READY:
            self._begin_reauthentication()
            return REAUTH
        return 0

    def send_handshake(self, now: float, sink: SinkT | None, api_key: int, version: int,
                       timeout: float, message: DirectMessage | None = None) -> tuple[int, float | None]:
        """:meth:`send` for the connection's own requests (ApiVersions, SASL), which no throttle or
        re-authentication holds back."""
        return self.send(now, sink, api_key, version, timeout, message, handshake=True)

    def withdraw(self, corr: int) -> None:
        """Forget request ``corr``, registered by :meth:`send` but never written (its caller gets
        the failure raised rather than through its sink)."""
        self._in_flight.pop(corr, None)

    def hold(self, entry: Held[SinkT]) -> None:
        """Queue a request :meth:`send` answered :data:`HOLD` for (its id from
        :meth:`next_correlation_id`); :meth:`release` hands it back in order."""
        self._held.append(entry)

    def track(self, corr: int, sink: SinkT, api_key: int, version: int, now: float,
              timeout: float, message: DirectMessage | None = None) -> float | None:
        """Register a held request about to be written; the time to arm the request-timeout timer at when it must
        fire earlier than the one armed (None: the armed timer covers it)."""
        deadline = now + timeout
        self._in_flight[corr] = InFlight(sink, api_key, version, deadline, now, message)
        if self._timer_at is None or deadline < self._timer_at:
            self._timer_at = deadline
            return deadline
        return None

    # -------------------------------------------------------------------------- receiving

    def answered(self, corr: int) -> InFlight[SinkT]:
        """The request a response with ``corr`` answers, taken out of the in-flight table.

        Raises :class:`KafkaConnectionError` (close the connection) for an unknown id, and for an
        answer that overtakes an earlier request: a broker answers a connection's requests in
        order, so an earlier answer was lost and every request after it is unanswered too (as the
        Java client's correlation check)."""
        in_flight = self._in_flight
        if in_flight and next(iter(in_flight)) != corr and corr in in_flight:
            raise KafkaConnectionError(
                f"answered request {corr} before request {next(iter(in_flight))}: "
                "a response was lost; closing the connection")
        entry = in_flight.pop(corr, None)
        if entry is None:
            raise KafkaConnectionError(f"sent a response with unknown correlation id {corr}")
        return entry

    # ----------------------------------------------------------------------------- timers

    def check_timeouts(self, now: float) -> TimeoutCheck[SinkT]:
        """The request-timeout timer fired (it is no longer armed)."""
        self._timer_at = None
        if not self._in_flight:
            return TimeoutCheck([], None)
        earliest = min(entry.deadline for entry in self._in_flight.values())
        if earliest <= now:
            return TimeoutCheck([e for e in self._in_flight.values() if e.deadline <= now], None)
        self._timer_at = earliest
        return TimeoutCheck([], earliest)

    def throttle(self, api_key: int, version: int, throttle_ms: int, now: float) -> bool:
        """A response asked for a back-off of ``throttle_ms`` (KIP-219): True if this API version
        is one the client backs off for (the connection is then muted), False if the broker
        delayed the response itself."""
        since = THROTTLE_FROM.get(api_key)
        if since is None or version < since:
            return False
        until = now + throttle_ms / 1000.0
        if until > self._muted_until:
            self._muted_until = until
        return True

    def release_timer(self) -> float | None:
        """When to arm the throttle-release timer, if it is not armed yet (None: already armed or
        not throttled)."""
        if self._release_at is not None or not self._muted_until:
            return None
        self._release_at = self._muted_until
        return self._release_at

    def release(self, now: float) -> Release[SinkT]:
        """The throttle-release timer fired (it is no longer armed)."""
        self._release_at = None
        if self.state is ConnState.CLOSED:
            return Release([], None)
        if now < self._muted_until:  # extended by a later response
            self._release_at = self._muted_until
            return Release([], self._muted_until)
        self._muted_until = 0.0
        if self.state is ConnState.REAUTHENTICATING:  # the held requests wait for its end
            return Release([], None)
        self._last_used = now
        if self._held and now >= self._reauth_at:
            self._begin_reauthentication()
            return Release([], None, reauthenticate=True)
        return self._release_held()

    def _release_held(self) -> Release[SinkT]:
        held, self._held = self._held, deque()
        return Release([entry for entry in held if not entry.sink.done()], None)

    def start_idle_timer(self, now: float) -> float | None:
        """The connection became ready at ``now``: when to check for idleness (None: never)."""
        self._last_used = now
        return None if self.idle_timeout is None else now + self.idle_timeout

    def check_idle(self, now: float) -> Wake:
        """The idle timer fired: close when nothing was sent for ``idle_timeout`` and nothing is
        in flight, else look again when it could be."""
        if self.idle_timeout is None or self.state not in SERVING_STATES:
            return Wake()
        if self.idle and now - self._last_used >= self.idle_timeout:
            return Wake(close=True)
        return Wake(next_at=self._last_used + self.idle_timeout)

    # ------------------------------------------------------------------- re-authentication

    def start_session(self, now: float, lifetime_ms: int, jitter: float) -> None:
        """SASL authentication at ``now`` gave a session of ``lifetime_ms`` (KIP-368; 0: unlimited,
        never re-authenticate): the first request sent ``jitter`` (0.85-0.95, the caller's random
        draw, so that many connections do not renew at once) of the way in starts a renewal."""
        self._reauth_at = now + lifetime_ms / 1000.0 * jitter if lifetime_ms > 0 else _NEVER

    def _begin_reauthentication(self) -> None:
        self.transition(ConnState.REAUTHENTICATING)
        self._reauth_at = 0.0

    def reauthenticated(self, now: float, lifetime_ms: int, jitter: float) -> Release[SinkT]:
        """The renewal succeeded at ``now`` with a new session of ``lifetime_ms`` (as in
        :meth:`start_session`): the held requests to write now, in order, unless a throttle
        still holds them (its release timer, armed since, hands them back)."""
        self.transition(ConnState.READY)
        self.start_session(now, lifetime_ms, jitter)
        self._last_used = now
        if now < self._muted_until:
            return Release([], None)
        self._muted_until = 0.0
        return self._release_held()

    # ------------------------------------------------------------------------------ close

    def close(self) -> list[SinkT]:
        """Move to CLOSED; the sinks of every request in flight or held, in send order, for the
        caller to fail (empty when already closed). The timers are no longer wanted."""
        if self.state is ConnState.CLOSED:
            return []
        self.transition(ConnState.CLOSED)
        sinks = [entry.sink for entry in self._in_flight.values()]
        sinks.extend(entry.sink for entry in self._held)
        self._in_flight = {}
        self._held = deque()
        self._timer_at = self._release_at = None
        self._muted_until = 0.0
        return sinks
