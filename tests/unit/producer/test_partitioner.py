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


def test_choose_leaves_the_previous_partition_when_it_can() -> None:
    p = StickyPartitioner(rng=random.Random(1))
    assert all(p.choose("t", 6, 2) != 2 for _ in range(200))
    assert p.choose("t", 1, 0) == 0  # the only partition


def test_choose_spreads_uniformly() -> None:
    p = StickyPartitioner(rng=random.Random(7))
    counts: Counter[int] = Counter()
    previous = -1
    for _ in range(6000):
        previous = p.choose("t", 6, previous)
        counts[previous] += 1
    assert set(counts) == set(range(6))
    assert min(counts.values()) > 700  # 1000 each on average


def test_choose_prefers_available_partitions() -> None:
    p = StickyPartitioner(available=lambda topic: [1, 4, 7], rng=random.Random(3))
    # 7 is beyond the partition count given (metadata newer than the count): never chosen
    assert {p.choose("t", 6, -1) for _ in range(200)} == {1, 4}


def test_choose_takes_any_partition_when_none_has_a_leader() -> None:
    p = StickyPartitioner(available=lambda topic: [], rng=random.Random(3))
    assert {p.choose("t", 3, -1) for _ in range(200)} == {0, 1, 2}


def test_adaptive_weighting_favours_short_queues() -> None:
    queues = {0: 50, 1: 0, 2: 50}
    p = StickyPartitioner(
        queue_sizes=lambda topic, parts: [queues[x] for x in parts],
        rng=random.Random(5),
    )
    counts: Counter[int] = Counter(p.choose("t", 3, -1) for _ in range(3000))
    # weights are (max queue + 1 - queue): 1, 51, 1
    assert counts[1] > 10 * (counts[0] + counts[2])
    assert counts[0] + counts[2] > 0


def _reference_choose(rng: random.Random, available: list[int] | None, queues: list[int] | None,
                      num_partitions: int, previous: int) -> int:
    """The draw as first written (lists built per call): the distribution choose() must keep."""
    if available is not None:
        candidates = [p for p in available if p < num_partitions] or list(range(num_partitions))
    else:
        candidates = list(range(num_partitions))
    if not candidates:
        return -1
    if len(candidates) > 1 and previous in candidates:
        candidates = [p for p in candidates if p != previous]
    if queues is not None and len(candidates) > 1:
        top = max(queues[p] for p in candidates) + 1
        weights = [top - queues[p] for p in candidates]
        r = rng.randrange(sum(weights))
        acc = 0
        for p, w in zip(candidates, weights):
            acc += w
            if r < acc:
                return p
    return candidates[rng.randrange(len(candidates))]


@pytest.mark.parametrize("seed", range(8))
def test_choose_draws_as_the_reference_draw_for_the_same_seed(seed: int) -> None:
    """The same choices, in the same order, as the list-building draw for the same seeded rng:
    with and without available partitions (some beyond the count), adaptive or not."""
    setup = random.Random(seed)
    for _ in range(60):
        n = setup.choice([0, 1, 2, 5, 40, 1000])
        available = None if setup.random() < 0.3 else sorted(setup.sample(range(n + 3), setup.randrange(n + 3)))
        queues = None if setup.random() < 0.3 else [setup.choice([0, 0, 0, 1, 2, 9]) for _ in range(n + 3)]
        draw_seed = setup.randrange(1 << 30)
        p = StickyPartitioner(available=None if available is None else (lambda topic, a=available: a),
                              queue_sizes=None if queues is None else (
                                  lambda topic, ps, q=queues: [q[x] for x in ps] if any(q[x] for x in ps) else None),
                              rng=random.Random(draw_seed))
        reference = random.Random(draw_seed)
        previous = setup.choice([-1, 0, n - 1, n // 2])
        for _ in range(30):
            want = _reference_choose(reference, available, queues, n, previous)
            got = p.choose("t", n, previous)
            assert got == want, (n, available, previous)
            previous = got
