"""Backpressure: which partitions to pause so that buffered records stay bounded.

Pure decisions, no I/O. Every record received and not finished is *buffered* (running, ready, or
waiting behind its key or its due time). Each assigned partition has a fair share of the bounds
(``max_records`` and ``max_bytes`` divided by the partitions assigned); a partition holding its
share is *ahead* and paused, and resumed once it is down to half of it, so one partition's backlog
cannot take the room the others need to run concurrently. The total stays within the bounds
because each poll asks for at most the room left (:meth:`room`). The fetch loop never blocks: it
keeps polling, with the paused partitions left out.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Iterable

from kafkaio.structs import TopicPartition


class Backpressure:
    """Buffered records and bytes, in all and per partition, and the partitions paused for them."""

    def __init__(self, max_records: int, max_bytes: int) -> None:
        self.max_records = max_records
        self.max_bytes = max_bytes
        self.records = 0
        self.bytes = 0
        self.per_partition: Counter[TopicPartition] = Counter()
        self.bytes_per_partition: Counter[TopicPartition] = Counter()
        self.paused: set[TopicPartition] = set()

    def add(self, tp: TopicPartition, size: int) -> None:
        self.records += 1
        self.bytes += size
        self.per_partition[tp] += 1
        self.bytes_per_partition[tp] += size

    def remove(self, tp: TopicPartition, size: int) -> None:
        self.records -= 1
        self.bytes -= size
        left = self.per_partition[tp] - 1
        if left:
            self.per_partition[tp] = left
            self.bytes_per_partition[tp] -= size
        else:
            del self.per_partition[tp]
            self.bytes_per_partition.pop(tp, None)

    def forget(self, partitions: Iterable[TopicPartition]) -> None:
        """Partitions no longer assigned are no longer paused here."""
        self.paused.difference_update(partitions)

    def room(self) -> int:
        """How many records the next poll may return (at least 1, so that polling goes on)."""
        return max(1, self.max_records - self.records)

    def update(self, assigned: Collection[TopicPartition]) -> tuple[set[TopicPartition], set[TopicPartition]]:
        """(partitions to pause, partitions to resume) now, given the partitions assigned."""
        n = max(1, len(assigned))
        share_records = max(1, self.max_records // n)
        share_bytes = max(1, self.max_bytes // n)
        pause: set[TopicPartition] = set()
        resume: set[TopicPartition] = set()
        for tp in assigned:
            records = self.per_partition.get(tp, 0)
            size = self.bytes_per_partition.get(tp, 0)
            if tp in self.paused:
                if records <= share_records // 2 and size <= share_bytes // 2:
                    resume.add(tp)
            elif records >= share_records or size >= share_bytes:
                pause.add(tp)
        self.paused = (self.paused | pause) - resume
        return pause, resume
