"""Which records may run together: per key, per partition, or any.

Pure bookkeeping, no I/O. Each submitted item has an ordering key; at most one item per key is
ready or running at a time, and the items of a key run in the order they were submitted. Items
whose key is free wait in one FIFO ready queue for a handler slot (``max_in_flight``).
"""
from __future__ import annotations

import enum
from collections import deque
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

from kafkaio.structs import TopicPartition

T = TypeVar("T")


class Ordering(enum.Enum):
    """``KEY``: in order per (partition, key), concurrent across keys; records without a key are
    unordered. ``PARTITION``: one record at a time per partition. ``NONE``: no order."""

    KEY = "key"
    PARTITION = "partition"
    NONE = "none"


def ordering_key(ordering: Ordering, tp: TopicPartition, key: object, offset: int) -> Hashable:
    """The key under which a record waits for the records before it."""
    if ordering is Ordering.PARTITION:
        return tp
    if ordering is Ordering.KEY and key is not None:
        return (tp, key)
    return (tp, offset)   # unique: waits for nothing


class KeyedQueue(Generic[T]):
    """Items per ordering key; hands out ready items while fewer than ``max_in_flight`` run."""

    def __init__(self, max_in_flight: int) -> None:
        self.max_in_flight = max_in_flight
        self.running = 0
        self._ready: deque[tuple[Hashable, T]] = deque()
        self._waiting: dict[Hashable, deque[T]] = {}   # key -> items behind the key's ready/running one
        self._owned: set[Hashable] = set()            # keys with an item ready or running

    def __len__(self) -> int:
        """Items ready or waiting (not running)."""
        return len(self._ready) + sum(len(q) for q in self._waiting.values())

    def submit(self, key: Hashable, item: T) -> None:
        if key in self._owned:
            self._waiting.setdefault(key, deque()).append(item)
        else:
            self._owned.add(key)
            self._ready.append((key, item))

    def take(self) -> tuple[Hashable, T] | None:
        """The next ready item if a handler slot is free; it counts as running until finish()."""
        if self.running >= self.max_in_flight or not self._ready:
            return None
        self.running += 1
        return self._ready.popleft()

    def finish(self, key: Hashable) -> None:
        """A running item of ``key`` ended: the key's next item becomes ready."""
        self.running -= 1
        self._release(key)

    def _release(self, key: Hashable) -> None:
        queue = self._waiting.get(key)
        if queue:
            self._ready.append((key, queue.popleft()))
            if not queue:
                del self._waiting[key]
        else:
            self._owned.discard(key)

    def remove(self, predicate: Callable[[T], bool]) -> list[T]:
        """Take out every ready or waiting item matching ``predicate`` (running ones are the
        caller's); the keys they held are released."""
        removed: list[T] = []
        for key in list(self._waiting):
            queue = self._waiting[key]
            kept = deque(i for i in queue if not predicate(i))
            removed.extend(i for i in queue if predicate(i))
            if kept:
                self._waiting[key] = kept
            else:
                del self._waiting[key]
        ready = self._ready
        self._ready = deque()
        for key, item in ready:
            if predicate(item):
                removed.append(item)
                self._release(key)
            else:
                self._ready.append((key, item))
        return removed
