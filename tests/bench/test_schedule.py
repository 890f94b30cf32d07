"""Which runs get fewer records: the slowest paths, in the scenarios where that keeps their rate."""
from __future__ import annotations

import pytest

from benchmarks.schedule import Plan


def test_the_slow_paths_get_a_fraction_of_the_records() -> None:
    plan = Plan(bootstrap="b", records=1_000_000)
    assert plan.records_for("kafka-python", "send") == 100_000
    assert plan.records_for("kafka-python", "send().get()", 20_000) == 2_000
    assert plan.records_for("aiokafka", "send") == 250_000
    assert plan.records_for("aiokafka", "send_batch") == 1_000_000
    assert plan.records_for("kafkaio", "send") == 1_000_000


def test_confluent_consumer_reads_a_quarter_in_the_consume_scenario_only() -> None:
    plan = Plan(bootstrap="b", records=1_000_000)
    assert plan.records_for("confluent", "poll", 1_000_001, "consume") == 250_000
    assert plan.records_for("confluent", "consume", 1_000_001, "consume") == 250_000
    # the group scenario times the join too: fewer records would weigh it more
    assert plan.records_for("confluent", "consume", 1_000_001) == 1_000_001
    assert plan.records_for("confluent", "produce") == 1_000_000


def test_all_records_clears_every_reduction() -> None:
    plan = Plan(bootstrap="b", records=1_000_000, fewer_records={})
    assert plan.records_for("confluent", "poll", 1_000_001, "consume") == 1_000_001
    assert plan.records_for("kafka-python", "send") == 1_000_000


class _Topics:
    """Records what the helper asks of the cluster."""

    def __init__(self) -> None:
        self.calls: list[tuple] = []

    def create(self, prefix: str, partitions: int, replication_factor: int = 1,
               config: dict[str, str] | None = None) -> str:
        self.calls.append(("create", prefix, partitions, replication_factor, config))
        return f"{prefix}-1"

    def delete(self, name: str) -> None:
        self.calls.append(("delete", name))


def test_a_run_on_a_fresh_topic_creates_runs_with_the_extra_fields_and_deletes(monkeypatch) -> None:
    from benchmarks import schedule
    from benchmarks.runner import Outcome
    from benchmarks.settings import Job, ProduceConfig

    ran: list[Job] = []

    def fake_run(job: Job) -> Outcome:
        ran.append(job)
        return Outcome(job, True, result={"records": job.records, "seconds": 1.0})

    monkeypatch.setattr(schedule, "run_job", fake_run)
    topics = _Topics()
    plan = Plan(bootstrap="b", partitions=6, timeout_s=7.0)
    entry = schedule.Entry("kafkaio", "send", "uvloop")
    outcome = schedule.run_on_fresh_topic(
        plan, topics, entry, scenario="produce", records=10, tag="x", topic_prefix="bench-t",
        replication_factor=3, topic_config={"min.insync.replicas": "2"}, record_size=1024, replicas=3,
        produce=ProduceConfig(linger_ms=0))
    assert outcome.ok
    assert topics.calls == [("create", "bench-t", 6, 3, {"min.insync.replicas": "2"}), ("delete", "bench-t-1")]
    (job,) = ran
    assert (job.client, job.api, job.loop, job.topic, job.records, job.record_size, job.replicas, job.timeout_s) == (
        "kafkaio", "send", "uvloop", "bench-t-1", 10, 1024, 3, 7.0)
    assert job.produce.linger_ms == 0


def test_a_failing_run_still_deletes_its_topic(monkeypatch) -> None:
    from benchmarks import schedule

    def boom(job: object) -> None:
        raise RuntimeError("harness broke")

    monkeypatch.setattr(schedule, "run_job", boom)
    topics = _Topics()
    with pytest.raises(RuntimeError, match="harness broke"):
        schedule.run_on_fresh_topic(Plan(bootstrap="b"), topics, schedule.Entry("kafkaio", "send"),
                                    scenario="produce", records=1, tag="", topic_prefix="bench-t")
    assert topics.calls[-1] == ("delete", "bench-t-1")


def test_aiokafka_sends_half_the_latency_scenarios_round_trips_the_targets_all() -> None:
    plan = Plan(bootstrap="b", latency_records=20_000)
    assert plan.records_for("aiokafka", "send_and_wait", 20_000, "latency") == 10_000
    for client, api in (("kafkaio", "send_and_wait"), ("confluent", "produce+flush"),
                        ("floor", "bare Protocol round trip")):
        assert plan.records_for(client, api, 20_000, "latency") == 20_000
    # the replicated scenario's few sends are not halved
    assert plan.records_for("aiokafka", "send_and_wait", 5_000) == 5_000
