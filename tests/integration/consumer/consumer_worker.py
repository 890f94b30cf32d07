"""A consumer process for the crash tests: run, get SIGKILLed by the test, be restarted.

    python consumer_worker.py MODE BOOTSTRAP TOPIC GROUP OUTFILE

It appends one line per processed record, ``R <partition> <offset>``, and one per successful
commit, ``C <partition> <offset>``, to OUTFILE (written straight to the kernel, so a SIGKILL loses
nothing already written). Modes:

- ``manual``: getmany, process each record, commit() after each batch (at-least-once).
- ``auto-inline [ASSIGNORS]``: enable_auto_commit, records processed inside the poll loop; after 60
  records of the first 100-record batch it prints CRASHPOINT and hangs, waiting to be killed.
- ``auto-decoupled``: enable_auto_commit, the poll loop hands batches to a worker task and keeps
  polling (the article's data-loss shape); prints CRASHPOINT once an auto commit has covered
  records the worker has not processed yet.
"""
from __future__ import annotations

import asyncio
import os
import random
import sys

import kafkaio


def out_writer(path: str):
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)

    def write(line: str) -> None:
        os.write(fd, line.encode())
    return write


async def manual(bootstrap: str, topic: str, group: str, write) -> None:
    async with kafkaio.Consumer(topic, bootstrap_servers=bootstrap, group_id=group,
                                group_instance_id="worker", session_timeout_ms=10000,
                                heartbeat_interval_ms=500, enable_auto_commit=False,
                                auto_offset_reset="earliest") as c:
        while True:
            batch = await c.getmany(timeout_ms=200, max_records=random.randint(1, 60))
            for tp, records in batch.items():
                for r in records:
                    write(f"R {tp.partition} {r.offset}\n")
                    await asyncio.sleep(0.001)   # processing takes time, so a kill lands mid-stream
            if batch:
                offsets = {tp: records[-1].offset + 1 for tp, records in batch.items()}
                await c.commit(offsets)
                for tp, off in offsets.items():
                    write(f"C {tp.partition} {off}\n")


async def auto_inline(bootstrap: str, topic: str, group: str, write, assignor: str = "range,cooperative-sticky") -> None:
    async with kafkaio.Consumer(topic, bootstrap_servers=bootstrap, group_id=group,
                                enable_auto_commit=True, auto_commit_interval_ms=50,
                                partition_assignment_strategy=assignor,
                                session_timeout_ms=6000, heartbeat_interval_ms=500,
                                auto_offset_reset="earliest") as c:
        processed = 0
        while True:
            batch = await c.getmany(timeout_ms=500, max_records=100)
            for tp, records in batch.items():
                for r in records:
                    write(f"R {tp.partition} {r.offset}\n")
                    processed += 1
                    await asyncio.sleep(0.01)   # processing takes longer than the commit interval
                    if processed == 60:
                        print("CRASHPOINT", flush=True)
                        await asyncio.sleep(3600)


async def auto_decoupled(bootstrap: str, topic: str, group: str, write) -> None:
    queue: asyncio.Queue = asyncio.Queue()
    processed = 0

    async def worker() -> None:
        nonlocal processed
        while True:
            r = await queue.get()
            write(f"R {r.partition} {r.offset}\n")
            processed += 1
            if processed >= 60:
                await asyncio.sleep(3600)   # stuck (slow) on the 61st record
            await asyncio.sleep(0.01)

    async with kafkaio.Consumer(topic, bootstrap_servers=bootstrap, group_id=group,
                                enable_auto_commit=True, auto_commit_interval_ms=50,
                                session_timeout_ms=6000, heartbeat_interval_ms=500,
                                auto_offset_reset="earliest") as c:
        task = asyncio.get_running_loop().create_task(worker())
        tp = kafkaio.TopicPartition(topic, 0)
        while True:
            batch = await c.getmany(timeout_ms=100, max_records=100)
            for records in batch.values():
                for r in records:
                    queue.put_nowait(r)
            committed = await c.committed(tp)
            if processed >= 60 and committed is not None and committed.offset > processed:
                print(f"CRASHPOINT committed={committed.offset} processed={processed}", flush=True)
                await asyncio.sleep(3600)
        task.cancel()


async def fenced(bootstrap: str, topic: str, group: str, write) -> None:
    """Consume and commit per batch, logging commit failures and listener calls (for SIGSTOP tests)."""
    class Listener(kafkaio.ConsumerRebalanceListener):
        def on_partitions_assigned(self, parts):
            write(f"ASSIGNED {sorted(tp.partition for tp in parts)}\n")

        def on_partitions_revoked(self, parts):
            write(f"REVOKED {sorted(tp.partition for tp in parts)}\n")

        def on_partitions_lost(self, parts):
            write(f"LOST {sorted(tp.partition for tp in parts)}\n")

    async with kafkaio.Consumer(bootstrap_servers=bootstrap, group_id=group, session_timeout_ms=6000,
                                heartbeat_interval_ms=500, enable_auto_commit=False,
                                auto_offset_reset="earliest") as c:
        c.subscribe([topic], listener=Listener())
        print("READY", flush=True)
        while True:
            batch = await c.getmany(timeout_ms=200)
            if batch:
                try:
                    await c.commit()
                    write("COMMIT ok\n")
                except kafkaio.CommitFailedError as exc:
                    write(f"COMMIT failed {type(exc).__name__}\n")


def main() -> None:
    mode, bootstrap, topic, group, outfile, *extra = sys.argv[1:]
    write = out_writer(outfile)
    write("START\n")
    fn = {"manual": manual, "auto-inline": auto_inline, "auto-decoupled": auto_decoupled,
          "fenced": fenced}[mode]
    asyncio.run(fn(bootstrap, topic, group, write, *extra))


if __name__ == "__main__":
    main()
