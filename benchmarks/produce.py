"""Produce scenario: N records of ``record_size`` bytes to a fresh ``partitions``-partition topic,
acks=all and idempotent, for each compression, each client and API; the clock runs from the first
send to the last delivery acknowledgement."""
from __future__ import annotations

from benchmarks.runner import Outcome
from benchmarks.schedule import FreshTopics, Plan, entries, run_on_fresh_topic
from benchmarks.settings import ProduceConfig
from benchmarks.topics import Topics


def run(plan: Plan, topics: Topics) -> list[Outcome]:
    outcomes: list[Outcome] = []
    for rep in range(plan.repeat):
        for compression in plan.compressions:
            # uvloop and the peers' own configurations are measured on the uncompressed runs only
            # (uvloop changes the loop, not the codec; the others cost time the budget lacks)
            scheduled = plan.scheduled(entries("produce", plan, with_uvloop=compression == "none",
                                               with_profiles=compression == "none"), rep, "produce")
            with FreshTopics(topics, "bench-produce", plan.partitions, len(scheduled)) as fresh:
                for entry in scheduled:
                    outcomes.append(run_on_fresh_topic(
                        plan, fresh, entry, scenario="produce", records=plan.records_for(entry.client, entry.api),
                        tag=compression, produce=ProduceConfig(compression_type=compression)))
    return outcomes
