"""Consume scenario: read a pre-filled ``partitions``-partition topic of N records from the
beginning, for each compression, each client and API; partitions are assigned (no group join),
and the clock runs from the first poll to the N-th record handed to the application."""
from __future__ import annotations

from benchmarks.clients.java_perf import CONSUMER_WARM, WARMUP_FACTOR
from benchmarks.runner import Outcome, run_job
from benchmarks.schedule import Plan, entries, report_progress, rotated
from benchmarks.settings import ConsumeConfig, Job, ProduceConfig
from benchmarks.topics import Topics

# Fillers, most independent of kafkaio first; the first that works fills the topics.
FILLERS = (("confluent", "produce_batch"), ("java", "ProducerPerformance"), ("aiokafka", "send"))


def fill(plan: Plan, topics: Topics, compression: str, records: int | None = None) -> tuple[str, int, str]:
    """A topic holding ``records`` (default ``plan.records``; +1 warm-up) records written with
    ``compression``; returns (topic, record count, the client that wrote it)."""
    errors = []
    for client, api in FILLERS:
        topic = topics.create(f"bench-consume-{compression}", plan.partitions)
        job = Job(client=client, scenario="produce", api=api, bootstrap=plan.bootstrap, topic=topic,
                  records=records or plan.records, record_size=plan.record_size, partitions=plan.partitions,
                  produce=ProduceConfig(compression_type=compression), timeout_s=plan.timeout_s)
        outcome = run_job(job)
        if outcome.ok:
            return topic, topics.count(topic), f"{client} {api}"
        errors.append(f"{client}: {outcome.error}")
        topics.delete(topic)
    raise RuntimeError("no client could fill the consume topic: " + "; ".join(errors))


def run(plan: Plan, topics: Topics) -> tuple[list[Outcome], dict[str, str]]:
    """The outcomes, and which client filled each compression's topic."""
    filled = {c: fill(plan, topics, c) for c in plan.compressions}
    # the warm Java consumer reads a longer topic: its first WARMUP_FACTOR parts warm the JIT
    long = ({c: fill(plan, topics, c, plan.records * (1 + WARMUP_FACTOR)) for c in plan.compressions}
            if "java" in plan.clients else {})
    outcomes: list[Outcome] = []
    try:
        for rep in range(plan.repeat):
            for compression in plan.compressions:
                for entry in rotated(entries("consume", plan, with_uvloop=compression == "none",
                                         with_profiles=compression == "none"), rep):
                    warm = entry.client == "java" and entry.api == CONSUMER_WARM
                    topic, count, _ = (long if warm else filled)[compression]
                    job = Job(client=entry.client, scenario="consume", api=entry.api, loop=entry.loop,
                              bootstrap=plan.bootstrap, topic=topic,
                              records=plan.records_for(entry.client, entry.api, count, "consume"),
                              record_size=plan.record_size, partitions=plan.partitions,
                              produce=ProduceConfig(compression_type=compression),
                              consume=ConsumeConfig(), timeout_s=plan.timeout_s, profile=entry.profile)
                    outcome = run_job(job)
                    _check(outcome, plan.record_size)
                    report_progress(plan, outcome, compression)
                    outcomes.append(outcome)
    finally:
        for topic, _, _ in [*filled.values(), *long.values()]:
            topics.delete(topic)
    return outcomes, {c: f[2] for c, f in filled.items()}


def _check(outcome: Outcome, record_size: int) -> None:
    """Fail a run that read too few records, or values of the wrong size (batch APIs may read a
    little past the count asked for; the rate counts what was read)."""
    if not outcome.ok:
        return
    # a warm run measures part of what it read ("read"); the others measure all of it
    got, want = outcome.result.get("read", outcome.result["records"]), outcome.job.records
    expected = got * record_size
    if got < want:
        outcome.ok = False
        outcome.error = f"read {got} records, expected {want}"
    elif outcome.result.get("bytes", expected) != expected:
        outcome.ok = False
        outcome.error = f"read {outcome.result['bytes']} value bytes in {got} records of {record_size}"
