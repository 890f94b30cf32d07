"""A Processor in a process of its own, for the SIGKILL tests: it appends one line per handled
record ("partition offset") to a file, and stops gracefully on SIGTERM.

usage: processing_worker.py BOOTSTRAP TOPIC GROUP OUTFILE
"""
from __future__ import annotations

import asyncio
import os
import random
import signal
import sys

import kafkaio
from kafkaio.processing import Processor


async def main(bootstrap: str, topic: str, group: str, out_path: str) -> None:
    fd = os.open(out_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    rng = random.Random()

    async def handle(record: kafkaio.ConsumerRecord) -> None:
        await asyncio.sleep(rng.random() * 0.004)
        os.write(fd, f"{record.partition} {record.offset}\n".encode())

    consumer = kafkaio.Consumer(bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False,
                                auto_offset_reset="earliest", heartbeat_interval_ms=300,
                                session_timeout_ms=6000)
    async with consumer:
        async with Processor(consumer, handle, topics=[topic], max_in_flight=64,
                             max_buffered_records=400, commit_interval_ms=200) as processor:
            asyncio.get_running_loop().add_signal_handler(
                signal.SIGTERM, lambda: asyncio.ensure_future(processor.stop()))
            print("running", flush=True)
            await processor.run()
    os.close(fd)


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:5]))
