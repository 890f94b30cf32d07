"""What to run and in which order: the plan chosen on the command line, the (client, API, loop)
entries of each scenario, and an order that rotates every repetition so that drift (a warming
broker, page cache, a busy neighbour) hits all clients alike."""
from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from typing import Any

from benchmarks.clients import APIS, ASYNCIO_CLIENTS, PROFILES
from benchmarks.runner import Outcome, run_job
from benchmarks.settings import SHARED, Job
from benchmarks.topics import Topics


# The slowest paths get a fraction of the records, so that three repetitions of the whole suite fit
# in 15 minutes on a 2-core machine: at 1,000,000 records each aiokafka send or async-for run took
# 16-22 s, kafka-python ~50 s, and confluent-kafka's consumer 6-9 s in each of its 8 configurations
# per repetition, against 1-7 s for the other clients. Their rate is steady long before the shorter
# run ends (a run still lasts a second or more; confluent's poll and consume read at the same rate
# from 250,000 records as from 1,000,000), every client keeps the same configuration, and the tables
# and the report show who got fewer. (client, API, scenario) -> divisor; API None means every API of
# that client, its latency sends included; scenario None every scenario (confluent's is the consume
# scenario's only: in the group scenario the join is inside the clock, and fewer records would weigh
# it more). kafka-python sends 2,000 of the latency scenario's 10,000 (its round trip is the slowest,
# and its row is in no target). ``--all-records`` clears it.
FEWER_RECORDS: dict[tuple[str, str | None, str | None], int] = {
    ("kafka-python", None, None): 10,
    ("aiokafka", "send", None): 4,
    ("aiokafka", "async-for", None): 4,
    ("kafka-python", "send().get()", "latency"): 5,
    ("confluent", "poll", "consume"): 4,
    ("confluent", "consume", "consume"): 4,
}

# Rows that no target reads get two of the three repetitions: the peers' batch APIs, Java's cold
# runs, kafka-python, and every peer in the two consumer-group tables and the 3-broker tables (no
# target at all).
# The targets compare kafkaio with aiokafka's and confluent's per-record APIs at the best of their
# configurations, franz-go and Java's warm runs: those keep every repetition, as kafkaio does. The
# tables' "runs ok" column says how many a row got. (client, API, scenario) -> repetitions; API
# None means every API of that client in that scenario. ``--all-repeats`` clears it.
FEWER_REPEATS: dict[tuple[str, str | None, str], int] = {
    ("aiokafka", "send_batch", "produce"): 2,
    ("confluent", "produce_batch", "produce"): 2,
    ("java", "ProducerPerformance", "produce"): 2,
    ("kafka-python", None, "produce"): 2,
    ("aiokafka", "getmany", "consume"): 2,
    ("confluent", "consume", "consume"): 2,
    ("java", "ConsumerPerformance", "consume"): 2,
    ("kafka-python", None, "consume"): 2,
    ("aiokafka", None, "group"): 2,
    ("confluent", None, "group"): 2,
    ("aiokafka", None, "group-members"): 2,
    ("confluent", None, "group-members"): 2,
    ("java", None, "group-members"): 2,
    ("aiokafka", None, "replicated"): 2,
    ("confluent", None, "replicated"): 2,
    ("java", None, "replicated"): 2,
    ("franz-go", None, "replicated"): 2,
}


@dataclass
class Plan:
    bootstrap: str
    records: int = 1_000_000
    # p99.9 of 10,000 sends is the 10th slowest: a rank resting on 10 samples, not the maximum
    latency_records: int = 10_000
    repeat: int = 3
    record_size: int = 100
    partitions: int = 6
    clients: list[str] = field(default_factory=list)
    compressions: list[str] = field(default_factory=lambda: ["none", "lz4"])
    uvloop: bool = True
    profiles: bool = True  # measure the peers at their own defaults and tunings too (PROFILES)
    # (client, API, scenario) -> divisor of the records that run gets; see FEWER_RECORDS
    fewer_records: dict[tuple[str, str | None, str | None], int] = field(default_factory=lambda: dict(FEWER_RECORDS))
    # (client, API, scenario) -> repetitions that entry gets (at most ``repeat``); see FEWER_REPEATS
    fewer_repeats: dict[tuple[str, str | None, str], int] = field(default_factory=lambda: dict(FEWER_REPEATS))
    timeout_s: float = 300.0
    started: float = field(default_factory=time.monotonic)

    def divisor(self, client: str, api: str, scenario: str | None = None) -> int:
        """By how much the records of ``client``'s ``api`` runs (in ``scenario``) are divided (1:
        all of them)."""
        fewer = self.fewer_records
        return (fewer.get((client, api, scenario)) or fewer.get((client, api, None))
                or fewer.get((client, None, None)) or 1)

    def records_for(self, client: str, api: str, records: int | None = None, scenario: str | None = None) -> int:
        """How many records (or latency sends) ``client`` handles in one run of ``api`` (in
        ``scenario``: a reduction may be that scenario's only)."""
        total = self.records if records is None else records
        return max(1, total // self.divisor(client, api, scenario))

    def repeats_for(self, client: str, api: str, scenario: str) -> int:
        """How many of the ``repeat`` repetitions ``client``'s ``api`` runs in ``scenario``."""
        fewer = self.fewer_repeats
        got = fewer.get((client, api, scenario)) or fewer.get((client, None, scenario)) or self.repeat
        return min(got, self.repeat)

    def scheduled(self, items: list["Entry"], rep: int, scenario: str) -> list["Entry"]:
        """Repetition ``rep``'s order of ``items`` (``rotated``), less the entries that have had
        their repetitions (``repeats_for``)."""
        return [e for e in rotated(items, rep) if rep < self.repeats_for(e.client, e.api, scenario)]


@dataclass(frozen=True)
class Entry:
    client: str
    api: str
    loop: str = "asyncio"
    profile: str = SHARED


def entries(scenario: str, plan: Plan, with_uvloop: bool, with_profiles: bool = False) -> list[Entry]:
    """Every (client, API, loop, configuration) to measure in ``scenario``, per-record API first."""
    out = [Entry(c, api) for c in plan.clients for api in APIS[scenario].get(c, ())]
    if with_uvloop and plan.uvloop:
        out += [Entry(c, api, "uvloop") for c in plan.clients if c in ASYNCIO_CLIENTS
                for api in APIS[scenario].get(c, ())]
    if with_profiles and plan.profiles:
        out += [Entry(c, api, profile=p) for c in plan.clients for p in PROFILES.get(c, ())
                for api in APIS[scenario].get(c, ())]
    return out


def rotated(items: list[Entry], rep: int) -> list[Entry]:
    """The order for repetition ``rep``: start at a different place each time, and go backwards
    every other time, so no client always runs first or always follows the same neighbour."""
    if not items:
        return []
    shift = (rep * max(1, len(items) // 3)) % len(items)
    order = items[shift:] + items[:shift]
    return order[::-1] if rep % 2 else order


def report_progress(plan: Plan, outcome: Outcome, extra: str = "") -> None:
    """One line per run on stderr, so a long suite shows it is alive."""
    job = outcome.job
    elapsed = time.monotonic() - plan.started
    if outcome.ok:
        r = outcome.result
        if job.scenario == "latency":
            what = f"p50 {r['p50_us']:.0f} us  p99 {r['p99_us']:.0f} us  p999 {r['p999_us']:.0f} us"
        else:
            what = f"{outcome.rate:>12,.0f} rec/s"
    else:
        what = f"FAILED: {outcome.error}"
    print(f"[{elapsed:6.0f}s] {job.scenario:8s} {extra:5s} {job.label:32s} {what}  "
          f"(rss {outcome.maxrss_kb / 1024:.0f} MiB, wall {outcome.wall_s:.1f}s)",
          file=sys.stderr, flush=True)


class FreshTopics:
    """The fresh topics of a list of runs, one per run: made in one CreateTopics request before the
    first run and deleted in one DeleteTopics request after the last (a request of each per run
    cost about 0.09 s between runs), every one unused until its run takes it. Use as a context
    manager around the runs."""

    def __init__(self, topics: Topics, prefix: str, partitions: int, count: int, replication_factor: int = 1,
                 config: dict[str, str] | None = None) -> None:
        self.partitions = partitions
        self.replication_factor = replication_factor
        self._topics = topics
        self._wanted = (prefix, partitions, count, replication_factor, config)
        self._names: list[str] = []
        self._taken = 0

    def __enter__(self) -> "FreshTopics":
        prefix, partitions, count, replication_factor, config = self._wanted
        self._names = self._topics.create_many(prefix, partitions, count, replication_factor, config)
        self._taken = 0
        return self

    def __exit__(self, *exc: object) -> None:
        names, self._names = self._names, []
        self._topics.delete_many(names)

    def take(self) -> str:
        """The next topic no run has had."""
        if self._taken >= len(self._names):
            raise RuntimeError(f"no fresh topic left: {len(self._names)} made for these runs")
        self._taken += 1
        return self._names[self._taken - 1]


def run_on_fresh_topic(plan: Plan, fresh: FreshTopics, entry: Entry, *, scenario: str, records: int, tag: str,
                       **fields: Any) -> Outcome:
    """One run of ``entry`` on a topic of its own from ``fresh`` (``fields`` are the Job's fields
    beyond the plan's and the entry's), then the progress line marked ``tag``."""
    fields.setdefault("record_size", plan.record_size)
    job = Job(client=entry.client, scenario=scenario, api=entry.api, loop=entry.loop, profile=entry.profile,
              bootstrap=plan.bootstrap, topic=fresh.take(), records=records, partitions=fresh.partitions,
              timeout_s=plan.timeout_s, **fields)
    outcome = run_job(job)
    report_progress(plan, outcome, tag)
    return outcome
