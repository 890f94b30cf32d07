"""The 3-member group runs end when the group as a whole has read every partition to its end: each
member marks the partitions whose end it reached in a directory the members share, and stops when
all are marked; the clock runs to the moment the last partition's end was first reached."""
from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from benchmarks import group
from benchmarks.clients._common import MemberLog, consume_member_async
from benchmarks.runner import Outcome
from benchmarks.settings import Job


def _job(done_dir: Path, ends: tuple[int, ...] = (10, 20), client: str = "kafkaio") -> Job:
    return Job(client=client, scenario="group", api="getmany", bootstrap="b", topic="t", records=sum(ends),
               partitions=len(ends), members=3, group="g", ends=ends, done_dir=str(done_dir))


def test_the_group_is_done_when_its_members_together_reached_every_partitions_end(tmp_path: Path) -> None:
    one, two = MemberLog(_job(tmp_path)), MemberLog(_job(tmp_path))
    one.add(0, 5, 500, 4)
    two.add(1, 20, 2000, 19)
    assert not one.group_done() and not two.group_done()
    one.add(0, 5, 500, 9)
    assert one.group_done() and two.group_done()
    assert set(one.result()["end_walls"]) == {"0"} and set(two.result()["end_walls"]) == {"1"}


def test_a_member_reading_again_after_a_hand_over_keeps_the_first_time_it_reached_the_end(tmp_path: Path) -> None:
    log = MemberLog(_job(tmp_path))
    log.add(0, 10, 1000, 9)
    first = log.result()["end_walls"]["0"]
    log.add(0, 10, 1000, 9)
    assert log.result()["end_walls"]["0"] == first
    assert log.result()["records"] == 20


class _Consumer:
    """Hands out partition 0's 10 records in two batches, then nothing, forever."""

    def __init__(self) -> None:
        self.calls = 0
        self.batches: list[dict[Any, list[Any]]] = [
            {_TP(0): [_Rec(o) for o in range(5)]}, {_TP(0): [_Rec(o) for o in range(5, 10)]}]

    async def start(self) -> None:
        pass

    async def stop(self) -> None:
        pass

    def assignment(self) -> set[Any]:
        return {_TP(0)}

    async def getmany(self, timeout_ms: int, max_records: int) -> dict[Any, list[Any]]:
        self.calls += 1
        return self.batches.pop(0) if self.batches else {}


class _TP:
    def __init__(self, partition: int) -> None:
        self.partition = partition

    def __hash__(self) -> int:
        return self.partition

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _TP) and other.partition == self.partition


class _Rec:
    def __init__(self, offset: int) -> None:
        self.offset = offset
        self.value = b"x" * 100


def test_a_member_stops_as_soon_as_the_group_is_done_not_after_its_idle_wait(tmp_path: Path) -> None:
    # another member already read partition 1 to its end
    MemberLog(_job(tmp_path)).add(1, 20, 2000, 19)
    consumer = _Consumer()
    result = asyncio.run(consume_member_async(_job(tmp_path), lambda: consumer))
    assert result["records"] == 10
    # the two batches and no empty poll after them: the idle wait would poll until 5 s had passed
    assert consumer.calls == 2


def _member(end_walls: dict[str, float], records: int, first: float, last: float) -> Outcome:
    return Outcome(_job(Path("/nonexistent")), True, result={
        "records": records, "seconds": 0.0, "errors": 0, "first_wall": first, "last_wall": last,
        "max_offsets": {p: (9 if p == "0" else 19) for p in end_walls}, "end_walls": end_walls})


def test_the_clock_runs_to_the_moment_the_last_partitions_end_was_first_reached(tmp_path: Path) -> None:
    job = _job(tmp_path)
    members = [_member({"0": 102.0}, 10, 100.5, 104.0),          # re-read partition 0 after a hand-over
               _member({"0": 103.5, "1": 101.5}, 30, 100.4, 103.5),
               _member({}, 0, 0.0, 0.0)]
    members[2].result.update(first_wall=None, last_wall=None)
    outcome = group.summarise(job, members, launched=100.0)
    assert outcome.ok, outcome.error
    assert outcome.result["seconds"] == 2.0   # partition 0 first at 102.0, partition 1 at 101.5
    assert outcome.result["read"] == 40       # 10 records read twice, counted, not required
    assert outcome.result["first_record_s"] == pytest.approx(0.4)


def test_a_group_that_missed_a_partitions_end_fails(tmp_path: Path) -> None:
    job = _job(tmp_path)
    members = [_member({"0": 102.0}, 10, 100.5, 102.0)]
    members[0].result["max_offsets"]["1"] = 15
    outcome = group.summarise(job, members, launched=100.0)
    assert not outcome.ok
    assert "26 of 30 records" in (outcome.error or "")


def test_the_report_says_what_the_members_clock_measures_and_how_javas_row_differs() -> None:
    text = group.MEMBERS_PARAMETERS
    assert "until the group as a whole has reached every partition's end" in text
    assert "Java's ConsumerPerformance cannot stop that way" in text
