"""Headers scenario: the produce scenario with two headers on every record, for the cost of
headers in the batch API (``send_many`` with ``(key, value, headers)`` tuples) and per record."""
from __future__ import annotations

from benchmarks.runner import Outcome, run_job
from benchmarks.schedule import Entry, Plan, report_progress, rotated
from benchmarks.settings import Job, ProduceConfig
from benchmarks.topics import Topics

HEADERS = 2
RECORDS = 500_000
QUICK_RECORDS = 50_000

ENTRIES = (Entry("kafkaio", "send"), Entry("kafkaio", "send_many"), Entry("aiokafka", "send"),
           Entry("confluent", "produce"), Entry("franz-go", "Produce"))

PARAMETERS = (f"{RECORDS:,} records ({QUICK_RECORDS:,} with `--quick`; the slow per-record APIs fewer, "
              f"as in the produce table) with {HEADERS} headers each (`header-0`: `value-0000000000`, "
              "...; the same on every record), compression none, the produce scenario's settings; "
              "`send_many` gets `(None, value, headers)` tuples")


def run(plan: Plan, topics: Topics, quick: bool) -> list[Outcome]:
    outcomes: list[Outcome] = []
    chosen = [e for e in ENTRIES if e.client in plan.clients]
    for rep in range(plan.repeat):
        for entry in rotated(chosen, rep):
            topic = topics.create("bench-headers", plan.partitions)
            job = Job(client=entry.client, scenario="produce", api=entry.api, bootstrap=plan.bootstrap,
                      topic=topic, records=plan.records_for(entry.client, entry.api,
                                                            QUICK_RECORDS if quick else RECORDS),
                      record_size=plan.record_size, partitions=plan.partitions, headers=HEADERS,
                      produce=ProduceConfig(), timeout_s=plan.timeout_s)
            try:
                outcome = run_job(job)
            finally:
                topics.delete(topic)
            report_progress(plan, outcome, "hdrs")
            outcomes.append(outcome)
    return outcomes
