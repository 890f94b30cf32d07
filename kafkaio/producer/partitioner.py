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
from bisect import bisect_left, bisect_right
from itertools import accumulate, repeat
from operator import sub
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

    ``available`` (optional) returns the partitions that currently have a leader, sorted;
    ``queue_sizes`` (optional) returns, per partition id, the number of batches waiting to be sent,
    or None when no partition has any, used for adaptive weighting
    (``partitioner.adaptive.partitioning.enable``).
    """

    __slots__ = ("_rng", "_available", "_queue_sizes", "_adaptive")

    def __init__(
        self,
        *,
        available: Callable[[str], Sequence[int]] | None = None,
        queue_sizes: Callable[[str, Sequence[int]], list[int] | None] | None = None,
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
        # No list is built per draw but the queue sizes, and those only while a queue of the
        # topic holds a batch: the candidates are the available partitions as given (sorted), and
        # the previous one is skipped by its index.
        candidates: Sequence[int] = range(num_partitions)
        if self._available is not None:
            available = self._available(topic)
            end = bisect_left(available, num_partitions)  # metadata newer than the count: beyond it
            if end:
                candidates = available if end == len(available) else available[:end]
        n = len(candidates)
        if not n:
            return -1
        skip = n  # the index of previous among the candidates, when Java would avoid it
        if n > 1:
            k = bisect_left(candidates, previous)
            if k < n and candidates[k] == previous:
                # Java avoids staying on the same partition when another is available.
                skip = k
                n -= 1
        sizes = None
        if self._adaptive and self._queue_sizes is not None and n > 1:
            sizes = self._queue_sizes(topic, candidates)
        if sizes is not None:  # None: equal weights, which draw as the uniform draw below does
            if skip < len(sizes):
                del sizes[skip]
            top = max(sizes) + 1
            # Weight each partition by (max queue + 1 - its queue): shorter queues are likelier;
            # the first whose cumulative weight exceeds the draw is chosen.
            cumulative = list(accumulate(map(sub, repeat(top, n), sizes)))
            i = bisect_right(cumulative, self._rng.randrange(cumulative[-1]))
        else:
            i = self._rng.randrange(n)
        return candidates[i + 1 if i >= skip else i]
