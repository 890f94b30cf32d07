"""Which runs get fewer records: the slowest paths, in the scenarios where that keeps their rate."""
from __future__ import annotations

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
