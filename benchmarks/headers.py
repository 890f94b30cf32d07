"""Headers scenario: the produce scenario with two headers on every record, for the cost of
headers in the batch API (``send_many`` with ``(key, value, headers)`` tuples) and per record."""
from __future__ import annotations

from benchmarks.runner import Outcome
from benchmarks.schedule import Entry, FreshTopics, Plan, rotated, run_on_fresh_topic
from benchmarks.settings import ProduceConfig
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
        with FreshTopics(topics, "bench-headers", plan.partitions, len(chosen)) as fresh:
            for entry in rotated(chosen, rep):
                outcomes.append(run_on_fresh_topic(
                    plan, fresh, entry, scenario="produce", tag="hdrs",
                    records=plan.records_for(entry.client, entry.api, QUICK_RECORDS if quick else RECORDS),
                    headers=HEADERS, produce=ProduceConfig()))
    return outcomes
