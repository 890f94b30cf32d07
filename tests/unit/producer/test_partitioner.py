"""The partitioner places records exactly where the Java client would."""
from __future__ import annotations

import random
from collections import Counter

import pytest

from kafkaio.producer.partitioner import StickyPartitioner, murmur2, partition_for_key, to_positive

# Apache Kafka's UtilsTest.testMurmur2 vectors: Java's results for these inputs.
JAVA_VECTORS = [
    (b"21", -973932308),
    (b"foobar", -790332482),
    (b"a-little-bit-long-string", -985981536),
    (b"a-little-bit-longer-string", -1486304829),
    (b"lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8", -58897971),
    (b"abc", 479470107),
]


@pytest.mark.parametrize("data,expected", JAVA_VECTORS)
def test_murmur2_matches_java(data: bytes, expected: int) -> None:
    assert murmur2(data) == expected


def test_to_positive_masks_the_sign_bit_like_java() -> None:
    assert to_positive(-1) == 0x7FFFFFFF
    assert to_positive(-(2**31)) == 0  # abs() would give 2**31; Java's toPositive gives 0
    assert to_positive(5) == 5


def test_keyed_partition_is_to_positive_murmur2_mod_n() -> None:
    # "21" hashes negative: masking (not abs) decides the partition
    assert partition_for_key(b"21", 6) == (-973932308 & 0x7FFFFFFF) % 6
    assert partition_for_key(b"21", 6) != abs(-973932308) % 6
    for data, h in JAVA_VECTORS:
        for n in (1, 3, 7, 12):
            assert partition_for_key(data, n) == (h & 0x7FFFFFFF) % n


def test_empty_key_is_hashed_not_treated_as_null() -> None:
    assert murmur2(b"") == murmur2(bytes())
    assert 0 <= partition_for_key(b"", 5) < 5


def test_sticky_stays_on_one_partition_until_batch_size_bytes() -> None:
    p = StickyPartitioner(batch_size=1000, rng=random.Random(1))
    first = p.partition("t", 6)
    for _ in range(9):
        assert p.partition("t", 6) == first
        p.on_append("t", first, 100)
    assert p.partition("t", 6) == first  # 900 bytes so far
    p.on_append("t", first, 100)  # 1000: switch
    second = p.partition("t", 6)
    assert second != first


def test_move_on_leaves_a_full_sticky_partition_once() -> None:
    p = StickyPartitioner(batch_size=1000, rng=random.Random(3))
    first = p.partition("t", 6)
    p.on_append("t", first, 300)
    second = p.move_on("t", 6, first)  # first's open batch is full: a new partition, count restarts
    assert second != first
    assert p.partition("t", 6) == second
    # a second record that found the same full batch (the sticky partition already moved) stays put
    assert p.move_on("t", 6, first) == second
    for _ in range(9):
        p.on_append("t", second, 100)
    assert p.partition("t", 6) == second  # 900 bytes since the move: not yet batch_size


def test_sticky_spreads_uniformly_over_time() -> None:
    p = StickyPartitioner(batch_size=100, rng=random.Random(7))
    counts: Counter[int] = Counter()
    for _ in range(6000):
        part = p.partition("t", 6)
        counts[part] += 1
        p.on_append("t", part, 100)
    assert set(counts) == set(range(6))
    assert min(counts.values()) > 700  # 1000 each on average


def test_sticky_prefers_available_partitions() -> None:
    p = StickyPartitioner(batch_size=10, available=lambda topic: [1, 4], rng=random.Random(3))
    seen = set()
    for _ in range(200):
        part = p.partition("t", 6)
        seen.add(part)
        p.on_append("t", part, 10)
    assert seen == {1, 4}


def test_adaptive_weighting_favours_short_queues() -> None:
    queues = {0: 50, 1: 0, 2: 50}
    p = StickyPartitioner(
        batch_size=1,
        queue_sizes=lambda topic, parts: [queues[x] for x in parts],
        rng=random.Random(5),
    )
    counts: Counter[int] = Counter()
    for _ in range(3000):
        p.reset("t")
        counts[p.partition("t", 3)] += 1
    # weights are (max queue + 1 - queue): 1, 51, 1
    assert counts[1] > 10 * (counts[0] + counts[2])
    assert counts[0] + counts[2] > 0


def test_partition_count_shrinking_resets_choice() -> None:
    p = StickyPartitioner(batch_size=10**6, rng=random.Random(2))
    for _ in range(20):
        p.reset("t")
        part = p.partition("t", 6)
        if part >= 3:
            break
    assert p.partition("t", 3) < 3
