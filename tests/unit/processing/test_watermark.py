"""The completed watermark against a model, over every completion order of small offset sets
(with gaps and skipped offsets), and the commit metadata round trip."""
from __future__ import annotations

import itertools
import random

import pytest

from kafkaio.processing import commit_metadata
from kafkaio.processing.watermark import PartitionWatermark


def model_watermark(handed: list[int], done: set[int]) -> int | None:
    if not handed:
        return None
    for o in handed:
        if o not in done:
            return o
    return handed[-1] + 1


@pytest.mark.parametrize("offsets", [[0, 1, 2, 3], [5, 7, 8, 12], [3]])
def test_every_completion_order(offsets: list[int]) -> None:
    for order in itertools.permutations(offsets):
        wm = PartitionWatermark()
        for o in offsets:
            assert wm.hand_out(o)
        done: set[int] = set()
        assert wm.watermark == offsets[0]
        for o in order:
            wm.done(o)
            done.add(o)
            assert wm.watermark == model_watermark(offsets, done)
            assert wm.done_above() == sorted(x for x in done if x > wm.watermark)  # type: ignore[operator]
            assert wm.in_flight == len(offsets) - len(done)


def test_random_interleavings_with_skips() -> None:
    rng = random.Random(7)
    for _ in range(300):
        offsets = sorted(rng.sample(range(60), rng.randint(1, 25)))
        skip = {o for o in offsets if rng.random() < 0.2}
        wm = PartitionWatermark(skip)
        handed: list[int] = []
        done: set[int] = set()
        pending: list[int] = []
        it = iter(offsets)
        while True:
            if pending and (rng.random() < 0.5 or len(handed) == len(offsets)):
                o = pending.pop(rng.randrange(len(pending)))
                wm.done(o)
                done.add(o)
            elif len(handed) < len(offsets):
                o = next(it)
                handed.append(o)
                if wm.hand_out(o):
                    pending.append(o)
                else:
                    assert o in skip
                    done.add(o)
            else:
                break
            assert wm.watermark == model_watermark(handed, done)
            w = wm.watermark
            assert w is not None
            assert wm.done_above() == sorted(x for x in done if x > w)
        assert wm.watermark == offsets[-1] + 1


def test_offsets_must_ascend_and_done_only_once() -> None:
    wm = PartitionWatermark()
    wm.hand_out(5)
    with pytest.raises(ValueError):
        wm.hand_out(5)
    wm.done(5)
    with pytest.raises(ValueError):
        wm.done(5)
    assert wm.watermark == 6


def test_nothing_handed_out_has_no_watermark() -> None:
    assert PartitionWatermark().watermark is None


def test_metadata_round_trip() -> None:
    rng = random.Random(3)
    for _ in range(200):
        base = rng.randint(0, 10**9)
        done = sorted({base + rng.randint(1, 5000) for _ in range(rng.randint(0, 300))})
        text = commit_metadata.encode(base, done)
        assert commit_metadata.decode(text, base) == frozenset(done)


def test_metadata_truncated_to_a_prefix_that_fits() -> None:
    done = list(range(2, 20000, 2))    # no runs: the worst case
    text = commit_metadata.encode(0, done, max_bytes=500)
    assert len(text) <= 500
    got = commit_metadata.decode(text, 0)
    assert got and got == frozenset(done[:len(got)])


def test_metadata_for_another_offset_or_format_is_ignored() -> None:
    text = commit_metadata.encode(100, [102, 103])
    assert commit_metadata.decode(text, 101) == frozenset()
    assert commit_metadata.decode("someone else's", 100) == frozenset()
    assert commit_metadata.decode("kio1:100:zz+", 100) == frozenset()


def test_preview_done_is_what_done_gives() -> None:
    rng = random.Random(23)
    for _ in range(300):
        offsets = sorted(rng.sample(range(40), rng.randint(1, 15)))
        wm = PartitionWatermark()
        for o in offsets:
            wm.hand_out(o)
        pending = list(offsets)
        rng.shuffle(pending)
        for o in pending:
            preview = wm.preview_done(o)
            wm.done(o)
            assert preview == (wm.watermark, wm.done_above())
    with pytest.raises(ValueError):
        PartitionWatermark().preview_done(1)
