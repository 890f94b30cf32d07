"""A log line that may repeat for every record (a raising callback, an unreadable record, a failing
handler) is written once with its details, then at most once per interval with how many were left
out: an operator sees the problem at once, and a million bad records do not become a million lines."""
from __future__ import annotations

import logging
import time

__all__ = ["Throttled"]

INTERVAL_S = 60.0


class Throttled:
    """One per kind of line, kept by whoever writes it (a client, a worker loop; a module for its
    free functions), so that one noisy source cannot silence another."""

    __slots__ = ("_log", "_interval", "_next_at", "_left_out")

    def __init__(self, log: logging.Logger, interval_s: float = INTERVAL_S) -> None:
        self._log = log
        self._interval = interval_s
        self._next_at = 0.0
        self._left_out = 0

    @property
    def left_out(self) -> int:
        """Lines left out since the last one written."""
        return self._left_out

    def log(self, level: int, msg: str, *args: object, exc_info: bool = False, now: float | None = None) -> bool:
        """Write the line unless one was written less than the interval ago (then count it); True
        when written. A written line after left-out ones says how many."""
        now = time.monotonic() if now is None else now
        if now < self._next_at:
            self._left_out += 1
            return False
        if self._left_out:
            msg += f" ({self._left_out} more like this since the last such line were not logged)"
            self._left_out = 0
        self._next_at = now + self._interval
        self._log.log(level, msg, *args, exc_info=exc_info)
        return True
