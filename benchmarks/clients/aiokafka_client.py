"""aiokafka runner: per-record ``send()`` and the ``create_batch``/``send_batch`` batch API;
``async for`` and ``getmany`` for consuming; ``send_and_wait`` for latency."""
from __future__ import annotations

import time

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from benchmarks.clients._common import (
    Pending,
    asyncio_failed,
    consume_async,
    consume_group_async,
    consume_member_async,
    group_id,
    latency_async,
    run_on_loop,
    send_keyed,
    snake_consumer_kwargs,
    snake_producer_kwargs,
    throughput_result,
    values_for,
    wait_all,
)
from benchmarks.settings import DEFAULTS, Job


def producer_kwargs(job: Job, linger_ms: int | None = None) -> dict:
    kw = snake_producer_kwargs(job, linger_ms)
    if job.profile == DEFAULTS:  # aiokafka's documentation gives no throughput tuning
        kw = {k: kw[k] for k in ("bootstrap_servers", "acks", "enable_idempotence", "compression_type")}
    # aiokafka has no max.in.flight nor buffer.memory setting: it keeps one request in flight
    # per partition and buffers without a byte bound; batch.size is max_batch_size.
    kw.pop("max_in_flight_requests_per_connection", None)
    kw.pop("buffer_memory", None)
    if "batch_size" in kw:
        kw["max_batch_size"] = kw.pop("batch_size")
    if kw["compression_type"] == "none":
        kw["compression_type"] = None
    return kw


def consumer_kwargs(job: Job) -> dict:
    kw = snake_consumer_kwargs(job)
    if job.profile == DEFAULTS:
        kw = {k: kw[k] for k in ("bootstrap_servers", "group_id", "enable_auto_commit", "auto_offset_reset")}
    return kw


async def _produce(job: Job) -> dict:
    pool, mask = values_for(job)
    producer = AIOKafkaProducer(**producer_kwargs(job))
    await producer.start()
    try:
        # warm-up outside the clock: connection, metadata, producer id
        await producer.send_and_wait(job.topic, pool[0])
        n = job.records
        send = producer.send
        topic = job.topic
        futures = []
        append = futures.append
        pending = Pending(lambda f: f.done(), asyncio_failed)
        t0 = time.perf_counter()
        sizes: list[int] = []  # records per send_batch() future
        if job.api == "send" and (job.keys or job.headers):  # a loop of its own: the plain one stays as it was
            await send_keyed(send, job, pool, mask, pending)
        elif job.api == "send":
            keep = pending.futures.append
            reap_mask = Pending.REAP_EVERY - 1
            for i in range(n):
                keep(await send(topic, pool[i & mask]))
                if not i & reap_mask:
                    pending.reap()
        elif job.api == "send_batch":
            partitions = sorted(await producer.partitions_for(topic))
            turn = 0
            batch = producer.create_batch()
            in_batch = 0
            i = 0
            while i < n:
                if batch.append(key=None, value=pool[i & mask], timestamp=None) is None:
                    batch.close()
                    append(await producer.send_batch(batch, topic, partition=partitions[turn % len(partitions)]))
                    sizes.append(in_batch)
                    turn += 1
                    batch = producer.create_batch()
                    in_batch = 0
                    continue
                in_batch += 1
                i += 1
            if in_batch:
                batch.close()
                append(await producer.send_batch(batch, topic, partition=partitions[turn % len(partitions)]))
                sizes.append(in_batch)
        else:
            raise ValueError(f"unknown aiokafka produce API {job.api!r}")
        await producer.flush()
        await wait_all(futures)
        await wait_all(list(pending.futures))
        errors = pending.finish() + sum(sizes[k] for k, f in enumerate(futures) if asyncio_failed(f))
        seconds = time.perf_counter() - t0  # outcomes counted inside the clock, as for every client
        return throughput_result(n, seconds, errors)
    finally:
        await producer.stop()


async def _consume(job: Job) -> dict:
    consumer = AIOKafkaConsumer(**consumer_kwargs(job))
    await consumer.start()
    try:
        partitions = sorted(consumer.partitions_for_topic(job.topic) or range(job.partitions))
        consumer.assign([TopicPartition(job.topic, p) for p in partitions])
        return await consume_async(job, consumer)
    finally:
        await consumer.stop()


async def _group(job: Job) -> dict:
    kwargs = {**consumer_kwargs(job), "group_id": group_id(job)}
    if job.members > 1:
        # members of one group hand partitions over as they join: each commits what it read, as an
        # application would, so that the next owner goes on from there
        kwargs["enable_auto_commit"] = True
        return await consume_member_async(job, lambda: AIOKafkaConsumer(job.topic, **kwargs))
    return await consume_group_async(job, lambda: AIOKafkaConsumer(job.topic, **kwargs))


async def _latency(job: Job) -> dict:
    producer = AIOKafkaProducer(**producer_kwargs(job, linger_ms=0))
    await producer.start()
    return await latency_async(job, producer)


def run(job: Job) -> dict:
    main = {"produce": _produce, "consume": _consume, "group": _group, "latency": _latency}[job.scenario]
    return run_on_loop(job, lambda: main(job))
