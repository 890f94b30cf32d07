"""The pre-filled topics: each (compression, records) filled once per suite run, the missing ones
at the same time, the group scenario reading the consume scenario's uncompressed topic."""
from __future__ import annotations

import threading

import pytest

from benchmarks import consume, group
from benchmarks.schedule import Plan


class _Topics:
    def __init__(self) -> None:
        self.deleted: list[str] = []

    def delete(self, name: str) -> None:
        self.deleted.append(name)


@pytest.fixture
def fills(monkeypatch: pytest.MonkeyPatch) -> tuple[consume.Fills, list, _Topics]:
    made: list[tuple[str, int]] = []
    lock = threading.Lock()
    barrier = threading.Barrier(2, timeout=10)

    def fake_fill(plan: Plan, topics: object, compression: str, records: int | None = None) -> tuple[str, int, str]:
        with lock:
            made.append((compression, records))
            first_two = len(made) <= 2
        if first_two:
            barrier.wait()  # the first two fills are under way together, or this times out
        return f"t-{compression}-{records}", records + 1, "filler"

    monkeypatch.setattr(consume, "fill", fake_fill)
    topics = _Topics()
    return consume.Fills(Plan(bootstrap="b", records=1000), topics), made, topics


def test_missing_topics_are_filled_together_and_only_once(fills) -> None:
    f, made, _ = fills
    got = f.get(("none", 1000), ("lz4", 1000))
    assert [g[0] for g in got] == ["t-none-1000", "t-lz4-1000"]
    assert f.get(("none", 1000)) == [("t-none-1000", 1001, "filler")]
    assert sorted(made) == [("lz4", 1000), ("none", 1000)]


def test_the_group_scenario_reads_the_consume_scenarios_uncompressed_topic(fills) -> None:
    f, made, topics = fills
    plan = Plan(bootstrap="b", records=1000)
    f.get(("none", 1000), ("lz4", 1000))
    assert group.topic_read(plan) == ("none", 1000)
    f.release(*[w for w in (("none", 1000), ("lz4", 1000)) if w not in (group.topic_read(plan),)])
    assert topics.deleted == ["t-lz4-1000"]
    assert f.get(group.topic_read(plan))[0][0] == "t-none-1000"
    assert len(made) == 2
    f.close()
    assert topics.deleted == ["t-lz4-1000", "t-none-1000"]


def test_a_failed_fill_keeps_the_others_for_close(monkeypatch: pytest.MonkeyPatch) -> None:
    def fake_fill(plan: Plan, topics: object, compression: str, records: int | None = None) -> tuple[str, int, str]:
        if compression == "lz4":
            raise RuntimeError("no client could fill")
        return f"t-{compression}", 1, "filler"

    monkeypatch.setattr(consume, "fill", fake_fill)
    topics = _Topics()
    f = consume.Fills(Plan(bootstrap="b"), topics)
    with pytest.raises(RuntimeError, match="no client could fill"):
        f.get(("none", 10), ("lz4", 10))
    f.close()
    assert topics.deleted == ["t-none"]
