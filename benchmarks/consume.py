"""Consume scenario: read a pre-filled ``partitions``-partition topic of N records from the
beginning, for each compression, each client and API; partitions are assigned (no group join),
and the clock runs from the first poll to the N-th record handed to the application."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from benchmarks.clients.java_perf import CONSUMER_WARM, WARMUP_FACTOR
from benchmarks.runner import Outcome, run_job
from benchmarks.schedule import Plan, entries, report_progress
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


class Fills:
    """The pre-filled topics of one suite run, each filled once: the group scenario reads the
    consume scenario's uncompressed topic (the same records, written the same way). Deletes what
    is left on ``close()``."""

    def __init__(self, plan: Plan, topics: Topics) -> None:
        self._plan = plan
        self._topics = topics
        self._filled: dict[tuple[str, int], tuple[str, int, str]] = {}

    def get(self, *wanted: tuple[str, int]) -> list[tuple[str, int, str]]:
        """(topic, record count, filler) of each wanted (compression, records) topic. The ones not
        filled yet are filled at the same time: no run is measured meanwhile, and on two cores
        concurrent fills took 12.4 s where one after the other took 17.1 s."""
        missing = [w for w in dict.fromkeys(wanted) if w not in self._filled]
        with ThreadPoolExecutor(max(1, len(missing))) as pool:
            futures = {w: pool.submit(fill, self._plan, self._topics, *w) for w in missing}
        errors = []
        for w, future in futures.items():
            try:
                self._filled[w] = future.result()
            except Exception as exc:  # the other fills' topics are kept, for release() or close()
                errors.append(exc)
        if errors:
            raise errors[0]
        return [self._filled[w] for w in wanted]

    def release(self, *done: tuple[str, int]) -> None:
        """Delete the topics no scenario reads any more."""
        for w in done:
            if w in self._filled:
                self._topics.delete(self._filled.pop(w)[0])

    def close(self) -> None:
        self.release(*list(self._filled))


def run(plan: Plan, fills: Fills, keep: tuple[tuple[str, int], ...] = ()) -> tuple[list[Outcome], dict[str, str]]:
    """The outcomes, and which client filled each compression's topic; the (compression, records)
    topics in ``keep`` stay filled for a later scenario."""
    plain = [(c, plan.records) for c in plan.compressions]
    # the warm Java consumer reads a longer topic: its first WARMUP_FACTOR parts warm the JIT
    longer = [(c, plan.records * (1 + WARMUP_FACTOR)) for c in plan.compressions] if "java" in plan.clients else []
    got = fills.get(*plain, *longer)
    filled = dict(zip(plan.compressions, got[:len(plain)]))
    long = dict(zip(plan.compressions, got[len(plain):]))
    outcomes: list[Outcome] = []
    try:
        for rep in range(plan.repeat):
            for compression in plan.compressions:
                for entry in plan.scheduled(entries("consume", plan, with_uvloop=compression == "none",
                                                    with_profiles=compression == "none"), rep, "consume"):
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
        fills.release(*[w for w in (*plain, *longer) if w not in keep])
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
