"""The operation log of one run: every client operation with its outcome, and every fault.

Workloads append one entry per operation when its outcome is known (``ok``, ``failed``, or
``unknown`` when the client cannot tell whether it took effect); the injector appends one entry
per fault (outcome ``info``). Entries are plain dicts so that the checker needs nothing but this
module, and the log round-trips through JSON lines for replays and bug reports.
"""
from __future__ import annotations

import json
import time
from collections.abc import Iterable, Iterator
from typing import Any

__all__ = ["OUTCOMES", "History"]

OUTCOMES = ("ok", "failed", "unknown", "info")


class History:
    """An append-only list of entries ``{"i", "t", "t0", "proc", "op", "outcome", ...}``.

    ``t0`` and ``t`` are seconds since the history began: when the operation was invoked and when
    its outcome was known. ``i`` is the entry's position, the order the checker trusts.
    """

    def __init__(self, entries: Iterable[dict[str, Any]] = ()) -> None:
        self._start = time.monotonic()
        self._last = -1.0
        self.entries: list[dict[str, Any]] = list(entries)

    def now(self) -> float:
        """Seconds since the history began, strictly increasing from call to call.

        Strictly: the checker orders "commit answered" before "poll invoked" by these numbers, and
        two calls in the same clock tick must still come out in the order they were made.
        """
        t = max(time.monotonic() - self._start, self._last + 1e-6)
        self._last = t
        return t

    def append(self, proc: str, op: str, outcome: str, t0: float | None = None, **data: Any) -> dict[str, Any]:
        """Record one operation of ``proc`` (e.g. ``"member-2"``) whose ``outcome`` is known now."""
        if outcome not in OUTCOMES:
            raise ValueError(f"outcome must be one of {OUTCOMES}, not {outcome!r}")
        t = self.now()
        entry = {"i": len(self.entries), "t": t, "t0": t if t0 is None else t0, "proc": proc, "op": op,
                 "outcome": outcome, **data}
        self.entries.append(entry)
        return entry

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return iter(self.entries)

    def __len__(self) -> int:
        return len(self.entries)

    def of(self, op: str) -> list[dict[str, Any]]:
        """Entries of one operation kind, in log order."""
        return [e for e in self.entries if e["op"] == op]

    def to_jsonl(self) -> str:
        return "".join(json.dumps(e, sort_keys=True) + "\n" for e in self.entries)

    @classmethod
    def from_jsonl(cls, text: str) -> "History":
        return cls(json.loads(line) for line in text.splitlines() if line.strip())
