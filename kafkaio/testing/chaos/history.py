"""The operation log of one run: every client operation with its outcome, and every fault.

Workloads append one entry per operation when its outcome is known (``ok``, ``failed``, or
``unknown`` when the client cannot tell whether it took effect); the injector appends one entry
per fault (outcome ``info``). A workload's client processes each keep a history of their own that
starts at the same instant (``start``: the monotonic clock is the machine's, shared by every
process) and writes each entry to a file as it is made (``sink``); the runner merges those files in
when the processes are done. Entries are plain dicts so that the checker needs nothing but this
module, and the log round-trips through JSON lines for replays and bug reports.
"""
from __future__ import annotations

import json
import os
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

    def __init__(self, entries: Iterable[dict[str, Any]] = (), *, start: float | None = None,
                 sink: int | None = None) -> None:
        self.start = time.monotonic() if start is None else start
        self._last = -1.0
        self._sink = sink  # a file descriptor opened O_APPEND: one write() per entry
        self.entries: list[dict[str, Any]] = list(entries)

    def now(self) -> float:
        """Seconds since the history began, strictly increasing from call to call.

        Strictly: the checker orders "commit answered" before "poll invoked" by these numbers, and
        two calls in the same clock tick must still come out in the order they were made.
        """
        t = max(time.monotonic() - self.start, self._last + 1e-6)
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
        if self._sink is not None:
            # One write() of a whole line: a process SIGKILLed between two entries leaves whole lines.
            os.write(self._sink, (json.dumps(entry, sort_keys=True) + "\n").encode())
        return entry

    def merge(self, others: Iterable[dict[str, Any]]) -> None:
        """Take in entries another process logged against the same ``start``: every entry is put
        in the order of the instant its outcome was known (``t``) and numbered again."""
        merged = sorted([*self.entries, *others], key=lambda e: e["t"])
        for i, e in enumerate(merged):
            e["i"] = i
        self.entries = merged
        if merged:
            self._last = max(self._last, merged[-1]["t"])

    @staticmethod
    def read_jsonl_file(path: str) -> list[dict[str, Any]]:
        """The entries of a history file; a last line cut short (none should be) is left out."""
        with open(path, encoding="utf-8") as f:
            text = f.read()
        return [json.loads(line) for line in text.split("\n") if line.strip() and line.endswith("}")]

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
