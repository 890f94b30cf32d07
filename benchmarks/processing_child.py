"""One run of the processing scenario, in a process of its own (``benchmarks/processing.py``).

``python -m benchmarks.processing_child fill JSON`` writes the keyed backlog;
``python -m benchmarks.processing_child run JSON`` measures one client and ordering and prints one
JSON line: the records/s handled from the backlog (after a one-second warm-up), the most handlers
seen running at once, and the end-to-end latency (record timestamp to handler done) of records
produced meanwhile at half that rate into a second topic.
"""
from __future__ import annotations

import asyncio
import json
import sys
import time
import uuid
from typing import Any

import kafkaio
from kafkaio.processing import Processor
from kafkaio.structs import TopicPartition

WARMUP_S = 1.0


class Meter:
    """What the handler saw: how many, how many at once, and the latencies of measured records."""

    def __init__(self, handler_ms: float) -> None:
        self.delay = handler_ms / 1000.0
        self.count = 0
        self.running = 0
        self.most_running = 0
        self.latencies: list[float] = []
        self.measure_latency = False

    async def handle(self, timestamp_ms: int) -> None:
        self.running += 1
        self.most_running = max(self.most_running, self.running)
        await asyncio.sleep(self.delay)
        self.running -= 1
        self.count += 1
        if self.measure_latency:
            self.latencies.append(time.time() * 1000 - timestamp_ms)


async def rate_over_window(meter: Meter, window_s: float) -> float:
    while meter.count == 0:
        await asyncio.sleep(0.01)
    await asyncio.sleep(WARMUP_S)
    start, t0 = meter.count, time.perf_counter()
    await asyncio.sleep(window_s)
    return (meter.count - start) / (time.perf_counter() - t0)


async def offer(cfg: dict[str, Any], rate: float, meter: Meter) -> None:
    """Produce ``rate`` records/s for the window into the live topic, then wait for them."""
    n = max(1, int(rate * cfg["window_s"]))
    async with kafkaio.Producer(bootstrap_servers=cfg["bootstrap"], linger_ms=1) as producer:
        meter.measure_latency = True
        start = time.perf_counter()
        for i in range(n):
            due = start + i / rate
            if (wait := due - time.perf_counter()) > 0:
                await asyncio.sleep(wait)
            await producer.send(cfg["live_topic"], b"x" * 100, key=b"k%d" % (i % cfg["keys"]))
        await producer.flush()
    deadline = time.monotonic() + 4 * cfg["window_s"] + 10
    while len(meter.latencies) < n and time.monotonic() < deadline:
        await asyncio.sleep(0.05)


def p99(values: list[float]) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


async def run_kafkaio(cfg: dict[str, Any]) -> dict[str, Any]:
    async def phase(topic: str, reset: str, meter: Meter) -> tuple[Processor, asyncio.Task[None], kafkaio.Consumer]:
        consumer = kafkaio.Consumer(bootstrap_servers=cfg["bootstrap"], group_id=f"bench-{uuid.uuid4().hex[:8]}",
                                    enable_auto_commit=False, auto_offset_reset=reset)
        await consumer.start()

        async def handler(record: kafkaio.ConsumerRecord) -> None:
            await meter.handle(record.timestamp)

        proc = Processor(consumer, handler, topics=[topic], ordering=cfg["ordering"],
                         max_in_flight=cfg["max_in_flight"])
        return proc, asyncio.create_task(proc.run()), consumer

    meter = Meter(cfg["handler_ms"])
    proc, task, consumer = await phase(cfg["topic"], "earliest", meter)
    rate = await rate_over_window(meter, cfg["window_s"])
    await proc.stop()
    await task
    await consumer.stop()

    live = Meter(cfg["handler_ms"])
    proc, task, consumer = await phase(cfg["live_topic"], "latest", live)
    await wait_positions(consumer, cfg)
    await offer(cfg, rate / 2, live)
    await proc.stop()
    await task
    await consumer.stop()
    return {"rate": rate, "most_running": meter.most_running, "p99_ms": p99(live.latencies),
            "latency_records": len(live.latencies)}


async def wait_positions(consumer: Any, cfg: dict[str, Any]) -> None:
    """Until every partition of the live topic is assigned and has a position (reset to latest)."""
    tps = {TopicPartition(cfg["live_topic"], p) for p in range(cfg["partitions"])}
    while set(consumer.assignment()) != tps:
        await asyncio.sleep(0.05)
    for tp in tps:
        await consumer.position(tp)


async def run_aiokafka(cfg: dict[str, Any]) -> dict[str, Any]:
    """aiokafka's serial loop: ``async for msg in consumer: await handle(msg)``."""
    from aiokafka import AIOKafkaConsumer

    async def phase(topic: str, reset: str, meter: Meter) -> tuple[Any, asyncio.Task[None]]:
        consumer = AIOKafkaConsumer(topic, bootstrap_servers=cfg["bootstrap"],
                                    group_id=f"bench-{uuid.uuid4().hex[:8]}", auto_offset_reset=reset)
        await consumer.start()

        async def loop() -> None:
            async for msg in consumer:
                await meter.handle(msg.timestamp)

        return consumer, asyncio.create_task(loop())

    meter = Meter(cfg["handler_ms"])
    consumer, task = await phase(cfg["topic"], "earliest", meter)
    rate = await rate_over_window(meter, cfg["window_s"])
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    await consumer.stop()

    live = Meter(cfg["handler_ms"])
    consumer, task = await phase(cfg["live_topic"], "latest", live)
    await wait_positions(consumer, cfg)
    await offer(cfg, rate / 2, live)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    await consumer.stop()
    return {"rate": rate, "most_running": meter.most_running, "p99_ms": p99(live.latencies),
            "latency_records": len(live.latencies)}


async def fill(cfg: dict[str, Any]) -> dict[str, Any]:
    """The backlog: ``records`` records of 100 bytes, keys spread evenly."""
    n, keys = cfg["records"], cfg["keys"]
    async with kafkaio.Producer(bootstrap_servers=cfg["bootstrap"], linger_ms=5) as producer:
        for start in range(0, n, 10_000):
            items = [(b"k%d" % (i % keys), b"x" * 100) for i in range(start, min(n, start + 10_000))]
            await (await producer.send_many(cfg["topic"], items))
    return {"records": n}


def main() -> None:
    mode, cfg = sys.argv[1], json.loads(sys.argv[2])
    if mode == "fill":
        out = asyncio.run(fill(cfg))
    elif cfg["client"] == "aiokafka":
        out = asyncio.run(run_aiokafka(cfg))
    else:
        out = asyncio.run(run_kafkaio(cfg))
    print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main()
