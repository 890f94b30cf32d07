"""A share consumer process for the crash test: it acquires records, writes each acquired offset to
OUTFILE (straight to the kernel, so a SIGKILL loses nothing written), prints ACQUIRED and hangs,
holding the records unacknowledged until the test SIGKILLs it.

    python share_worker.py BOOTSTRAP TOPIC GROUP OUTFILE
"""
from __future__ import annotations

import asyncio
import os
import sys

import kafkaio


async def main(bootstrap: str, topic: str, group: str, out: str) -> None:
    fd = os.open(out, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    consumer = kafkaio.ShareConsumer(topic, bootstrap_servers=bootstrap, group_id=group,
                                     share_acknowledgement_mode="explicit")
    await consumer.start()
    while True:
        batches = await consumer.getmany(timeout_ms=1000)
        records = [r for rs in batches.values() for r in rs]
        if records:
            for r in records:
                os.write(fd, f"{r.partition} {r.offset} {r.delivery_count}\n".encode())
            print("ACQUIRED", len(records), flush=True)
            await asyncio.Event().wait()  # mid-batch: nothing acknowledged, killed here


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:5]))
