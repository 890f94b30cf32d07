"""A Processor in a process of its own, for the SIGKILL tests: it appends one line per handled
record ("partition offset") to a file, and stops gracefully on SIGTERM.

usage: processing_worker.py BOOTSTRAP TOPIC GROUP OUTFILE [dead-letters]

With ``dead-letters`` the records with an even value fail and go to ``<TOPIC>-dlt`` through a
transactional producer (a transactional id stable across restarts), with a read_committed consumer.
"""
from __future__ import annotations

import asyncio
import os
import random
import signal
import sys

import kafkaio
from kafkaio.processing import Processor, RetryPolicy


class Rejected(Exception):
    pass


async def main(bootstrap: str, topic: str, group: str, out_path: str, mode: str = "") -> None:
    fd = os.open(out_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    rng = random.Random()

    async def handle(record: kafkaio.ConsumerRecord) -> None:
        await asyncio.sleep(rng.random() * 0.004)
        if mode and int(record.value) % 2 == 0:
            raise Rejected(record.value)
        os.write(fd, f"{record.partition} {record.offset}\n".encode())

    consumer = kafkaio.Consumer(bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False,
                                auto_offset_reset="earliest", heartbeat_interval_ms=300,
                                session_timeout_ms=6000,
                                isolation_level="read_committed" if mode else "read_uncommitted")
    producer = kafkaio.Producer(bootstrap_servers=bootstrap, transactional_id=f"{group}-handoff") if mode else None
    if producer is not None:
        await producer.start()   # before the consumer: aborts the transaction a killed predecessor left open
    async with consumer:
        async with Processor(consumer, handle, topics=[topic], max_in_flight=64,
                             max_buffered_records=400, commit_interval_ms=200,
                             retry=RetryPolicy() if mode else None, producer=producer) as processor:
            asyncio.get_running_loop().add_signal_handler(
                signal.SIGTERM, lambda: asyncio.ensure_future(processor.stop()))
            print("running", flush=True)
            await processor.run()
    if producer is not None:
        await producer.close()
    os.close(fd)


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:6]))
