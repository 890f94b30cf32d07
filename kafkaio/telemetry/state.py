"""The client telemetry state machine (KIP-714), as Java's ``ClientTelemetryReporter`` defines it.

Pure: every method takes ``now`` (milliseconds, any monotonic clock) and returns what to do; the
asyncio driver (:mod:`kafkaio.telemetry.reporter`) sends the requests and feeds the answers back.
The client first asks any broker for its subscription (GetTelemetrySubscriptions); when the
subscription asks for metrics it pushes them every ``push_interval_ms`` (the first push jittered
between 50% and 150% of the interval), asks again when the broker reports the subscription has
changed, and ends with one push marked ``terminating`` on close.
"""
from __future__ import annotations

import logging
import random
import uuid
from dataclasses import dataclass
from enum import Enum

from kafkaio.errors import ErrorCode
from kafkaio.records.enums import Compression

__all__ = ["DEFAULT_PUSH_INTERVAL_MS", "Action", "Subscription", "TelemetryCore", "TelemetryState",
           "error_interval_ms"]

log = logging.getLogger("kafkaio.telemetry")

DEFAULT_PUSH_INTERVAL_MS = 5 * 60 * 1000
_NEVER = 2**31 - 1   # Java's Integer.MAX_VALUE interval: telemetry is off for good
_JITTER = (0.5, 1.5)
_CODECS = frozenset(int(c) for c in (Compression.GZIP, Compression.SNAPPY, Compression.LZ4, Compression.ZSTD))


class TelemetryState(Enum):
    """Java's ``ClientTelemetryState``."""

    SUBSCRIPTION_NEEDED = "subscription_needed"
    SUBSCRIPTION_IN_PROGRESS = "subscription_in_progress"
    PUSH_NEEDED = "push_needed"
    PUSH_IN_PROGRESS = "push_in_progress"
    TERMINATING_PUSH_NEEDED = "terminating_push_needed"
    TERMINATING_PUSH_IN_PROGRESS = "terminating_push_in_progress"
    TERMINATED = "terminated"


S = TelemetryState
TRANSITIONS: dict[TelemetryState, frozenset[TelemetryState]] = {
    S.SUBSCRIPTION_NEEDED: frozenset({S.SUBSCRIPTION_IN_PROGRESS, S.TERMINATED}),
    S.SUBSCRIPTION_IN_PROGRESS: frozenset({S.PUSH_NEEDED, S.SUBSCRIPTION_NEEDED, S.TERMINATING_PUSH_NEEDED,
                                           S.TERMINATED}),
    S.PUSH_NEEDED: frozenset({S.PUSH_IN_PROGRESS, S.SUBSCRIPTION_NEEDED, S.TERMINATING_PUSH_NEEDED, S.TERMINATED}),
    S.PUSH_IN_PROGRESS: frozenset({S.PUSH_NEEDED, S.SUBSCRIPTION_NEEDED, S.TERMINATING_PUSH_NEEDED,
                                   S.TERMINATED}),
    S.TERMINATING_PUSH_NEEDED: frozenset({S.TERMINATING_PUSH_IN_PROGRESS, S.TERMINATED}),
    S.TERMINATING_PUSH_IN_PROGRESS: frozenset({S.TERMINATED}),
    S.TERMINATED: frozenset(),
}
_TERMINATING = frozenset({S.TERMINATING_PUSH_NEEDED, S.TERMINATING_PUSH_IN_PROGRESS, S.TERMINATED})


class Action(Enum):
    """The request the driver should send now."""

    SUBSCRIBE = "subscribe"
    PUSH = "push"
    TERMINATING_PUSH = "terminating_push"


@dataclass(frozen=True)
class Subscription:
    """The broker's answer to GetTelemetrySubscriptions."""

    client_instance_id: uuid.UUID
    subscription_id: int
    push_interval_ms: int
    accepted_compression_types: tuple[int, ...]
    telemetry_max_bytes: int
    delta_temporality: bool
    requested_metrics: tuple[str, ...]

    @property
    def wants_metrics(self) -> bool:
        """False when the broker asks for no metric at all (no subscription matches this client)."""
        return bool(self.requested_metrics)

    def selects(self, name: str) -> bool:
        """Whether the metric ``name`` is asked for: a prefix of it is requested (``*`` or the
        empty string ask for all)."""
        if self.requested_metrics == ("*",):
            return True
        return any(name.startswith(prefix) for prefix in self.requested_metrics)

    @property
    def compression(self) -> int:
        """The first of the broker's accepted codecs (its order is its preference) that kafkaio
        writes, NONE when it accepts none."""
        for codec in self.accepted_compression_types:
            if codec in _CODECS:
                return codec
        return int(Compression.NONE)


def error_interval_ms(error_code: int, push_interval_ms: int | None) -> int:
    """How long to wait before asking for the subscription again after ``error_code`` (Java's
    ``ClientTelemetryUtils.maybeFetchErrorIntervalMs``); :data:`_NEVER` turns telemetry off."""
    try:
        error = ErrorCode(error_code)
    except ValueError:
        return _NEVER
    if error in (ErrorCode.UNKNOWN_SUBSCRIPTION_ID, ErrorCode.UNSUPPORTED_COMPRESSION_TYPE):
        return 0
    if error in (ErrorCode.TELEMETRY_TOO_LARGE, ErrorCode.THROTTLING_QUOTA_EXCEEDED):
        return push_interval_ms if push_interval_ms is not None else DEFAULT_PUSH_INTERVAL_MS
    return _NEVER  # INVALID_REQUEST, INVALID_RECORD, UNSUPPORTED_VERSION and anything unknown


class TelemetryCore:
    """One client's telemetry state, subscription and timing (no I/O)."""

    def __init__(self, rng: random.Random | None = None) -> None:
        self.state = S.SUBSCRIPTION_NEEDED
        self.subscription: Subscription | None = None
        self.enabled = True
        self._last_request_ms: float | None = None   # None: no request answered yet
        self._interval_ms = 0                         # 0: the first subscription request goes at once
        self._rng = rng or random.Random()

    # -- timing ----------------------------------------------------------------------------

    def wait_ms(self, now: float) -> float | None:
        """Milliseconds until the next request is due (0: now); None when no request will come
        (telemetry turned off, a request in progress, or closed)."""
        if not self.enabled or self.state in (S.SUBSCRIPTION_IN_PROGRESS, S.PUSH_IN_PROGRESS,
                                              S.TERMINATING_PUSH_IN_PROGRESS, S.TERMINATED):
            return None
        if self.state is S.TERMINATING_PUSH_NEEDED:
            return 0.0
        last = self._last_request_ms if self._last_request_ms is not None else now
        return max(0.0, last + self._interval_ms - now)

    def due(self, now: float) -> Action | None:
        """The request to send now, or None if none is due."""
        wait = self.wait_ms(now)
        if wait is None or wait > 0:
            return None
        if self.state is S.SUBSCRIPTION_NEEDED:
            return Action.SUBSCRIBE
        return Action.TERMINATING_PUSH if self.state is S.TERMINATING_PUSH_NEEDED else Action.PUSH

    # -- requests --------------------------------------------------------------------------

    def start_subscribe(self) -> uuid.UUID:
        """Enter SUBSCRIPTION_IN_PROGRESS; the client instance id to send (zero the first time,
        so that the broker assigns one)."""
        self._set(S.SUBSCRIPTION_IN_PROGRESS)
        return self.subscription.client_instance_id if self.subscription is not None else uuid.UUID(int=0)

    def start_push(self) -> tuple[Subscription, bool]:
        """Enter (TERMINATING_)PUSH_IN_PROGRESS; the subscription to push for and whether this
        push is the terminating one."""
        assert self.subscription is not None, "a push needs a subscription"
        terminating = self.state is S.TERMINATING_PUSH_NEEDED
        self._set(S.TERMINATING_PUSH_IN_PROGRESS if terminating else S.PUSH_IN_PROGRESS)
        return self.subscription, terminating

    def skip_push(self, now: float) -> None:
        """The payload could not be made (or is larger than the broker takes): try again after
        one push interval, as Java does."""
        assert self.subscription is not None
        self._retry_after(self.subscription.push_interval_ms, now)

    # -- answers ---------------------------------------------------------------------------

    def on_subscription(self, error_code: int, subscription: Subscription | None, now: float) -> None:
        """The GetTelemetrySubscriptions answer: ``subscription`` when ``error_code`` is 0."""
        if self.state in _TERMINATING:
            return
        old = self.subscription
        if error_code or subscription is None:
            self._set(S.SUBSCRIPTION_NEEDED)
            self._retry_after(error_interval_ms(error_code, old.push_interval_ms if old else None), now)
            return
        if subscription.client_instance_id.int == 0:
            self._set(S.SUBSCRIPTION_NEEDED)
            self._retry_after(_NEVER, now)   # Java refuses a zero instance id: nothing can be pushed
            return
        if subscription.push_interval_ms <= 0:
            subscription = _with_interval(subscription, DEFAULT_PUSH_INTERVAL_MS)
        self._set(S.PUSH_NEEDED if subscription.wants_metrics else S.SUBSCRIPTION_NEEDED)
        self.subscription = subscription
        if self.state is S.PUSH_NEEDED:  # spread the first pushes of clients started together
            low, high = _JITTER
            self._interval_ms = round(self._rng.uniform(low, high) * subscription.push_interval_ms)
        else:
            self._interval_ms = subscription.push_interval_ms
        self._last_request_ms = now

    def on_push(self, error_code: int, now: float) -> None:
        """The PushTelemetry answer."""
        if self.state in _TERMINATING:
            if self.state is S.TERMINATING_PUSH_IN_PROGRESS:
                self._set(S.TERMINATED)
            return
        assert self.subscription is not None
        if error_code:
            self._set(S.SUBSCRIPTION_NEEDED)
            self._retry_after(error_interval_ms(error_code, self.subscription.push_interval_ms), now)
            return
        self._last_request_ms = now
        self._interval_ms = self.subscription.push_interval_ms
        self._set(S.PUSH_NEEDED)

    def on_failure(self, now: float) -> None:
        """The request got no answer (connection lost, timed out, the broker does not offer the
        API): ask again for the subscription after Java's default interval, maybe of another broker."""
        if self.state is S.TERMINATING_PUSH_IN_PROGRESS:
            self._set(S.TERMINATED)
            return
        if self.state in _TERMINATING:
            return
        if self.state not in (S.SUBSCRIPTION_IN_PROGRESS, S.PUSH_IN_PROGRESS):
            self._retry_after(_NEVER, now)
            return
        self._set(S.SUBSCRIPTION_NEEDED)
        self._retry_after(DEFAULT_PUSH_INTERVAL_MS, now)

    # -- closing ---------------------------------------------------------------------------

    def initiate_close(self) -> bool:
        """The client is closing: True when a terminating push is to be sent (a subscription
        asking for metrics is held); the state is then TERMINATING_PUSH_NEEDED."""
        sub = self.subscription
        if (not self.enabled or self.state in _TERMINATING or self.state is S.SUBSCRIPTION_NEEDED
                or sub is None or not sub.wants_metrics):
            return False
        return self._set(S.TERMINATING_PUSH_NEEDED)

    def close(self) -> None:
        """Telemetry ends: no request after this."""
        if self.state is not S.TERMINATED:
            self._set(S.TERMINATED)

    # -- internals -------------------------------------------------------------------------

    def _set(self, new: TelemetryState) -> bool:
        if new not in TRANSITIONS[self.state]:
            # Java turns telemetry off rather than failing the client.
            log.debug("telemetry: no transition from %s to %s; telemetry turned off", self.state.name, new.name)
            self.enabled = False
            return False
        self.state = new
        return True

    def _retry_after(self, interval_ms: int, now: float) -> None:
        self._interval_ms = interval_ms
        self._last_request_ms = now
        if interval_ms >= _NEVER:
            self.enabled = False


def _with_interval(sub: Subscription, interval_ms: int) -> Subscription:
    return Subscription(sub.client_instance_id, sub.subscription_id, interval_ms, sub.accepted_compression_types,
                        sub.telemetry_max_bytes, sub.delta_temporality, sub.requested_metrics)
