"""Client CPU per record of the per-record ``send()`` path (``fut = await producer.send(...)``).

Measures ``time.process_time()`` (client CPU, less sensitive to a loaded machine than wall time)
over ROUNDS rounds of N records each and prints the best and the median round, for the send loop
alone and for the send loop plus ``flush()``. Environment: KAFKAIO_BOOTSTRAP (required), N
(100000), ROUNDS (5), CODEC (none), VALUE_SIZE (100), PARTITIONS (6), HEADERS (0: the headers
of every record, as the suite's headers scenario builds them).
"""
from __future__ import annotations

import asyncio
import os
import time
import uuid

from kafkaio import Admin, NewTopic, Producer
from kafkaio._speedups import speedups_enabled

from benchmarks.settings import headers as record_headers


async def main() -> None:
    bootstrap = os.environ["KAFKAIO_BOOTSTRAP"]
    n = int(os.environ.get("N", "100000"))
    rounds = int(os.environ.get("ROUNDS", "5"))
    codec = os.environ.get("CODEC", "none")
    value = b"x" * int(os.environ.get("VALUE_SIZE", "100"))
    header_count = int(os.environ.get("HEADERS", "0"))
    headers = record_headers(header_count) if header_count else None
    topic = "send-cpu-" + uuid.uuid4().hex[:8]
    async with Admin(bootstrap_servers=bootstrap) as admin:
        await admin.create_topics([NewTopic(topic, int(os.environ.get("PARTITIONS", "6")), 1)],
                                  wait_for_leaders=True)
    try:
        producer = Producer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True,
                            compression_type=codec, linger_ms=5)
        await producer.start()
        await producer.send_and_wait(topic, value)  # metadata and connections are warm
        send = producer.send
        loops: list[float] = []
        totals: list[float] = []
        for _ in range(rounds):
            futs = []
            keep = futs.append
            c0 = time.process_time()
            for _ in range(n):
                keep(await send(topic, value, headers=headers))
            c1 = time.process_time()
            await producer.flush()
            c2 = time.process_time()
            for fut in futs:
                await fut  # every record was delivered (raises otherwise)
            loops.append(1e6 * (c1 - c0) / n)
            totals.append(1e6 * (c2 - c0) / n)
        await producer.close()
    finally:
        async with Admin(bootstrap_servers=bootstrap) as admin:
            await admin.delete_topics([topic])
    loops.sort()
    totals.sort()
    print(f"records={n}x{rounds} headers={header_count} codec={codec} speedups={speedups_enabled()} "
          f"send loop CPU us/record best {loops[0]:.2f} median {loops[len(loops) // 2]:.2f}; "
          f"send+flush best {totals[0]:.2f} median {totals[len(totals) // 2]:.2f}")


if __name__ == "__main__":
    asyncio.run(main())
