"""Client processes of the group workloads: a consumer group member, or a transactional
consume-transform-produce processor, each a kafkaio client in a process of its own, so that the
schedule can SIGKILL it (no LeaveGroup, no last commit, no abort: what a crashed application leaves)
or SIGSTOP it past its session (a paused application: fenced while it sleeps, it must notice on
waking).

    python -m kafkaio.testing.chaos.procs '<json config>'

The process logs its operations into a history of its own that starts at the parent's instant
(``history_start``), one JSON line per entry appended to ``history_path`` as it is made; the parent
merges the files when the run is over. SIGTERM asks for a clean stop (the member leaves the group,
the processor finishes or aborts its transaction and closes). Exit status: 0 after a clean stop,
``EXIT_FATAL`` after a client error the process cannot go on from (logged as a ``fatal`` entry: the
parent starts another process in its place), anything else is a defect of the workload itself.
"""
from __future__ import annotations

import asyncio
import json
import logging
import os
import random
import signal
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from kafkaio.consumer.subscription import ConsumerRebalanceListener
from kafkaio.errors import KafkaError
from kafkaio.testing.chaos.history import History
from kafkaio.testing.chaos.schedule import assignment_strategy

if TYPE_CHECKING:
    from kafkaio.consumer.consumer import Consumer
    from kafkaio.records import ConsumerRecord
    from kafkaio.structs import TopicPartition

__all__ = ["EXIT_FATAL", "output_value", "run_member", "run_processor"]

EXIT_FATAL = 3


def output_value(name: str, seq: int, partition: int, offset: int, input_value: str | None) -> str:
    """The processor's output for one input record: who wrote it and which input it stands for
    (``checker.check_ctp`` reads the input's partition and offset back out of it)."""
    return f"{name}:{seq}|{partition}@{offset}|{input_value}"


class _AssignmentLog(ConsumerRebalanceListener):
    """Logs when each assignment begins and ends (and when partitions are lost, as a fenced member's
    are): the checker needs to know which commits a member's starting position could have seen."""

    def __init__(self, history: History, name: str, consumer: Any) -> None:
        self.history, self.name, self.consumer = history, name, consumer

    @staticmethod
    def _names(tps: Any) -> list[str]:
        return sorted(f"{tp.topic}:{tp.partition}" for tp in tps)

    def on_partitions_assigned(self, assigned: Any) -> None:
        self.history.append(self.name, "assigned", "info", gen=self.consumer.group_metadata().generation_id,
                            partitions=self._names(assigned))

    def on_partitions_revoked(self, revoked: Any) -> None:
        self.history.append(self.name, "revoked", "info", partitions=self._names(revoked))

    def on_partitions_lost(self, lost: Any) -> None:
        self.history.append(self.name, "lost", "info", partitions=self._names(lost))


def _generation(consumer: Consumer) -> int:
    return consumer.group_metadata().generation_id


def _consumer(cfg: dict[str, Any], **extra: Any) -> Any:
    from kafkaio.consumer.consumer import Consumer
    from kafkaio.testing.chaos.workloads import DEFAULT_CONSUMER

    settings = {**DEFAULT_CONSUMER, **extra, **cfg.get("settings", {})}
    if cfg.get("assignor"):
        settings.setdefault("partition_assignment_strategy", assignment_strategy(cfg["assignor"], cfg["name"]))
    return Consumer(bootstrap_servers=cfg["bootstrap"], group_id=cfg["group"], client_id=f"chaos-{cfg['name']}",
                    **settings)


async def _start_consumer(h: History, name: str, cfg: dict[str, Any], stopping: asyncio.Event,
                          **extra: Any) -> Any:
    """A started consumer subscribed to the input; None if asked to stop first. A start that fails
    (e.g. the broker is stopped or restarting) is tried again with a new consumer, as an
    application that keeps a member up would."""
    while not stopping.is_set():
        c = _consumer(cfg, **extra)
        t0 = h.now()
        try:
            await c.start()
        except KafkaError as exc:
            h.append(name, "join", "failed", t0=t0, error=repr(exc))
            await c.stop()
            await asyncio.sleep(0.5)
            continue
        c.subscribe([cfg["topic"]], listener=_AssignmentLog(h, name, c))
        h.append(name, "join", "ok", t0=t0)
        return c
    return None


async def _leave(h: History, name: str, c: Any) -> None:
    """Stop the consumer: LeaveGroup, logged."""
    t0 = h.now()
    try:
        await c.stop()
    except KafkaError as exc:
        h.append(name, "leave", "failed", t0=t0, error=repr(exc))
    else:
        h.append(name, "leave", "ok", t0=t0)


async def _poll(h: History, name: str, c: Consumer, op: str = "poll") -> dict[TopicPartition, list[ConsumerRecord]] | None:
    """One getmany(), each partition's records logged as a ``poll`` entry; None after an error."""
    g0, t0 = _generation(c), h.now()
    try:
        batch = await c.getmany(timeout_ms=200)
    except KafkaError as exc:
        h.append(name, f"{op}_error", "failed", t0=t0, error=repr(exc))
        await asyncio.sleep(0.1)
        return None
    g1 = _generation(c)
    for tp, recs in batch.items():
        h.append(name, op, "ok", t0=t0, topic=tp.topic, partition=tp.partition, offsets=[r.offset for r in recs],
                 gen_before=g0, gen_after=g1)
    return batch


def _log_commit(h: History, name: str, t0: float, gen: Any, logged: dict[str, int]) -> Callable[[Any, BaseException | None], None]:
    """The commit_async callback that logs the commit's ``commit`` entry when it ends."""
    def done(offsets: Any, exc: BaseException | None) -> None:
        if exc is None:
            h.append(name, "commit", "ok", t0=t0, gen=gen, offsets=logged)
        else:  # retries inside the commit may have written it before the error: unknown
            h.append(name, "commit", "unknown", t0=t0, gen=gen, offsets=logged, error=repr(exc))
    return done


async def run_member(cfg: dict[str, Any], h: History, stopping: asyncio.Event) -> int:
    """A group member: poll, "process" (a ``processed`` entry per partition once done), then commit
    the batch's offsets by hand (``cfg["commit"] == "async"``: with commit_async, not waiting for
    it, so that several commits of a partition are in flight at once), or (``"auto"``) leave
    committing to enable_auto_commit, until SIGTERM. Auto-commit members process longer, so that rebalances and
    SIGKILLs land while a batch is in progress."""
    from kafkaio.structs import TopicPartition

    name, rng = cfg["name"], random.Random(cfg.get("seed"))
    auto = cfg.get("commit") == "auto"
    extra = {"enable_auto_commit": True, "auto_commit_interval_ms": rng.choice((50, 200, 1000))} if auto else {}
    c = await _start_consumer(h, name, cfg, stopping, **extra)
    if c is None:
        return 0
    while not stopping.is_set():
        batch = await _poll(h, name, c)
        if not batch:
            continue
        await asyncio.sleep(rng.uniform(0.0, 0.4 if auto else 0.05))  # "processing"
        for tp, recs in batch.items():
            h.append(name, "processed", "ok", topic=tp.topic, partition=tp.partition, offsets=[r.offset for r in recs])
        if auto:
            continue
        offsets = {TopicPartition(tp.topic, tp.partition): recs[-1].offset + 1 for tp, recs in batch.items()}
        logged = {f"{tp.topic}:{tp.partition}": off for tp, off in offsets.items()}
        g, t0 = _generation(c), h.now()
        if cfg.get("commit") == "async":
            c.commit_async(offsets, callback=_log_commit(h, name, t0, g, logged))
            continue
        try:
            await c.commit(offsets)
        except KafkaError as exc:
            # Retries inside commit() may have written it before the error: unknown.
            h.append(name, "commit", "unknown", t0=t0, gen=g, offsets=logged, error=repr(exc))
        else:
            h.append(name, "commit", "ok", t0=t0, gen=g, offsets=logged)
    await _leave(h, name, c)
    return 0


async def run_processor(cfg: dict[str, Any], h: History, stopping: asyncio.Event) -> int:
    """A transactional consume-transform-produce processor: read the input ``read_committed``,
    write one output record per input record (to the same partition number of the output topic)
    and commit the consumed offsets with ``send_offsets_to_transaction`` in the same transaction.

    Each output record is a ``txn_send`` entry (naming its input) and each transaction a ``txn``
    entry, as in the txn workload: ``ok`` committed, ``failed`` never asked to commit (aborted:
    the consumer goes back to where the transaction began), ``unknown`` the commit raised. After
    an unknown commit or a failed abort the process cannot know where it stands: it exits with
    ``EXIT_FATAL`` and a new process of the same transactional id takes over (its InitProducerId
    finishes or aborts what this one left, and it starts from the committed offsets), which is what
    an application should do.
    """
    from kafkaio.producer.producer import Producer
    from kafkaio.structs import TopicPartition
    from kafkaio.testing.chaos.workloads import DEFAULT_TXN

    name, rng = cfg["name"], random.Random(cfg.get("seed"))
    producer = Producer(bootstrap_servers=cfg["bootstrap"], transactional_id=cfg["transactional_id"],
                        client_id=f"chaos-{name}-p", **{**DEFAULT_TXN, **cfg.get("producer_settings", {})})
    t0 = h.now()
    try:
        await producer.start()
    except KafkaError as exc:
        h.append(name, "start", "failed", t0=t0, error=repr(exc))
        await producer.close(timeout=1.0)
        return EXIT_FATAL
    h.append(name, "start", "ok", t0=t0)
    c = await _start_consumer(h, name, cfg, stopping, isolation_level="read_committed")
    if c is None:
        await producer.close(timeout=10.0)
        return 0
    seq = txns = 0
    status = 0
    while not stopping.is_set() and status == 0:
        batch = await _poll(h, name, c, op="ctp_poll")
        if not batch:
            continue
        txn, txns = f"{name}-t{txns}", txns + 1
        t0 = h.now()
        count, commit_called = 0, False
        try:
            producer.begin_transaction()
            for tp, recs in batch.items():
                for r in recs:
                    value = output_value(name, seq, tp.partition, r.offset, None if r.value is None else r.value.decode())
                    h.append(name, "txn_send", "info", topic=cfg["output"], key=None, value=value, seq=seq, txn=txn,
                             input_partition=tp.partition, input_offset=r.offset)
                    seq += 1
                    count += 1
                    await producer.send(cfg["output"], value.encode(), partition=tp.partition)
            offsets = {TopicPartition(tp.topic, tp.partition): recs[-1].offset + 1 for tp, recs in batch.items()}
            await producer.send_offsets_to_transaction(offsets, c.group_metadata())
            if rng.random() < 0.9:
                commit_called = True
                await producer.commit_transaction()
                h.append(name, "txn", "ok", t0=t0, txn=txn, records=count, gen=_generation(c),
                         offsets={f"{tp.topic}:{tp.partition}": o for tp, o in offsets.items()})
                continue
            h.append(name, "txn", "failed", t0=t0, txn=txn, records=count, error="aborted by the workload")
        except KafkaError as exc:
            # Never asked to commit: it can only end aborted. Asked and raised: nobody knows.
            h.append(name, "txn", "unknown" if commit_called else "failed", t0=t0, txn=txn, records=count,
                     error=repr(exc))
            if commit_called:
                status = EXIT_FATAL
                break
        t1 = h.now()
        try:
            await producer.abort_transaction()
        except KafkaError as exc:
            h.append(name, "abort", "failed", t0=t1, txn=txn, error=repr(exc))
            status = EXIT_FATAL
            break
        h.append(name, "abort", "ok", t0=t1, txn=txn)
        # Back to the group's committed offsets, as Java's exactly-once example resets after an
        # abort. Not to where this batch began: the partition may have been lost and assigned to
        # this member again meanwhile, after another member had committed past the batch.
        try:
            for tp in batch:
                if tp in c.assignment():
                    committed = await c.committed(tp)
                    if committed is None:
                        await c.seek_to_beginning(tp)
                    else:
                        c.seek(tp, committed.offset)
        except KafkaError as exc:
            h.append(name, "reset", "failed", txn=txn, error=repr(exc))
            status = EXIT_FATAL
            break
    if status:
        h.append(name, "fatal", "info", error="cannot tell where the transaction stands: a new process takes over")
    await _leave(h, name, c)
    await producer.close(timeout=10.0)
    return status


def _dump_tasks() -> None:
    """SIGUSR1: where every task is (the parent asks before it SIGKILLs a process that would not
    stop, so that the report shows where it hung)."""
    for task in asyncio.all_tasks():
        print(f"--- {task.get_name()}", file=sys.stderr)
        coro: Any = task.get_coro()
        while coro is not None:  # down the chain of awaits: where it really waits
            frame = getattr(coro, "cr_frame", None) or getattr(coro, "gi_frame", None)
            if frame is not None:
                print(f"  {frame.f_code.co_filename}:{frame.f_lineno} {frame.f_code.co_name}", file=sys.stderr)
                me = frame.f_locals.get("self")
                state = {k: getattr(me, k) for k in ("_state", "_in_flight", "_timer", "_timer_at", "_muted_until",
                                                    "_held", "_close_error") if hasattr(me, k)}
                if state:
                    print(f"    now={asyncio.get_running_loop().time():.3f} {state!r}"[:1500], file=sys.stderr)
            coro = getattr(coro, "cr_await", None) or getattr(coro, "gi_yieldfrom", None)
    sys.stderr.flush()


async def _main(cfg: dict[str, Any]) -> int:
    fd = os.open(cfg["history_path"], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    h = History(start=cfg["history_start"], sink=fd)
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stopping.set)
    loop.add_signal_handler(signal.SIGUSR1, _dump_tasks)
    try:
        if cfg["role"] == "member":
            return await run_member(cfg, h, stopping)
        if cfg["role"] == "processor":
            return await run_processor(cfg, h, stopping)
        raise ValueError(f"unknown role {cfg['role']!r}")
    finally:
        os.close(fd)


def main(argv: list[str] | None = None) -> int:
    cfg = json.loads((argv if argv is not None else sys.argv[1:])[0])
    if cfg.get("parent_pid"):
        # SIGKILLed with the runner (Linux): a member left behind would go on polling for ever.
        from kafkaio.testing.broker import load_prctl, set_parent_death_signal

        set_parent_death_signal(load_prctl(), cfg["parent_pid"])
    if cfg.get("log_path"):
        handler = logging.FileHandler(cfg["log_path"])
        handler.setFormatter(logging.Formatter(f"%(asctime)s {cfg['name']} %(name)s %(levelname)s %(message)s"))
        logging.getLogger("kafkaio").addHandler(handler)
        logging.getLogger("kafkaio").setLevel(logging.INFO)
        logging.getLogger("kafkaio").propagate = False
    return asyncio.run(_main(cfg))


if __name__ == "__main__":
    sys.exit(main())
