"""Rates, averages and maxima over a recent window, computed when metrics are read.

The clients keep plain running totals (counts, byte sums, latency sums) where the work is done;
:class:`RateWindow` turns successive readings of those totals into per-second rates and windowed
averages, as the Java client's ``Rate`` and ``Avg`` stats over ``metrics.sample.window.ms`` (30 s)
do. :class:`WindowedMax` is the one stat that must be recorded as it happens (a maximum cannot be
recovered from totals); it costs a comparison per recorded value.
"""
from __future__ import annotations

import math
from collections import deque
from collections.abc import Sequence

__all__ = ["WINDOW_S", "RateWindow", "WindowedMax", "nanmax"]

#: the length of the window, as the Java client's default ``metrics.sample.window.ms``
WINDOW_S = 30.0


class RateWindow:
    """Readings ``(time, totals)`` of some running totals; each new reading is compared with the
    newest earlier one that is at least ``window_s`` old (or the oldest kept, while the client is
    younger than the window), so a rate covers at least the window once there is one."""

    __slots__ = ("_window", "_spacing", "_readings")

    def __init__(self, start: float, width: int, window_s: float = WINDOW_S) -> None:
        """``start``: when the totals were all zero (the client's start); ``width``: how many
        totals each reading has."""
        self._window = window_s
        # readings closer together than this are not kept, so that calling metrics() in a loop
        # keeps at most about 60 of them
        self._spacing = window_s / 30.0
        self._readings: deque[tuple[float, tuple[float, ...]]] = deque([(start, (0.0,) * width)])

    def read(self, now: float, totals: Sequence[float]) -> tuple[float, tuple[float, ...]]:
        """Record ``totals`` at ``now``; return the seconds covered and each total's increase over
        them (``now`` earlier than the last reading is taken as the last reading's time)."""
        readings = self._readings
        now = max(now, readings[-1][0])
        # keep one reading at least a window old as the base, drop the older ones
        while len(readings) > 1 and readings[1][0] <= now - self._window:
            readings.popleft()
        base_t, base = readings[0]
        if now - readings[-1][0] >= self._spacing:
            readings.append((now, tuple(float(v) for v in totals)))
        return now - base_t, tuple(float(v) - b for v, b in zip(totals, base))

    def __len__(self) -> int:
        """Readings kept."""
        return len(self._readings)

    @staticmethod
    def rate(elapsed: float, delta: float) -> float:
        """Per second; 0.0 over an empty interval."""
        return delta / elapsed if elapsed > 0 else 0.0

    @staticmethod
    def average(total_delta: float, count_delta: float) -> float:
        """Mean of the values recorded in the interval; NaN when none were (as Java's ``Avg``)."""
        return total_delta / count_delta if count_delta > 0 else math.nan


class WindowedMax:
    """The largest value recorded in the current and the previous window of ``window_s``.

    Windows are aligned on the times values are recorded at, so a reading at ``now`` covers between
    one and two windows back; a value older than that is forgotten."""

    __slots__ = ("_window", "_current", "_previous", "_ends")

    def __init__(self, window_s: float = WINDOW_S) -> None:
        self._window = window_s
        self._current = math.nan
        self._previous = math.nan
        self._ends = -math.inf  # end of the current window

    def record(self, now: float, value: float) -> None:
        if now >= self._ends:
            # the previous window is the current one only when they are adjacent
            self._previous = self._current if now < self._ends + self._window else math.nan
            self._current = value
            self._ends = now + self._window
        elif not value <= self._current:  # also replaces NaN
            self._current = value

    def value(self, now: float) -> float:
        """The maximum of the last one to two windows; NaN when nothing was recorded there."""
        if now >= self._ends + self._window:
            return math.nan
        if now >= self._ends:
            return self._current
        return nanmax(self._current, self._previous)

    def merge(self, other: WindowedMax, now: float) -> None:
        """Take in what ``other`` still holds at ``now`` (a connection's maximum when it closes)."""
        value = other.value(now)
        if not math.isnan(value):
            self.record(now, value)


def nanmax(a: float, b: float) -> float:
    if math.isnan(a):
        return b
    if math.isnan(b):
        return a
    return max(a, b)
