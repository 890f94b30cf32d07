"""kafka-python runner: ``send()`` per record (it has no batch API); the consumer iterator per
record and ``poll()`` in batches; ``send().get()`` for latency."""
from __future__ import annotations

import time

from kafka import KafkaConsumer, KafkaProducer, TopicPartition

from benchmarks.clients._common import (
    Pending,
    measure_latency_sync,
    snake_consumer_kwargs,
    snake_producer_kwargs,
    throughput_result,
    values_for,
)
from benchmarks.settings import Job


def producer_kwargs(job: Job, linger_ms: int | None = None) -> dict:
    kw = snake_producer_kwargs(job, linger_ms)
    del kw["buffer_memory"]  # not a setting of kafka-python 3.x
    if kw["compression_type"] == "none":
        kw["compression_type"] = None
    return kw


def consumer_kwargs(job: Job) -> dict:
    return snake_consumer_kwargs(job)


def _produce(job: Job) -> dict:
    if job.api != "send":
        raise ValueError(f"unknown kafka-python produce API {job.api!r}")
    pool, mask = values_for(job)
    producer = KafkaProducer(**producer_kwargs(job))
    try:
        producer.send(job.topic, pool[0]).get(timeout=60)  # warm-up outside the clock
        n = job.records
        send = producer.send
        topic = job.topic
        pending = Pending(lambda f: f.is_done, lambda f: f.failed())
        keep = pending.futures.append
        reap_mask = Pending.REAP_EVERY - 1
        t0 = time.perf_counter()
        for i in range(n):
            keep(send(topic, pool[i & mask]))
            if not i & reap_mask:
                pending.reap()
        producer.flush()
        errors = pending.finish()
        seconds = time.perf_counter() - t0  # outcomes counted inside the clock, as for every client
        return throughput_result(n, seconds, errors)
    finally:
        producer.close()


def _consume(job: Job) -> dict:
    consumer = KafkaConsumer(**consumer_kwargs(job))
    try:
        partitions = sorted(consumer.partitions_for_topic(job.topic) or range(job.partitions))
        consumer.assign([TopicPartition(job.topic, p) for p in partitions])
        n = job.records
        count = 0
        nbytes = 0
        t0 = time.perf_counter()
        if job.api == "iterator":
            for msg in consumer:
                nbytes += len(msg.value)
                count += 1
                if count >= n:
                    break
        elif job.api == "poll":
            max_records = job.consume.max_records
            while count < n:
                for msgs in consumer.poll(timeout_ms=1000, max_records=max_records).values():
                    for msg in msgs:
                        nbytes += len(msg.value)
                    count += len(msgs)
        else:
            raise ValueError(f"unknown kafka-python consume API {job.api!r}")
        seconds = time.perf_counter() - t0
        return throughput_result(count, seconds, 0, bytes=nbytes)
    finally:
        consumer.close()


def _latency(job: Job) -> dict:
    producer = KafkaProducer(**producer_kwargs(job, linger_ms=0))
    topic = job.topic
    try:
        return measure_latency_sync(job, lambda value: producer.send(topic, value).get(timeout=30))
    finally:
        producer.close()


def run(job: Job) -> dict:
    return {"produce": _produce, "consume": _consume, "latency": _latency}[job.scenario](job)
