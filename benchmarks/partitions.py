"""Many-partitions scenario: keyed records to a 1,000-partition topic, the produce scenario's
settings otherwise, for the per-partition overhead: the rate, and the peak RSS beside that of the
same client sending the same keyed records to the plan's small topic (6 partitions)."""
from __future__ import annotations

from benchmarks.runner import Outcome, run_job
from benchmarks.schedule import Entry, Plan, report_progress, rotated
from benchmarks.settings import Job, ProduceConfig
from benchmarks.topics import Topics

PARTITIONS = 1000
KEYS = 16384  # distinct keys, cycled through (a power of two)
RECORDS = 100_000
QUICK_RECORDS = 20_000

# aiokafka is left out: in a --quick smoke (a loaded machine) it sent about 200 records/s here, so
# one run would take minutes of the suite's 15
ENTRIES = (Entry("kafkaio", "send"), Entry("confluent", "produce"), Entry("franz-go", "Produce"))

PARAMETERS = (f"{RECORDS:,} records ({QUICK_RECORDS:,} with `--quick`) with {KEYS:,} distinct keys "
              f"to one {PARTITIONS:,}-partition topic (the default partitioner of each client hashes "
              "the key), compression none, the produce scenario's settings; each client's per-record API. "
              "aiokafka is not measured: about 200 records/s here in a trial run, minutes per run")


def run(plan: Plan, topics: Topics, quick: bool) -> list[Outcome]:
    outcomes: list[Outcome] = []
    chosen = [e for e in ENTRIES if e.client in plan.clients]
    topic = topics.create("bench-partitions", PARTITIONS)  # one topic: creating 1,000 partitions is slow
    small = topics.create("bench-partitions-base", plan.partitions)
    try:
        for rep in range(plan.repeat):
            for entry in rotated(chosen, rep):
                for name, count in ((topic, PARTITIONS), (small, plan.partitions)):
                    job = Job(client=entry.client, scenario="produce", api=entry.api, bootstrap=plan.bootstrap,
                              topic=name, records=plan.records_for(entry.client, entry.api,
                                                                   QUICK_RECORDS if quick else RECORDS),
                              record_size=plan.record_size, partitions=count, keys=KEYS,
                              produce=ProduceConfig(), timeout_s=plan.timeout_s)
                    outcome = run_job(job)
                    report_progress(plan, outcome, f"{count}p keyed")
                    outcomes.append(outcome)
    finally:
        topics.delete(topic)
        topics.delete(small)
    return outcomes
