"""What `python -m benchmarks --quick` leaves out to fit its 3-minute budget, and that the report says so."""
from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from benchmarks import processing
from benchmarks.settings import Job


class _Topics:
    def __init__(self) -> None:
        self.made: list[str] = []

    def create(self, prefix: str, partitions: int) -> str:
        self.made.append(prefix)
        return prefix

    def delete(self, name: str) -> None:
        pass


def _measure(monkeypatch: pytest.MonkeyPatch, quick: bool) -> list[dict[str, Any]]:
    def child(mode: str, cfg: dict[str, Any], timeout_s: float) -> dict[str, Any]:
        return {} if mode == "fill" else {"rate": 1.0, "most_running": 1, "p99_ms": 1.0, "latency_records": 1}

    monkeypatch.setattr(processing, "_child", child)
    rows, error = processing.run("b:9092", _Topics(), quick)  # type: ignore[arg-type]
    assert error is None
    return rows


def test_quick_processing_measures_the_first_key_count_only(monkeypatch: pytest.MonkeyPatch) -> None:
    quick = _measure(monkeypatch, quick=True)
    assert {r["keys"] for r in quick} == {processing.KEY_COUNTS[0]}
    assert len(quick) == len(processing.RUNS)
    full = _measure(monkeypatch, quick=False)
    assert {r["keys"] for r in full} == set(processing.KEY_COUNTS)


def test_the_processing_parameters_say_what_quick_leaves_out() -> None:
    assert f"the {processing.KEY_COUNTS[0]:,}-key topic only with `--quick`" in processing.PARAMETERS


class _Fills:
    def get(self, *wanted: tuple[str, int]) -> list[tuple[str, int, str]]:
        return [("t", 600, "confluent produce_batch")]

    def release(self, *done: tuple[str, int]) -> None:
        pass


def _members_clients(monkeypatch: pytest.MonkeyPatch, quick: bool) -> list[str]:
    from benchmarks import group
    from benchmarks.runner import Outcome
    from benchmarks.schedule import Plan

    ran: list[str] = []

    def members_run(plan: Plan, client: str, api: str, *rest: object) -> Outcome:
        ran.append(client)
        job = Job(client=client, scenario="group-members", api=api, bootstrap="b", topic="t", records=600)
        return Outcome(job, True, result={"records": 600, "seconds": 1.0})

    def run_job(job: Job) -> Outcome:
        return Outcome(job, True, result={"records": job.records, "seconds": 1.0})

    monkeypatch.setattr(group, "_members_run", members_run)
    monkeypatch.setattr(group, "run_job", run_job)
    monkeypatch.setattr(group, "report_progress", lambda *a: None)
    topics = SimpleNamespace(ends=lambda topic: [100] * 6)
    plan = Plan(bootstrap="b", records=600, repeat=1, clients=["kafkaio", "aiokafka", "confluent", "java"])
    group.run(plan, _Fills(), topics, quick)  # type: ignore[arg-type]
    return ran


def test_quick_group_members_leave_java_out(monkeypatch: pytest.MonkeyPatch) -> None:
    # Java's members read until they have had no record for MEMBER_IDLE_S: ~7 s a run, 15 s of --quick
    assert "java" in _members_clients(monkeypatch, quick=False)
    quick = _members_clients(monkeypatch, quick=True)
    assert quick and "java" not in quick


def test_the_members_parameters_say_what_quick_leaves_out() -> None:
    from benchmarks import group

    assert "not run with `--quick`" in group.MEMBERS_PARAMETERS
