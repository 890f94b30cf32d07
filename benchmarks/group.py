"""Consumer-group scenario: read a pre-filled topic through a consumer group of its own, the
join inside the clock: the clock starts before the consumer is made and runs to the N-th record
handed to the application; the time to the first record is reported beside the rate."""
from __future__ import annotations

import statistics

from benchmarks.aggregate import Row
from benchmarks.consume import _check, fill
from benchmarks.runner import Outcome, run_job
from benchmarks.schedule import Plan, entries, report_progress, rotated
from benchmarks.settings import ConsumeConfig, Job, ProduceConfig
from benchmarks.topics import Topics

PARAMETERS = ("each run a new group subscribing to a 6-partition topic filled like the consume "
              "scenario's (compression none), reading from the beginning with the shared consumer "
              "settings and the batch API; the clock starts before the consumer is made, so the join "
              "is in the rate; the classic group protocol, and for kafkaio and confluent-kafka also "
              "KIP-848's consumer group protocol (the rows marked consumer protocol; aiokafka has none)")


def run(plan: Plan, topics: Topics) -> tuple[list[Outcome], str]:
    """The outcomes, and which client filled the topic."""
    topic, count, filler = fill(plan, topics, "none")
    outcomes: list[Outcome] = []
    try:
        # The first group on a broker creates __consumer_offsets (a second or more): one untimed
        # join first, so that no client's first run pays for it.
        first = entries("group", plan, with_uvloop=False)[0]
        run_job(Job(client=first.client, scenario="group", api=first.api, bootstrap=plan.bootstrap, topic=topic,
                    records=min(1000, count), record_size=plan.record_size, partitions=plan.partitions,
                    produce=ProduceConfig(), consume=ConsumeConfig(), timeout_s=plan.timeout_s))
        for rep in range(plan.repeat):
            for entry in rotated(entries("group", plan, with_uvloop=False), rep):
                job = Job(client=entry.client, scenario="group", api=entry.api, bootstrap=plan.bootstrap,
                          topic=topic, records=plan.records_for(entry.client, entry.api, count),
                          record_size=plan.record_size, partitions=plan.partitions,
                          produce=ProduceConfig(), consume=ConsumeConfig(), timeout_s=plan.timeout_s)
                outcome = run_job(job)
                _check(outcome, plan.record_size)
                report_progress(plan, outcome, "group")
                outcomes.append(outcome)
    finally:
        topics.delete(topic)
    return outcomes, filler


def first_record_ms(row: Row) -> float | None:
    """Median over the runs of the time from making the consumer to its first record (ms)."""
    vals = [o.result["first_record_s"] * 1000.0 for o in row.ok_runs if o.result.get("first_record_s") is not None]
    return statistics.median(vals) if vals else None
