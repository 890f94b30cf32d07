"""One schedule end to end (workload under faults, read-back, checks), and the loop over many.

    result = await run_schedule(generate(7, "producer", 20), proxied)   # one seed
    summary = await run_many(seeds, ...)                                 # CI seeds or a soak
"""
from __future__ import annotations

import asyncio
import json
import random
import time
import traceback
import uuid
from collections.abc import AsyncIterator, Iterable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kafkaio.testing.chaos.checker import (
    Violation,
    check_ctp,
    check_group,
    check_producer,
    check_readers_agree,
    check_transactions,
)
from kafkaio.testing.chaos.history import History
from kafkaio.testing.chaos.injector import Injector
from kafkaio.testing.chaos.readback import IsolationLevel, java_read_topic, read_commits, read_topic
from kafkaio.testing.chaos.schedule import Schedule, generate
from kafkaio.testing.chaos.workloads import CtpWorkload, GroupWorkload, ProducerWorkload, TxnWorkload

if TYPE_CHECKING:
    from kafkaio.testing.broker import LocalKafkaCluster
    from kafkaio.testing.proxy import FaultProxy

__all__ = ["CI_SEEDS", "CI_SEEDS_THREE_BROKERS", "Proxied", "RunResult", "Summary", "format_report", "proxied", "run_many", "run_schedule"]

# The fixed schedules of the CI mode (part of `make test`): a few minutes in all on a small machine.
CI_SEEDS: tuple[tuple[str, int, float], ...] = (
    ("producer", 1, 20.0), ("group", 1, 25.0), ("group", 2, 25.0), ("txn", 2, 20.0),
    # cooperative-sticky; processors killed, paused past the session and restarted
    ("ctp", 52, 25.0),
    # commit_async under coordinator_error: found the older commit landing last at 729541e
    ("group", 6, 25.0),
)
# Three-broker schedules of the CI mode (a cluster of their own; leaders move under the faults).
# ctp 333003712 is the schedule that found the generation carried by group_metadata() (docs/chaos.md).
CI_SEEDS_THREE_BROKERS: tuple[tuple[str, int, float], ...] = (("ctp", 333003712, 20.0),)

# Broker settings that make a run cheaper: one partition of __consumer_offsets (read back whole) and
# of __transaction_state (created on the first transactional producer: 50 partitions take seconds).
BROKER_PROPERTIES = {"offsets.topic.num.partitions": "1", "transaction.state.log.num.partitions": "1",
                     "group.initial.rebalance.delay.ms": "0"}


@dataclass
class Proxied:
    """The system under test: local brokers, each advertising the address of a fault proxy."""

    cluster: LocalKafkaCluster
    proxy: FaultProxy                       # node 0's
    proxies: list[FaultProxy] | None = None  # every node's, when there are several

    @property
    def all_proxies(self) -> list[FaultProxy]:
        return self.proxies or [self.proxy]

    @property
    def bootstrap(self) -> str:
        return self.cluster.bootstrap_servers

    @property
    def readback_bootstrap(self) -> str:
        """The broker's own internal listener: the read-back never goes through the proxy."""
        return self.cluster.internal_bootstrap


@asynccontextmanager
async def proxied(brokers: int = 1, **cluster_kwargs: Any) -> AsyncIterator[Proxied]:
    """A cluster of ``brokers`` nodes, each behind a FaultProxy, for the block."""
    from kafkaio.testing.proxy import proxied_cluster

    props = {**BROKER_PROPERTIES, **cluster_kwargs.pop("broker_properties", {})}
    async with proxied_cluster(brokers, broker_properties=props, **cluster_kwargs) as (cluster, proxies):
        yield Proxied(cluster, proxies[0], list(proxies))


@dataclass
class RunResult:
    """What one schedule did and what the checker found."""

    schedule: Schedule
    history: History
    violations: list[Violation]
    injected: dict[str, int]
    written: int          # records acknowledged
    verified: int         # records read back and checked
    elapsed: float
    topic: str
    java_checked: bool = False


@dataclass
class Summary:
    """Totals over many schedules (the soak mode's table)."""

    schedules: int = 0
    injected: dict[str, int] = field(default_factory=dict)
    written: int = 0
    verified: int = 0
    violations: int = 0
    failing: list[tuple[str, int, list[str]]] = field(default_factory=list)
    errors: list[tuple[str, int, str]] = field(default_factory=list)  # runs that raised: workload, seed, traceback
    elapsed: float = 0.0

    def add(self, r: RunResult) -> None:
        self.schedules += 1
        for k, n in r.injected.items():
            self.injected[k] = self.injected.get(k, 0) + n
        self.written += r.written
        self.verified += r.verified
        self.violations += len(r.violations)
        if r.violations:
            self.failing.append((r.schedule.workload, r.schedule.seed, sorted({v.rule for v in r.violations})))

    def table(self) -> str:
        rows = [("schedules run", str(self.schedules)), ("wall time", f"{self.elapsed:.0f}s")]
        rows += [(f"faults: {k}", str(n)) for k, n in sorted(self.injected.items())]
        rows += [("records written (acked)", str(self.written)), ("records verified", str(self.verified)),
                 ("violations", str(self.violations))]
        rows += [(f"  {w} seed {s}", ", ".join(rules)) for w, s, rules in self.failing]
        rows += [("runs that raised", str(len(self.errors)))]
        rows += [(f"  {w} seed {s}", tb.strip().splitlines()[-1][:100]) for w, s, tb in self.errors]
        width = max(len(k) for k, _ in rows)
        return "\n".join(f"{k:<{width}}  {v}" for k, v in rows)


_REPORTED = 8  # violations printed in full; the rest are in violations.json


def _entry_line(e: Mapping[str, Any]) -> str:
    skip = {"i", "t", "t0", "proc", "op", "outcome", "describe"}
    if e["op"] == "fault":
        return f"  [{e['i']:>5}] t={e['t']:8.3f}s injector: {e['describe']} (applied: {e['applied']})"
    rest = " ".join(f"{k}={e[k]}" for k in sorted(e) if k not in skip)
    return f"  [{e['i']:>5}] t={e['t0']:8.3f}..{e['t']:.3f}s {e['proc']} {e['op']} {e['outcome']} {rest}"


def format_report(r: RunResult) -> str:
    """The seed, the schedule and, per violation, the shortest history excerpt that shows it."""
    brokers = f" --brokers {r.schedule.brokers}" if r.schedule.brokers > 1 else ""
    lines = [f"{len(r.violations)} violation(s) in {r.schedule.workload} seed {r.schedule.seed} (topic {r.topic})",
             f"replay: make chaos SEED={r.schedule.seed} CHAOS_ARGS='--workload {r.schedule.workload} "
             f"--duration {r.schedule.duration:g}{brokers}'",
             r.schedule.describe()]
    for v in r.violations[:_REPORTED]:
        lines.append(f"* {v.rule}: {v.message}")
        lines.extend(_entry_line(e) for e in v.excerpt)
    if len(r.violations) > _REPORTED:
        lines.append(f"... and {len(r.violations) - _REPORTED} more (violations.json has them all)")
    return "\n".join(lines)


def _written(history: History) -> int:
    """Records acknowledged: sends that returned ok, and records of committed transactions."""
    committed = {e["txn"] for e in history.entries if e["op"] == "txn" and e["outcome"] == "ok"}
    return sum(1 for e in history.entries if (e["op"] == "send" and e["outcome"] == "ok")
               or (e["op"] == "txn_send" and e["txn"] in committed))


async def run_schedule(schedule: Schedule, system: Proxied, *, settings: Mapping[str, Any] | None = None,
                       producer_settings: Mapping[str, Any] | None = None, java: bool = False,
                       out_dir: Path | None = None) -> RunResult:
    """Run ``schedule``'s workload through its faults, read back and check.

    ``settings`` are the workload's client settings (producer for ``producer`` and ``txn``,
    consumer for ``group`` and ``ctp``); ``producer_settings`` the feeder's (and for ``ctp`` the
    processors' transactional producers'). With ``java``, the topic is read back a
    second time with Kafka's console consumer. With ``out_dir``, a run with violations leaves its
    schedule, history and report there.
    """
    started = time.monotonic()
    history = History()
    rng = random.Random(f"run:{schedule.workload}:{schedule.seed}")
    tag = f"{schedule.workload}-{schedule.seed}-{uuid.uuid4().hex[:6]}"
    topic = f"chaos-{tag}"
    workload: Any
    replication = min(3, len(system.cluster.brokers))
    if schedule.workload == "producer":
        workload = ProducerWorkload(system.bootstrap, history, rng, topic, replication=replication, settings=settings)
    elif schedule.workload == "txn":
        workload = TxnWorkload(system.bootstrap, history, rng, topic, f"chaos-txn-{tag}", replication=replication,
                               settings=settings)
    elif schedule.workload == "ctp":
        # the run's topic is the output, read back read_committed; the input is read whole
        workload = CtpWorkload(system.bootstrap, history, rng, f"{topic}-in", topic, f"chaos-ctp-{tag}",
                               f"chaos-ctp-{tag}", replication=replication, settings=settings,
                               producer_settings=producer_settings, assignor=schedule.assignor)
    else:
        workload = GroupWorkload(system.bootstrap, history, rng, topic, f"chaos-group-{tag}", replication=replication,
                                 settings=settings, producer_settings=producer_settings, assignor=schedule.assignor,
                                 commit=schedule.commit or "manual")
    await workload.setup()
    injector = Injector(schedule, history, system.all_proxies, system.cluster, workload)
    start = history.now()
    faults = asyncio.ensure_future(injector.run(start))
    try:
        try:
            await workload.run(start + schedule.duration)
            await faults
        finally:
            if not faults.done():  # the workload failed: stop injecting, but let the error through
                faults.cancel()
                try:
                    await faults
                except asyncio.CancelledError:
                    pass
            await injector.finish()
        await workload.finish()
    except BaseException:
        abandon = getattr(workload, "abandon", None)  # client processes must not outlive a failed run
        if abandon is not None:
            await abandon()
        raise

    # Transactions are judged by what a read_committed reader sees; everything else by the whole log.
    isolation: IsolationLevel = "read_committed" if schedule.workload in ("txn", "ctp") else "read_uncommitted"
    log = await read_topic(system.readback_bootstrap, topic, isolation_level=isolation)
    verified = len(log)
    if schedule.workload == "txn":
        violations = check_transactions(history.entries, log)
    elif schedule.workload == "ctp":
        # the feeder by the producer rules on the input, the processors' transactions on the output
        inputs = await read_topic(system.readback_bootstrap, workload.topic)
        verified += len(inputs)
        commits = await read_commits(system.readback_bootstrap, isolation_level="read_committed")
        violations = check_producer(history.entries, inputs) + check_transactions(history.entries, log)
        violations += check_ctp(history.entries, inputs, log, commits, workload.group)
    else:
        violations = check_producer(history.entries, log)
    if schedule.workload == "group":
        violations += check_group(history.entries, log, await read_commits(system.readback_bootstrap), workload.group)
    java_checked = False
    if java:
        from kafkaio.testing.broker import fetch_jars

        libs = fetch_jars(system.cluster.version)  # the jars the broker itself runs from (cached)
        theirs = await asyncio.to_thread(java_read_topic, libs, system.readback_bootstrap, topic, len(log),
                                         isolation_level=isolation)
        violations += check_readers_agree("kafkaio", log, "kafka-console-consumer", theirs)
        java_checked = True
    result = RunResult(schedule, history, violations, dict(injector.injected),
                       written=_written(history),
                       verified=verified, elapsed=time.monotonic() - started, topic=topic, java_checked=java_checked)
    if violations and out_dir is not None:
        where = out_dir / f"{schedule.workload}-seed-{schedule.seed}"
        where.mkdir(parents=True, exist_ok=True)
        (where / "schedule.json").write_text(schedule.to_json())
        (where / "history.jsonl").write_text(history.to_jsonl())
        (where / "report.txt").write_text(format_report(result) + "\n")
        (where / "violations.json").write_text(json.dumps([v.to_dict() for v in violations], indent=1))
    return result


async def run_many(plan: Iterable[tuple[str, int, float]], system: Proxied, *, deadline: float | None = None,
                   stop_on: set[str] | None = None, printer: Any = print, **kwargs: Any) -> Summary:
    """Run each ``(workload, seed, duration)`` of ``plan`` (until ``deadline``, a time.monotonic()
    value, if given), printing a line per schedule and the report of each one that fails.
    ``stop_on``: stop after the first schedule breaking one of these rules (``{"*"}``: any rule)."""
    summary = Summary()
    began = time.monotonic()
    for workload, seed, duration in plan:
        if deadline is not None and time.monotonic() + duration > deadline:
            break
        schedule = generate(seed, workload, duration, brokers=len(system.all_proxies))
        try:
            r = await run_schedule(schedule, system, **kwargs)
        except Exception:  # noqa: BLE001 - a client blowing up is a finding: report it, go on soaking
            summary.errors.append((workload, seed, traceback.format_exc()))
            summary.elapsed = time.monotonic() - began
            printer(f"{workload:8} seed {seed:<12} ERROR (the run raised; replay: --workload {workload} "
                    f"--seed {seed} --duration {duration:g})\n{traceback.format_exc()}", flush=True)
            if stop_on:
                break
            continue
        summary.add(r)
        summary.elapsed = time.monotonic() - began
        faults = sum(r.injected.values())
        printer(f"{workload:8} seed {seed:<12} {r.elapsed:6.1f}s faults {faults:3} acked {r.written:6} "
                f"read {r.verified:6} violations {len(r.violations)}"
                f" [t+{summary.elapsed:.0f}s]", flush=True)
        if r.violations:
            printer(format_report(r), flush=True)
            if stop_on and ("*" in stop_on or stop_on & {v.rule for v in r.violations}):
                break
    return summary
