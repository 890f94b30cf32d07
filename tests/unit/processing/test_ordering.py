"""KeyedQueue: at most one item per key at a time, in submission order, under max_in_flight;
backpressure pauses the partitions ahead when full and resumes below half."""
from __future__ import annotations

import random

from kafkaio.processing.backpressure import Backpressure
from kafkaio.processing.ordering import KeyedQueue, Ordering, ordering_key
from kafkaio.structs import TopicPartition

TP0, TP1 = TopicPartition("t", 0), TopicPartition("t", 1)


def test_random_schedule_keeps_key_order_and_bound() -> None:
    rng = random.Random(11)
    q: KeyedQueue[tuple[str, int]] = KeyedQueue(max_in_flight=5)
    submitted: dict[str, int] = {}
    started: dict[str, list[int]] = {}
    running: list[tuple[str, tuple[str, int]]] = []
    for step in range(5000):
        if rng.random() < 0.5:
            k = f"k{rng.randrange(8)}"
            n = submitted.get(k, 0)
            submitted[k] = n + 1
            q.submit(k, (k, n))
        while (item := q.take()) is not None:
            key, (k, n) = item  # type: ignore[misc]
            assert key == k and all(r[0] != k for r in running), "two items of one key at once"
            started.setdefault(k, []).append(n)
            running.append((k, (k, n)))
        assert len(running) <= 5 and q.running == len(running)
        if running and rng.random() < 0.6:
            k, _ = running.pop(rng.randrange(len(running)))
            q.finish(k)
    for k, seq in started.items():
        assert seq == list(range(len(seq))), f"{k} out of order"


def test_remove_releases_keys() -> None:
    q: KeyedQueue[tuple[TopicPartition, int]] = KeyedQueue(max_in_flight=1)
    q.submit("a", (TP0, 1))
    q.submit("a", (TP0, 2))
    q.submit("b", (TP1, 3))
    assert q.take() == ("a", (TP0, 1))
    assert q.remove(lambda w: w[0] == TP1) == [(TP1, 3)]
    q.submit("b", (TP1, 4))           # b was released: ready again at once
    q.finish("a")
    assert q.take() == ("b", (TP1, 4))
    assert q.take() is None                 # max_in_flight 1
    q.finish("b")
    assert q.take() == ("a", (TP0, 2))
    assert len(q) == 0


def test_ordering_keys() -> None:
    assert ordering_key(Ordering.PARTITION, TP0, b"k", 1) == ordering_key(Ordering.PARTITION, TP0, b"j", 2)
    assert ordering_key(Ordering.KEY, TP0, b"k", 1) == ordering_key(Ordering.KEY, TP0, b"k", 2)
    assert ordering_key(Ordering.KEY, TP0, b"k", 1) != ordering_key(Ordering.KEY, TP0, b"j", 2)
    assert ordering_key(Ordering.KEY, TP0, None, 1) != ordering_key(Ordering.KEY, TP0, None, 2)
    assert ordering_key(Ordering.NONE, TP0, b"k", 1) != ordering_key(Ordering.NONE, TP0, b"k", 2)


def test_backpressure_pauses_a_partition_at_its_share_and_resumes_at_half() -> None:
    bp = Backpressure(max_records=8, max_bytes=10**6)
    both = {TP0, TP1}
    for _ in range(3):
        bp.add(TP0, 10)
    assert bp.update(both) == (set(), set())
    bp.add(TP0, 10)                          # TP0 holds its share (4 of 8): ahead
    assert bp.update(both) == ({TP0}, set())
    assert bp.room() == 4                    # TP1 may still take the rest
    bp.remove(TP0, 10)
    assert bp.update(both) == (set(), set())  # above half its share: stays paused
    bp.remove(TP0, 10)
    assert bp.update(both) == (set(), {TP0})
    bp.add(TP1, 10**6 // 2)                  # bytes: TP1 holds its share of them
    assert bp.update(both) == ({TP1}, set())
    assert bp.update({TP0}) == (set(), set())  # TP1 no longer assigned: not decided here
    for _ in range(20):
        bp.add(TP0, 1)
    assert bp.room() == 1                    # never 0: polling goes on
