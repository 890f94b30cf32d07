"""Choosing a partition for a record, exactly as the Java client does.

* An explicit partition is honoured as given (the caller validates its range against metadata).
* A keyed record goes to ``toPositive(murmur2(key)) % num_partitions`` (Java's ``Utils.murmur2`` and
  ``Utils.toPositive``), so Java and Python producers agree on the partition of every key.
* A record without key uses the uniform sticky partitioner of KIP-794: all such records of a topic go
  to one partition until about ``batch_size`` bytes were produced to it, or its open batch refuses a
  record, then the partitioner moves on to another partition (the state and that rule are the
  ``PartitionAppender``'s, in kafkaio._speedups; the draw is here). The next partition is drawn at random among partitions that have a leader;
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


class StickyPartitioner:
    """KIP-794's draw of the next sticky partition of a topic (the appender keeps the sticky state).

    ``available`` (optional) returns the partitions that currently have a leader; ``queue_sizes``
    (optional) returns, per partition id, the number of batches waiting to be sent, used for
    adaptive weighting (``partitioner.adaptive.partitioning.enable``).
    """

    __slots__ = ("_rng", "_available", "_queue_sizes", "_adaptive")

    def __init__(
        self,
        *,
        available: Callable[[str], Sequence[int]] | None = None,
        queue_sizes: Callable[[str, Sequence[int]], Sequence[int]] | None = None,
        adaptive: bool = True,
        rng: random.Random | None = None,
    ) -> None:
        self._rng = rng or random.Random()
        self._available = available
        self._queue_sizes = queue_sizes
        self._adaptive = adaptive

    def choose(self, topic: str, num_partitions: int, previous: int) -> int:
        """The next sticky partition of ``topic``: among those with a leader (all when none has
        one), another than ``previous`` when there is a choice, weighted towards short queues."""
        candidates: list[int]
        if self._available is not None:
            candidates = [p for p in self._available(topic) if p < num_partitions]
            if not candidates:
                candidates = list(range(num_partitions))
        else:
            candidates = list(range(num_partitions))
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
