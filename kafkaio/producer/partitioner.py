"""Choosing a partition for a record, exactly as the Java client does.

* An explicit partition is honoured as given (the caller validates its range against metadata).
* A keyed record goes to ``toPositive(murmur2(key)) % num_partitions`` (Java's ``Utils.murmur2`` and
  ``Utils.toPositive``), so Java and Python producers agree on the partition of every key.
* A record without key uses the uniform sticky partitioner of KIP-794: all such records of a topic go
  to one partition until about ``batch_size`` bytes were produced to it, then the partitioner moves on
  to another partition. The next partition is drawn at random among partitions that have a leader;
  with adaptive partitioning (Java's default) the draw is weighted towards partitions whose queues
  of unsent batches are shorter, so that a slow broker receives less.
"""
from __future__ import annotations

import random
from typing import Callable, Sequence

from kafkaio._speedups import load as _load

murmur2: Callable[[bytes], int] = _load("hashing").murmur2

__all__ = ["murmur2", "to_positive", "partition_for_key", "StickyPartitioner"]


def to_positive(n: int) -> int:
    """Java's ``Utils.toPositive``: clear the sign bit (not ``abs``, which differs for MIN_VALUE)."""
    return n & 0x7FFFFFFF


def partition_for_key(key: bytes, num_partitions: int) -> int:
    """The partition of a keyed record: ``toPositive(murmur2(key)) % num_partitions``."""
    return (murmur2(key) & 0x7FFFFFFF) % num_partitions


class _TopicStickiness:
    __slots__ = ("partition", "produced_bytes", "previous")

    def __init__(self) -> None:
        self.partition = -1
        self.produced_bytes = 0
        self.previous = -1


class StickyPartitioner:
    """KIP-794 uniform sticky partitioning for records without key, one state per topic.

    ``partition(topic, num_partitions)`` returns the current sticky partition;
    ``on_append(topic, partition, size)`` counts the bytes produced to it and switches to a new
    partition once ``batch_size`` bytes were produced (``sticky_batch_size`` in Java).
    ``available`` (optional) returns the partitions that currently have a leader;
    ``queue_sizes`` (optional) returns, per partition id, the number of batches waiting to be sent,
    used for adaptive weighting (``partitioner.adaptive.partitioning.enable``).
    """

    __slots__ = ("_batch_size", "_topics", "_rng", "_available", "_queue_sizes", "_adaptive")

    def __init__(
        self,
        batch_size: int,
        *,
        available: Callable[[str], Sequence[int]] | None = None,
        queue_sizes: Callable[[str, Sequence[int]], Sequence[int]] | None = None,
        adaptive: bool = True,
        rng: random.Random | None = None,
    ) -> None:
        self._batch_size = max(1, batch_size)
        self._topics: dict[str, _TopicStickiness] = {}
        self._rng = rng or random.Random()
        self._available = available
        self._queue_sizes = queue_sizes
        self._adaptive = adaptive

    def partition(self, topic: str, num_partitions: int) -> int:
        """The sticky partition for the next keyless record of ``topic``."""
        state = self._topics.get(topic)
        if state is None:
            state = self._topics[topic] = _TopicStickiness()
        if state.partition < 0 or state.partition >= num_partitions:
            state.partition = self._next(topic, num_partitions, state.previous)
            state.produced_bytes = 0
        return state.partition

    def on_append(self, topic: str, partition: int, size: int) -> None:
        """Account ``size`` bytes produced to ``partition``; switch after ``batch_size`` bytes."""
        state = self._topics.get(topic)
        if state is None or state.partition != partition:
            return
        state.produced_bytes += size
        if state.produced_bytes >= self._batch_size:
            self.switch(state)

    def switch(self, state: _TopicStickiness) -> None:
        """Leave the current partition: the next ``partition`` call picks another one."""
        state.produced_bytes = 0
        state.previous = state.partition
        state.partition = -1  # the next call picks (it knows the partition count)

    def move_on(self, topic: str, num_partitions: int, full_partition: int) -> int:
        """The partition for the next keyless record of ``topic`` once ``full_partition``'s open
        batch cannot take it: the sticky partition leaves it (if it has not already) rather than
        start a batch there for one record, which would linger out nearly empty."""
        state = self._topics.get(topic)
        if state is not None and state.partition == full_partition:
            self.switch(state)
        return self.partition(topic, num_partitions)

    def reset(self, topic: str) -> None:
        """Forget the sticky partition of ``topic`` (e.g. its partition count changed)."""
        self._topics.pop(topic, None)

    # -- choosing -----------------------------------------------------------------------------
    def _next(self, topic: str, num_partitions: int, previous: int) -> int:
        candidates: list[int]
        if self._available is not None:
            candidates = [p for p in self._available(topic) if p < num_partitions]
            if not candidates:
                candidates = list(range(num_partitions))
        else:
            candidates = list(range(num_partitions))
        return self._choose(topic, candidates, previous)

    def _choose(self, topic: str, candidates: list[int], previous: int) -> int:
        if not candidates:
            return -1
        if len(candidates) > 1 and previous in candidates:
            # Java avoids staying on the same partition when another is available.
            candidates = [p for p in candidates if p != previous]
        if self._adaptive and self._queue_sizes is not None and len(candidates) > 1:
            sizes = self._queue_sizes(topic, candidates)
            top = max(sizes) + 1
            # Weight each partition by (max queue + 1 - its queue): shorter queues are likelier.
            weights = [top - s for s in sizes]
            total = sum(weights)
            r = self._rng.randrange(total)
            acc = 0
            for p, w in zip(candidates, weights):
                acc += w
                if r < acc:
                    return p
        return candidates[self._rng.randrange(len(candidates))]
