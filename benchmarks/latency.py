"""Latency scenario: ``send_and_wait`` (or each client's equivalent) one record at a time with
linger 0, acks=all and idempotent; p50/p99/p999 over ``latency_records`` sends."""
from __future__ import annotations

from benchmarks.runner import Outcome, run_job
from benchmarks.schedule import Plan, entries, report_progress, rotated
from benchmarks.settings import Job, ProduceConfig
from benchmarks.topics import Topics


def run(plan: Plan, topics: Topics) -> list[Outcome]:
    outcomes: list[Outcome] = []
    for rep in range(plan.repeat):
        for entry in rotated(entries("latency", plan, with_uvloop=True), rep):
            topic = topics.create("bench-latency", plan.partitions)
            job = Job(client=entry.client, scenario="latency", api=entry.api, loop=entry.loop,
                      bootstrap=plan.bootstrap, topic=topic,
                      records=plan.records_for(entry.client, entry.api, plan.latency_records),
                      record_size=plan.record_size, partitions=plan.partitions,
                      produce=ProduceConfig(linger_ms=0), timeout_s=plan.timeout_s)
            try:
                outcome = run_job(job)
            finally:
                topics.delete(topic)
            report_progress(plan, outcome)
            outcomes.append(outcome)
    return outcomes
