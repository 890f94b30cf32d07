"""Produce scenario: N records of ``record_size`` bytes to a fresh ``partitions``-partition topic,
acks=all and idempotent, for each compression, each client and API; the clock runs from the first
send to the last delivery acknowledgement."""
from __future__ import annotations

from benchmarks.runner import Outcome, run_job
from benchmarks.schedule import Plan, entries, report_progress, rotated
from benchmarks.settings import Job, ProduceConfig
from benchmarks.topics import Topics


def run(plan: Plan, topics: Topics) -> list[Outcome]:
    outcomes: list[Outcome] = []
    for rep in range(plan.repeat):
        for compression in plan.compressions:
            # uvloop and the peers' own configurations are measured on the uncompressed runs only
            # (uvloop changes the loop, not the codec; the others cost time the budget lacks)
            for entry in rotated(entries("produce", plan, with_uvloop=compression == "none",
                                         with_profiles=compression == "none"), rep):
                topic = topics.create("bench-produce", plan.partitions)
                job = Job(client=entry.client, scenario="produce", api=entry.api, loop=entry.loop,
                          bootstrap=plan.bootstrap, topic=topic, records=plan.records_for(entry.client, entry.api),
                          record_size=plan.record_size, partitions=plan.partitions,
                          produce=ProduceConfig(compression_type=compression), timeout_s=plan.timeout_s,
                          profile=entry.profile)
                try:
                    outcome = run_job(job)
                finally:
                    topics.delete(topic)
                report_progress(plan, outcome, compression)
                outcomes.append(outcome)
    return outcomes
