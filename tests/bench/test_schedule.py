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


class _BatchTopics(_Topics):
    """Also records the batched calls: one create for a list of runs, one delete after them."""

    def create_many(self, prefix: str, partitions: int, count: int, replication_factor: int = 1,
                    config: dict[str, str] | None = None) -> list[str]:
        self.calls.append(("create_many", prefix, partitions, count, replication_factor, config))
        return [f"{prefix}-{i}" for i in range(count)]

    def delete_many(self, names: list[str]) -> None:
        self.calls.append(("delete_many", list(names)))


def test_a_run_on_a_fresh_topic_runs_with_the_extra_fields(monkeypatch) -> None:
    from benchmarks import schedule
    from benchmarks.runner import Outcome
    from benchmarks.settings import Job, ProduceConfig

    ran: list[Job] = []

    def fake_run(job: Job) -> Outcome:
        ran.append(job)
        return Outcome(job, True, result={"records": job.records, "seconds": 1.0})

    monkeypatch.setattr(schedule, "run_job", fake_run)
    topics = _BatchTopics()
    plan = Plan(bootstrap="b", partitions=6, timeout_s=7.0)
    entry = schedule.Entry("kafkaio", "send", "uvloop")
    with schedule.FreshTopics(topics, "bench-t", 6, 1, replication_factor=3,
                              config={"min.insync.replicas": "2"}) as fresh:
        outcome = schedule.run_on_fresh_topic(
            plan, fresh, entry, scenario="produce", records=10, tag="x", record_size=1024, replicas=3,
            produce=ProduceConfig(linger_ms=0))
    assert outcome.ok
    assert topics.calls == [("create_many", "bench-t", 6, 1, 3, {"min.insync.replicas": "2"}),
                            ("delete_many", ["bench-t-0"])]
    (job,) = ran
    assert (job.client, job.api, job.loop, job.topic, job.records, job.record_size, job.replicas, job.timeout_s,
            job.partitions) == ("kafkaio", "send", "uvloop", "bench-t-0", 10, 1024, 3, 7.0, 6)
    assert job.produce.linger_ms == 0


def test_every_client_sends_the_latency_scenarios_10_000_kafka_python_2_000() -> None:
    plan = Plan(bootstrap="b")
    assert plan.latency_records == 10_000
    for client, api in (("kafkaio", "send_and_wait"), ("aiokafka", "send_and_wait"),
                        ("confluent", "produce+flush"), ("floor", "bare Protocol round trip")):
        assert plan.records_for(client, api, plan.latency_records, "latency") == 10_000
    # kafka-python keeps the 2,000 sends it had, a tenth of the latency scenario's 20,000 before
    assert plan.records_for("kafka-python", "send().get()", plan.latency_records, "latency") == 2_000
    # the replicated scenario's few sends are not divided
    assert plan.records_for("aiokafka", "send_and_wait", 5_000) == 5_000


def test_rows_no_target_reads_get_two_of_three_repetitions() -> None:
    plan = Plan(bootstrap="b", repeat=3)
    for client, api, scenario in (("aiokafka", "send_batch", "produce"), ("confluent", "produce_batch", "produce"),
                                  ("java", "ProducerPerformance", "produce"), ("kafka-python", "send", "produce"),
                                  ("aiokafka", "getmany", "consume"), ("confluent", "consume", "consume"),
                                  ("java", "ConsumerPerformance", "consume"), ("kafka-python", "poll", "consume"),
                                  ("confluent", "consume (consumer protocol)", "group"),
                                  ("java", "ConsumerPerformance (consumer protocol)", "group-members")):
        assert plan.repeats_for(client, api, scenario) == 2, (client, api, scenario)
    # what the targets read, and kafkaio itself, keep all three
    for client, api, scenario in (("aiokafka", "send", "produce"), ("confluent", "produce", "produce"),
                                  ("java", "ProducerPerformance warm", "produce"), ("franz-go", "Produce", "produce"),
                                  ("aiokafka", "async-for", "consume"), ("confluent", "poll", "consume"),
                                  ("java", "ConsumerPerformance warm", "consume"), ("franz-go", "PollRecords", "consume"),
                                  ("kafkaio", "getmany", "group-members"), ("kafkaio", "send", "produce"),
                                  ("confluent", "produce+flush", "latency")):
        assert plan.repeats_for(client, api, scenario) == 3, (client, api, scenario)
    assert Plan(bootstrap="b", repeat=1).repeats_for("aiokafka", "send_batch", "produce") == 1
    assert Plan(bootstrap="b", fewer_repeats={}).repeats_for("aiokafka", "send_batch", "produce") == 3


def test_the_third_repetition_leaves_out_the_entries_that_had_theirs() -> None:
    from benchmarks.schedule import Entry, rotated

    plan = Plan(bootstrap="b", repeat=3)
    items = [Entry("kafkaio", "send"), Entry("aiokafka", "send_batch"), Entry("confluent", "produce")]
    for rep in (0, 1):
        assert plan.scheduled(items, rep, "produce") == rotated(items, rep)
    assert plan.scheduled(items, 2, "produce") == [e for e in rotated(items, 2) if e.client != "aiokafka"]


def test_the_report_lists_the_rows_with_fewer_repetitions() -> None:
    from benchmarks.aggregate import group
    from benchmarks.report import Report, render
    from benchmarks.runner import Outcome
    from benchmarks.settings import Job

    def run(client: str, api: str) -> Outcome:
        job = Job(client=client, scenario="produce", api=api, bootstrap="b", topic="t", records=1000)
        return Outcome(job, True, result={"records": 1000, "seconds": 0.01}, maxrss_kb=1024)

    outcomes = [run("kafkaio", "send")] * 3 + [run("aiokafka", "send_batch")] * 2
    text = render(Report(command="c", date="d", duration_s=1.0, machine={}, broker="b", kafka_version="4.4.0",
                         records=1000, latency_records=100, repeat=3, record_size=100, partitions=6,
                         rows=group(outcomes)))
    assert "fewer repetitions for the rows no target reads" in text
    assert "  - produce none: aiokafka send_batch 2" in text
    assert "kafkaio send 3" not in text


def test_the_replicated_scenarios_peers_get_two_repetitions_kafkaio_three() -> None:
    plan = Plan(bootstrap="b", repeat=3)
    for client, api in (("aiokafka", "send"), ("confluent", "produce+flush"), ("java", "ProducerPerformance warm"),
                        ("franz-go", "Produce")):
        assert plan.repeats_for(client, api, "replicated") == 2
    assert plan.repeats_for("kafkaio", "send_and_wait", "replicated") == 3
    # the single-broker produce table's target peers are not affected
    assert plan.repeats_for("franz-go", "Produce", "produce") == 3


def test_the_report_names_the_3_broker_rows_with_fewer_repetitions_apart() -> None:
    from benchmarks.aggregate import group
    from benchmarks.report import _fewer_runs
    from benchmarks.runner import Outcome
    from benchmarks.settings import Job

    def run(replicas: int) -> Outcome:
        job = Job(client="confluent", scenario="produce", api="produce", bootstrap="b", topic="t", records=1000,
                  replicas=replicas)
        return Outcome(job, True, result={"records": 1000, "seconds": 0.01})

    assert _fewer_runs(group([run(3)] * 2 + [run(1)] * 3), 3) == ["produce none, 3 brokers: confluent produce 2"]


def test_fresh_topics_are_made_in_one_call_before_the_runs_and_deleted_in_one_after(monkeypatch) -> None:
    from benchmarks import schedule
    from benchmarks.runner import Outcome
    from benchmarks.settings import Job

    topics = _BatchTopics()

    def fake_run(job: Job) -> Outcome:
        topics.calls.append(("run", job.topic))
        return Outcome(job, True, result={"records": job.records, "seconds": 1.0})

    monkeypatch.setattr(schedule, "run_job", fake_run)
    plan = Plan(bootstrap="b", partitions=6)
    with schedule.FreshTopics(topics, "bench-t", 6, 3, replication_factor=3, config={"a": "1"}) as fresh:
        for api in ("send", "send_many", "send"):
            schedule.run_on_fresh_topic(plan, fresh, schedule.Entry("kafkaio", api), scenario="produce",
                                        records=1, tag="")
    assert topics.calls == [("create_many", "bench-t", 6, 3, 3, {"a": "1"}),
                            ("run", "bench-t-0"), ("run", "bench-t-1"), ("run", "bench-t-2"),
                            ("delete_many", ["bench-t-0", "bench-t-1", "bench-t-2"])]


def test_fresh_topics_give_no_topic_twice_and_are_deleted_when_a_run_fails(monkeypatch) -> None:
    from benchmarks import schedule

    def boom(job: object) -> None:
        raise RuntimeError("harness broke")

    monkeypatch.setattr(schedule, "run_job", boom)
    topics = _BatchTopics()
    with pytest.raises(RuntimeError, match="harness broke"):
        with schedule.FreshTopics(topics, "bench-t", 6, 2) as fresh:
            schedule.run_on_fresh_topic(Plan(bootstrap="b"), fresh, schedule.Entry("kafkaio", "send"),
                                        scenario="produce", records=1, tag="")
    assert topics.calls[-1] == ("delete_many", ["bench-t-0", "bench-t-1"])
    with schedule.FreshTopics(topics, "bench-t", 6, 1) as fresh:
        fresh.take()
        with pytest.raises(RuntimeError, match="no fresh topic left"):
            fresh.take()
