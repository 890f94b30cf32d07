"""kafkaio runner: per-record ``send()`` and ``send_many()``; ``async for`` and ``getmany()`` for
consuming; ``send_and_wait()`` for latency."""
from __future__ import annotations

import time

from kafkaio import Consumer, Producer, TopicPartition  # imported here, as the peers' runners import theirs

from benchmarks.clients._common import (
    Pending,
    consume_async,
    consume_group_async,
    consume_member_async,
    group_id,
    headers_for,
    latency_async,
    run_on_loop,
    send_keyed,
    snake_consumer_kwargs,
    snake_producer_kwargs,
    throughput_result,
    values_for,
)
from benchmarks.clients import CONSUMER_PROTOCOL
from benchmarks.settings import Job

MANY = 1000  # records per send_many() call


def producer_kwargs(job: Job, linger_ms: int | None = None) -> dict:
    return snake_producer_kwargs(job, linger_ms)


def consumer_kwargs(job: Job) -> dict:
    return snake_consumer_kwargs(job)


async def _produce(job: Job) -> dict:
    pool, mask = values_for(job)
    producer = Producer(**producer_kwargs(job))
    await producer.start()
    try:
        await producer.send_and_wait(job.topic, pool[0])  # warm-up outside the clock
        n = job.records
        topic = job.topic
        futures = []
        append = futures.append
        pending = Pending(lambda f: f.done(), lambda f: f.exception() is not None)
        t0 = time.perf_counter()
        if job.api == "send" and (job.keys or job.headers):  # a loop of its own: the plain one stays as it was
            await send_keyed(producer.send, job, pool, mask, pending)
        elif job.api == "send":
            send = producer.send
            keep = pending.futures.append
            reap_mask = Pending.REAP_EVERY - 1
            for i in range(n):
                keep(await send(topic, pool[i & mask]))
                if not i & reap_mask:
                    pending.reap()
        elif job.api == "send_many" and job.headers:  # (key, value, headers) tuples
            send_many = producer.send_many
            hdrs = headers_for(job)
            for start in range(0, n, MANY):
                append(await send_many(topic, [(None, pool[i & mask], hdrs)
                                               for i in range(start, min(n, start + MANY))]))
        elif job.api == "send_many":
            send_many = producer.send_many
            for start in range(0, n, MANY):
                append(await send_many(topic, [pool[i & mask] for i in range(start, min(n, start + MANY))]))
        else:
            raise ValueError(f"unknown kafkaio produce API {job.api!r}")
        await producer.flush()
        # every client learns the outcome of each record inside the clock (Java and confluent
        # through their per-record callbacks): here the futures, decided once flush() returns
        errors = pending.finish() + sum(len(f) for f in futures if f.exception() is not None)
        seconds = time.perf_counter() - t0
        return throughput_result(n, seconds, errors)
    finally:
        await producer.stop()


async def _consume(job: Job) -> dict:
    consumer = Consumer(**consumer_kwargs(job))
    await consumer.start()
    try:
        partitions = sorted(await consumer.partitions_for_topic(job.topic))
        consumer.assign([TopicPartition(job.topic, p) for p in partitions])
        return await consume_async(job, consumer)
    finally:
        await consumer.stop()


async def _group(job: Job) -> dict:
    kwargs = {**consumer_kwargs(job), "group_id": group_id(job)}
    if job.api.endswith(CONSUMER_PROTOCOL):
        kwargs["group_protocol"] = "consumer"
    if job.members > 1:
        # members of one group hand partitions over as they join: each commits what it read, as an
        # application would, so that the next owner goes on from there
        kwargs["enable_auto_commit"] = True
        return await consume_member_async(job, lambda: Consumer(job.topic, **kwargs))
    return await consume_group_async(job, lambda: Consumer(job.topic, **kwargs))


async def _latency(job: Job) -> dict:
    producer = Producer(**producer_kwargs(job, linger_ms=0))
    await producer.start()
    return await latency_async(job, producer)


def run(job: Job) -> dict:
    main = {"produce": _produce, "consume": _consume, "group": _group, "latency": _latency}[job.scenario]
    return run_on_loop(job, lambda: main(job))
