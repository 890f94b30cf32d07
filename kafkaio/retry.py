"""Backoff and deadlines shared by every layer that retries.

One policy for everything that waits before trying again: reconnecting to a broker
(``reconnect_backoff_ms`` .. ``reconnect_backoff_max_ms``), retrying a request or a metadata
refresh (``retry_backoff_ms`` .. ``retry_backoff_max_ms``, KIP-580). The delay grows by a factor
of two per attempt up to the maximum, and each delay is spread by +/-20% random jitter so that
many clients that failed together do not come back together.
"""
from __future__ import annotations

import asyncio
import math
import random
import time
from typing import Awaitable, Callable, TypeVar

from kafkaio.errors import KafkaTimeoutError
from kafkaio.waiting import within

T = TypeVar("T")

DEFAULT_MULTIPLIER = 2.0
DEFAULT_JITTER = 0.2


class ExponentialBackoff:
    """Delay before attempt ``n`` (counted from 0): ``initial * multiplier**n``, capped, with jitter.

    The exponent stops growing once the cap is reached, so very large attempt counts never
    overflow. With ``max_ms <= initial_ms`` the delay is always ``initial_ms`` (jittered).
    """

    __slots__ = ("initial_ms", "max_ms", "multiplier", "jitter", "_exp_max", "_random")

    def __init__(
        self,
        initial_ms: float,
        max_ms: float,
        multiplier: float = DEFAULT_MULTIPLIER,
        jitter: float = DEFAULT_JITTER,
        rng: random.Random | None = None,
    ) -> None:
        if initial_ms < 0 or max_ms < 0:
            raise ValueError("backoff intervals must not be negative")
        if multiplier < 1:
            raise ValueError("backoff multiplier must be at least 1")
        if not 0 <= jitter < 1:
            raise ValueError("backoff jitter must be in [0, 1)")
        self.initial_ms = float(initial_ms)
        self.max_ms = float(max(max_ms, initial_ms))
        self.multiplier = float(multiplier)
        self.jitter = float(jitter)
        if self.max_ms > self.initial_ms and multiplier > 1:
            self._exp_max = math.log(self.max_ms / max(self.initial_ms, 1.0)) / math.log(multiplier)
        else:
            self._exp_max = 0.0
        self._random = rng if rng is not None else random

    def backoff_ms(self, attempts: int) -> float:
        """Milliseconds to wait after ``attempts`` failed attempts (0 = after the first failure)."""
        exponent = min(max(attempts, 0), self._exp_max)
        term: float = self.initial_ms * self.multiplier**exponent  # float ** float is typed Any
        if self.jitter:
            term *= self._random.uniform(1.0 - self.jitter, 1.0 + self.jitter)
        return min(term, self.max_ms)

    @classmethod
    def flat(cls, interval_ms: float) -> ExponentialBackoff:
        """The same ``interval_ms`` before every attempt, without jitter (the Java client's
        ``time.sleep(retryBackoffMs)`` of a retried transactional request)."""
        return cls(interval_ms, interval_ms, jitter=0.0)

    def __repr__(self) -> str:
        return f"ExponentialBackoff(initial_ms={self.initial_ms:g}, max_ms={self.max_ms:g})"


class Backoff:
    """An :class:`ExponentialBackoff` with its own attempt counter: ``fail()``, ``reset()``, ``ready()``.

    Used per broker for reconnects and per cluster for metadata refreshes: after a failure the
    next attempt may start no earlier than :meth:`ready_at`.
    """

    __slots__ = ("policy", "attempts", "_not_before")

    def __init__(self, policy: ExponentialBackoff) -> None:
        self.policy = policy
        self.attempts = 0
        self._not_before = 0.0

    def fail(self) -> float:
        """Record a failure; returns the delay in seconds before the next attempt is allowed."""
        delay = self.policy.backoff_ms(self.attempts) / 1000.0
        self.attempts += 1
        self._not_before = time.monotonic() + delay
        return delay

    def reset(self) -> None:
        """Record a success: the next failure starts again from the initial delay."""
        self.attempts = 0
        self._not_before = 0.0

    def remaining(self) -> float:
        """Seconds until the next attempt is allowed (0 when it is allowed now)."""
        return max(0.0, self._not_before - time.monotonic())

    async def wait(self) -> None:
        """Sleep until the next attempt is allowed."""
        delay = self.remaining()
        if delay > 0:
            await asyncio.sleep(delay)


class Deadline:
    """A point in monotonic time by which an operation must finish.

    ``Deadline(None)`` never expires. ``remaining()`` is in seconds and never negative, so it can
    be passed straight to ``asyncio.wait_for``.
    """

    __slots__ = ("_at",)

    def __init__(self, timeout_ms: float | None) -> None:
        self._at = None if timeout_ms is None else time.monotonic() + timeout_ms / 1000.0

    @property
    def expired(self) -> bool:
        return self._at is not None and time.monotonic() >= self._at

    def remaining(self) -> float | None:
        """Seconds left, or None for no deadline."""
        if self._at is None:
            return None
        return max(0.0, self._at - time.monotonic())

    def remaining_ms(self) -> float | None:
        left = self.remaining()
        return None if left is None else left * 1000.0

    def check(self, what: str) -> None:
        """Raise :class:`KafkaTimeoutError` naming ``what`` if the deadline has passed."""
        if self.expired:
            raise KafkaTimeoutError(f"timed out waiting for {what}")

    async def run(self, awaitable: Awaitable[T], what: str) -> T:
        """Await ``awaitable`` within the time left; :class:`KafkaTimeoutError` naming ``what``."""
        left = self.remaining()
        if left is None:
            return await awaitable
        try:
            return await within(awaitable, left)
        except asyncio.TimeoutError:
            raise KafkaTimeoutError(f"timed out waiting for {what}") from None


async def retry_async(
    operation: Callable[[], Awaitable[T]],
    *,
    backoff: ExponentialBackoff,
    deadline: Deadline,
    is_retriable: Callable[[BaseException], bool],
    what: str,
    on_retry: Callable[[BaseException], object] | None = None,
) -> T:
    """Run ``operation`` until it succeeds, a non-retriable error, or the deadline.

    Between attempts it sleeps the backoff delay (never past the deadline). When the deadline
    passes after a retriable failure, raises :class:`KafkaTimeoutError` naming ``what`` and
    chained to the last error.
    """
    attempt = 0
    while True:
        try:
            return await operation()
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - classified just below
            if not is_retriable(exc):
                raise
            if on_retry is not None:
                on_retry(exc)
            delay = backoff.backoff_ms(attempt) / 1000.0
            attempt += 1
            left = deadline.remaining()
            if left is not None:
                if left <= 0:
                    raise KafkaTimeoutError(f"timed out waiting for {what}: {exc}") from exc
                delay = min(delay, left)
            await asyncio.sleep(delay)
            if deadline.expired:
                raise KafkaTimeoutError(f"timed out waiting for {what}: {exc}") from exc
