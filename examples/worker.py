"""A consumer worker process with graceful shutdown: on SIGTERM or SIGINT it stops fetching,
commits what it has processed, leaves its group (so its partitions move at once, not after a
session timeout) and exits 0.

    KAFKAIO_BOOTSTRAP=localhost:9092 WORK_TOPIC=orders python examples/worker.py
    kill -TERM <pid>

Settings from the environment: ``KAFKAIO_BOOTSTRAP`` (else a local broker is started),
``WORK_TOPIC``, ``WORK_GROUP``.
"""
from __future__ import annotations

import asyncio
import os
import signal

import kafkaio
from kafkaio.testing.broker import bootstrap_or_local


async def handle(record: kafkaio.ConsumerRecord) -> None:
    """The work for one record (here: nothing but counting)."""


async def run(bootstrap: str) -> int:
    topic = os.environ.get("WORK_TOPIC", "orders")
    group = os.environ.get("WORK_GROUP", f"{topic}-workers")
    processed = 0
    async with kafkaio.Consumer(topic, bootstrap_servers=bootstrap, group_id=group,
                                enable_auto_commit=False, auto_offset_reset="earliest") as consumer:
        loop = asyncio.get_running_loop()
        stopping = asyncio.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stopping.set)
        print("worker ready", flush=True)
        while not stopping.is_set():
            fetch = asyncio.ensure_future(consumer.getmany(timeout_ms=1000))
            stop = asyncio.ensure_future(stopping.wait())
            await asyncio.wait({fetch, stop}, return_when=asyncio.FIRST_COMPLETED)
            stop.cancel()
            batches = await fetch  # a fetch already under way is finished and its records handled
            for records in batches.values():
                for record in records:
                    await handle(record)
                    processed += 1
            if batches:
                await consumer.commit()  # what was handled, before anything else is fetched
                print(f"processed {processed}", flush=True)
        # leaving the block stops the consumer: it leaves the group at once
    print(f"stopped after {processed} records", flush=True)
    return processed


def main() -> None:
    with bootstrap_or_local() as bootstrap:
        asyncio.run(run(bootstrap))


if __name__ == "__main__":
    main()
