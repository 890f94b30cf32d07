"""Large-values scenario: the produce scenario's setup (acks=all, idempotent, fresh topic, clock
until every delivery) with 10 KB and 100 KB values, where copying the value costs more than the
per-record work; each run moves about the same number of bytes, so large values mean few records."""
from __future__ import annotations

from benchmarks.runner import Outcome
from benchmarks.schedule import Entry, FreshTopics, Plan, rotated, run_on_fresh_topic
from benchmarks.settings import ProduceConfig
from benchmarks.topics import Topics

SIZES = (10 * 1024, 100 * 1024)
BYTES_PER_RUN = 100_000_000
QUICK_BYTES_PER_RUN = 20_000_000

# the per-record API of each client, and kafkaio's batch API; Java cold (a warm run would need
# three times the bytes)
ENTRIES = (Entry("kafkaio", "send"), Entry("kafkaio", "send_many"), Entry("aiokafka", "send"),
           Entry("confluent", "produce"), Entry("franz-go", "Produce"), Entry("java", "ProducerPerformance"))

PARAMETERS = (f"values of {', '.join(f'{s // 1024} KB' for s in SIZES)}; about "
              f"{BYTES_PER_RUN // 1_000_000} MB per run ({QUICK_BYTES_PER_RUN // 1_000_000} MB with "
              "`--quick`); compression none; the produce scenario's settings")


def records_for(size: int, quick: bool) -> int:
    """Records per run for values of ``size`` bytes."""
    return max(1, (QUICK_BYTES_PER_RUN if quick else BYTES_PER_RUN) // size)


def run(plan: Plan, topics: Topics, quick: bool) -> list[Outcome]:
    outcomes: list[Outcome] = []
    chosen = [e for e in ENTRIES if e.client in plan.clients]
    for rep in range(plan.repeat):
        for size in SIZES:
            with FreshTopics(topics, "bench-values", plan.partitions, len(chosen)) as fresh:
                for entry in rotated(chosen, rep):
                    outcomes.append(run_on_fresh_topic(
                        plan, fresh, entry, scenario="produce", records=records_for(size, quick),
                        tag=f"{size // 1024}KB", record_size=size, produce=ProduceConfig()))
    return outcomes
