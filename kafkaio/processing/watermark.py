"""The completed watermark of one partition: the offset below which every handed-out record is done.

Pure bookkeeping, no I/O. Records are handed out in increasing offset order (with gaps where the
log has none: compaction, transaction markers) and finish in any order. The watermark is the
offset to commit: the first handed-out record not done yet, or one past the last handed-out record
when all are done. Records finished above the watermark are reported by :meth:`done_above`, so
that a commit can carry them (see :mod:`kafkaio.processing.commit_metadata`) and a restart skips
them.
"""
from __future__ import annotations

from collections import deque
from collections.abc import Iterable


class PartitionWatermark:
    """Tracks handed-out and finished offsets of one partition for one assignment."""

    __slots__ = ("_order", "_pending", "_next", "_skip")

    def __init__(self, skip: Iterable[int] = ()) -> None:
        self._order: deque[int] = deque()   # handed out, at or above the watermark, ascending
        self._pending: set[int] = set()     # handed out and not done
        self._next: int | None = None       # one past the last handed-out offset
        self._skip = set(skip)              # done in an earlier run (from the commit metadata)

    def hand_out(self, offset: int) -> bool:
        """Record that ``offset`` was received; False when it was already done in an earlier run
        (then it counts as done and must not be handled again)."""
        if self._next is not None and offset < self._next:
            raise ValueError(f"offset {offset} handed out after {self._next - 1}: offsets must ascend")
        self._next = offset + 1
        if offset in self._skip:
            self._skip.discard(offset)
            if self._order:                 # below the watermark nothing needs remembering
                self._order.append(offset)
            return False
        self._order.append(offset)
        self._pending.add(offset)
        return True

    def done(self, offset: int) -> None:
        """Mark a handed-out offset finished (handled, retried elsewhere or dead-lettered)."""
        try:
            self._pending.remove(offset)
        except KeyError:
            raise ValueError(f"offset {offset} is not in flight") from None
        order = self._order
        while order and order[0] not in self._pending:
            order.popleft()

    @property
    def watermark(self) -> int | None:
        """The offset to commit, or None before the first record was handed out."""
        if self._order:
            return self._order[0]
        return self._next

    @property
    def in_flight(self) -> int:
        """Handed out and not done."""
        return len(self._pending)

    def is_pending(self, offset: int) -> bool:
        return offset in self._pending

    def preview_done(self, offset: int) -> tuple[int, list[int]]:
        """The watermark and the finished offsets above it as they will be once ``offset`` (in
        flight) is done, without marking it: for a commit that must include it atomically."""
        if offset not in self._pending:
            raise ValueError(f"offset {offset} is not in flight")
        pending = self._pending
        watermark: int | None = None
        above: list[int] = []
        for o in self._order:
            busy = o in pending and o != offset
            if watermark is None:
                if busy:
                    watermark = o
            elif not busy:
                above.append(o)
        if watermark is None:
            assert self._next is not None
            watermark = self._next
        return watermark, above

    def done_above(self) -> list[int]:
        """Finished offsets above the watermark, ascending."""
        pending = self._pending
        return [o for o in self._order if o not in pending]
