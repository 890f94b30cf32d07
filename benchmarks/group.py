"""Consumer-group scenarios: read a pre-filled topic through a consumer group of its own, the
join inside the clock. One consumer: the clock starts before the consumer is made and runs to the
N-th record handed to the application. A group of ``MEMBERS``, each a process of its own: the clock
starts when the harness launches them together and runs until the group as a whole has reached
every partition's end (``summarise``); the members stop then. The time to the first record is
reported beside the rate."""
from __future__ import annotations

import dataclasses
import statistics
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor

from benchmarks.aggregate import Row
from benchmarks.clients._common import MEMBER_IDLE_S
from benchmarks.consume import Fills, _check
from benchmarks.runner import Outcome, run_job
from benchmarks.schedule import Plan, entries, report_progress
from benchmarks.settings import ConsumeConfig, Job, ProduceConfig
from benchmarks.topics import Topics

MEMBERS = 3
# --quick runs no group of Java members: each member reads until it has had no record for
# MEMBER_IDLE_S, so a run lasts ~7 s whatever its records, and its two rows took 15 s of quick
# mode's 3 minutes (no target reads them)
QUICK_SKIPS_MEMBERS = ("java",)

PARAMETERS = ("each run a new group subscribing to a 6-partition topic filled like the consume "
              "scenario's (compression none), reading from the beginning with the shared consumer "
              "settings and the batch API; the clock starts before the consumer is made, so the join "
              "is in the rate; the classic group protocol, and for kafkaio and confluent-kafka also "
              "KIP-848's consumer group protocol (the rows marked consumer protocol; aiokafka has none)")


def topic_read(plan: Plan) -> tuple[str, int]:
    """(compression, records) of the topic the group runs read: the consume scenario's uncompressed one."""
    return "none", plan.records


def run(plan: Plan, fills: Fills, topics: Topics, quick: bool = False) -> tuple[list[Outcome], str]:
    """The outcomes, and which client filled the topic (the consume scenario's, when it ran); with
    ``quick`` the groups of members leave out the clients of ``QUICK_SKIPS_MEMBERS``."""
    (topic, count, filler), = fills.get(topic_read(plan))
    ends = tuple(topics.ends(topic))
    outcomes: list[Outcome] = []
    try:
        # The first group on a broker creates __consumer_offsets (a second or more): one untimed
        # join first, so that no client's first run pays for it.
        first = entries("group", plan, with_uvloop=False)[0]
        run_job(Job(client=first.client, scenario="group", api=first.api, bootstrap=plan.bootstrap, topic=topic,
                    records=min(1000, count), record_size=plan.record_size, partitions=plan.partitions,
                    produce=ProduceConfig(), consume=ConsumeConfig(), timeout_s=plan.timeout_s))
        for rep in range(plan.repeat):
            for entry in plan.scheduled(entries("group", plan, with_uvloop=False), rep, "group"):
                job = Job(client=entry.client, scenario="group", api=entry.api, bootstrap=plan.bootstrap,
                          topic=topic, records=plan.records_for(entry.client, entry.api, count),
                          record_size=plan.record_size, partitions=plan.partitions,
                          produce=ProduceConfig(), consume=ConsumeConfig(), timeout_s=plan.timeout_s)
                outcome = run_job(job)
                _check(outcome, plan.record_size)
                report_progress(plan, outcome, "group")
                outcomes.append(outcome)
        for rep in range(plan.repeat):
            for entry in plan.scheduled(entries("group-members", plan, with_uvloop=False), rep, "group-members"):
                if quick and entry.client in QUICK_SKIPS_MEMBERS:
                    continue
                outcome = _members_run(plan, entry.client, entry.api, topic, count, ends)
                report_progress(plan, outcome, "x3")
                outcomes.append(outcome)
    finally:
        fills.release(topic_read(plan))
    return outcomes, filler


MEMBERS_PARAMETERS = (
    f"{MEMBERS} members of one new group per run, each a process of its own launched at the same "
    "moment, on the topic of the scenario above, with the shared consumer settings and auto commit "
    "(a member commits what it read before it hands a partition over, as an application would). "
    "The clock measures the time for the group to consume the topic: from the launch (process "
    "start, imports or JVM start, and the joins included) until the group as a whole has reached "
    "every partition's end, the moment the last partition's end offset was first handed to the "
    "application by one of the members. The Python members read with the batch API, mark each "
    "partition end they reach in a directory they share, and all stop when every end is marked; "
    "a run counts only when together they read every partition to its end. read = records the "
    "members handed out together: above the topic's count, records read again by a partition's "
    "next owner after a hand-over, counted and reported, not required. Java's ConsumerPerformance "
    "cannot stop that way: each of its members reads until it has had no record for "
    f"{MEMBER_IDLE_S:.0f} s, and its clock runs to the last record any member read (re-reads "
    "after a hand-over included); it reports every millisecond it reads, and the records of its "
    "last millisecond are not in its count. Java's members are not run with `--quick` (a run lasts "
    f"about {MEMBER_IDLE_S:.0f} s more than its reading, whatever its records)"
)


def _members_run(plan: Plan, client: str, api: str, topic: str, count: int, ends: tuple[int, ...]) -> Outcome:
    """One run of a group of ``MEMBERS``: launched together, summarised as one outcome."""
    gid = f"bench-members-{topic}-{time.time_ns()}"
    with tempfile.TemporaryDirectory(prefix="bench-members-") as done_dir:
        job = Job(client=client, scenario="group", api=api, bootstrap=plan.bootstrap, topic=topic,
                  records=count, record_size=plan.record_size, partitions=plan.partitions,
                  produce=ProduceConfig(), consume=ConsumeConfig(), timeout_s=plan.timeout_s,
                  members=MEMBERS, group=gid, ends=ends, done_dir=done_dir)
        launched = time.time()
        with ThreadPoolExecutor(MEMBERS) as pool:
            members = list(pool.map(run_job, [job] * MEMBERS))
    return summarise(job, members, launched)


def summarise(job: Job, members: list[Outcome], launched: float) -> Outcome:
    """The run of ``members`` launched at ``launched`` (wall clock) as one outcome: its clock runs
    to the moment the last partition's end was first reached by a member (Java's members, which
    mark no end, to the last record any of them read); ``read`` counts every record the members
    handed out, those read again after a hand-over included."""
    summary = dataclasses.replace(job, scenario="group-members", ends=(), done_dir="")
    count = job.records
    rss = max(m.maxrss_kb for m in members)
    wall = max(m.wall_s for m in members)
    failed = [m for m in members if not m.ok]
    if failed:
        return Outcome(summary, False, error=f"a member failed: {failed[0].error}", maxrss_kb=rss, wall_s=wall)
    read = [m.result for m in members if m.result.get("last_wall") is not None]
    if not read:
        return Outcome(summary, False, error="no member read a record", maxrss_kb=rss, wall_s=wall)
    total = sum(r["records"] for r in read)
    ends: dict[str, int] = {}
    reached: dict[str, float] = {}
    for r in read:
        for part, top in r.get("max_offsets", {}).items():
            ends[part] = max(ends.get(part, -1), top)
        for part, at in r.get("end_walls", {}).items():
            reached[part] = min(reached.get(part, at), at)
    if job.client != "java" and sum(top + 1 for top in ends.values()) != count:
        return Outcome(summary, False, maxrss_kb=rss, wall_s=wall, error=(
            f"the members read the partitions to {sum(top + 1 for top in ends.values())} of {count} records"))
    done = max(reached.values()) if reached else max(r["last_wall"] for r in read)
    result = {"records": count, "seconds": done - launched, "errors": 0,
              "first_record_s": min(r["first_wall"] for r in read) - launched, "read": total,
              "member_records": sorted((m.result.get("records", 0) for m in members), reverse=True)}
    return Outcome(summary, True, result, maxrss_kb=rss, wall_s=wall)


def read_per_run(row: Row) -> float | None:
    """Median over the runs of the records the members handed out together."""
    vals = [o.result["read"] for o in row.ok_runs if "read" in o.result]
    return statistics.median(vals) if vals else None


def first_record_ms(row: Row) -> float | None:
    """Median over the runs of the time from making the consumer to its first record (ms)."""
    vals = [o.result["first_record_s"] * 1000.0 for o in row.ok_runs if o.result.get("first_record_s") is not None]
    return statistics.median(vals) if vals else None
