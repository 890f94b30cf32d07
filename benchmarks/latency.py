"""Latency scenario: ``send_and_wait`` (or each client's equivalent) one record at a time with
linger 0, acks=all and idempotent; p50/p99/p999 over ``latency_records`` sends."""
from __future__ import annotations

from benchmarks.runner import Outcome
from benchmarks.schedule import FreshTopics, Plan, entries, rotated, run_on_fresh_topic
from benchmarks.settings import ProduceConfig
from benchmarks.topics import Topics


def run(plan: Plan, topics: Topics) -> list[Outcome]:
    outcomes: list[Outcome] = []
    for rep in range(plan.repeat):
        order = rotated(entries("latency", plan, with_uvloop=True), rep)
        with FreshTopics(topics, "bench-latency", plan.partitions, len(order)) as fresh:
            for entry in order:
                outcomes.append(run_on_fresh_topic(
                    plan, fresh, entry, scenario="latency", tag="",
                    records=plan.records_for(entry.client, entry.api, plan.latency_records, "latency"),
                    produce=ProduceConfig(linger_ms=0)))
    return outcomes
