"""Backpressure: which partitions to pause so that buffered records stay bounded.

Pure decisions, no I/O. Every record received and not finished is *buffered* (running, ready, or
waiting behind its key). When the buffer reaches ``max_records`` or ``max_bytes``, the partitions
that hold buffered records (those ahead) are paused; a partition with nothing buffered keeps
fetching, so a slow key cannot starve the others. Below half of both bounds every partition paused
here is resumed. The fetch loop never blocks: it keeps polling, with paused partitions.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from kafkaio.structs import TopicPartition


class Backpressure:
    """Buffered records and bytes per partition, and the partitions paused for them."""

    def __init__(self, max_records: int, max_bytes: int) -> None:
        self.max_records = max_records
        self.max_bytes = max_bytes
        self.records = 0
        self.bytes = 0
        self.per_partition: Counter[TopicPartition] = Counter()
        self.paused: set[TopicPartition] = set()

    def add(self, tp: TopicPartition, size: int) -> None:
        self.records += 1
        self.bytes += size
        self.per_partition[tp] += 1

    def remove(self, tp: TopicPartition, size: int) -> None:
        self.records -= 1
        self.bytes -= size
        left = self.per_partition[tp] - 1
        if left:
            self.per_partition[tp] = left
        else:
            del self.per_partition[tp]

    def forget(self, partitions: Iterable[TopicPartition]) -> None:
        """Partitions no longer assigned are no longer paused here."""
        self.paused.difference_update(partitions)

    @property
    def full(self) -> bool:
        return self.records >= self.max_records or self.bytes >= self.max_bytes

    def room(self) -> int:
        """How many records the next poll may return (at least 1: see the module docstring)."""
        return max(1, self.max_records - self.records)

    def update(self) -> tuple[set[TopicPartition], set[TopicPartition]]:
        """(partitions to pause, partitions to resume) now."""
        if self.full:
            ahead = {tp for tp, n in self.per_partition.items() if n > 0} - self.paused
            self.paused |= ahead
            return ahead, set()
        if self.paused and self.records <= self.max_records // 2 and self.bytes <= self.max_bytes // 2:
            resumed, self.paused = self.paused, set()
            return set(), resumed
        return set(), set()
