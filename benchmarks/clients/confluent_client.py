"""confluent-kafka-python (librdkafka) runner: ``produce()`` per record and ``produce_batch()``;
``poll()`` per record and ``consume()`` in batches; ``produce()`` + ``flush()`` for latency."""
from __future__ import annotations

import time
from collections.abc import Callable

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaException, Producer, TopicPartition

from benchmarks.clients._common import (
    MemberLog,
    group_id,
    headers_for,
    keys_for,
    measure_latency_sync,
    throughput_result,
    values_for,
)
from benchmarks.clients import CONSUMER_PROTOCOL
from benchmarks.settings import DEFAULTS, TUNED, Job

# Confluent's "Optimize Confluent Cloud Clients for Throughput" (which covers librdkafka): linger.ms
# 10-100, batch.size 100,000-200,000 (librdkafka's default, 1,000,000, is above it already: kept),
# and fetch.min.bytes about 100,000 for consumers. Its acks=1 is not taken: the scenario is acks=all.
TUNED_PRODUCER = {"linger.ms": 100}
TUNED_CONSUMER = {"fetch.min.bytes": 100000}

POLL_EVERY = 1000  # serve delivery callbacks every this many produce() calls
CHUNK = 1000  # messages per produce_batch() call


def producer_config(job: Job, linger_ms: int | None = None) -> dict:
    cfg = job.produce
    if job.profile in (DEFAULTS, TUNED):
        own = {
            "bootstrap.servers": job.bootstrap,
            "acks": cfg.acks,
            "enable.idempotence": cfg.enable_idempotence,
            "compression.type": cfg.compression_type,
        }
        return {**own, **TUNED_PRODUCER} if job.profile == TUNED else own
    return {
        "bootstrap.servers": job.bootstrap,
        "acks": cfg.acks,
        "enable.idempotence": cfg.enable_idempotence,
        "linger.ms": cfg.linger_ms if linger_ms is None else linger_ms,
        "batch.size": cfg.batch_size,
        "compression.type": cfg.compression_type,
        "max.in.flight.requests.per.connection": cfg.max_in_flight,
        # Java's buffer.memory bounds bytes only; librdkafka also bounds messages (100k by default)
        "queue.buffering.max.kbytes": cfg.buffer_memory // 1024,
        "queue.buffering.max.messages": 2_000_000,
    }


def consumer_config(job: Job) -> dict:
    cfg = job.consume
    own = {
        "bootstrap.servers": job.bootstrap,
        "group.id": f"bench-{job.topic}-{time.time_ns()}",  # required by librdkafka; assign() is used
        "enable.auto.commit": False,
        "auto.offset.reset": "earliest",
        "enable.partition.eof": False,
    }
    if job.profile in (DEFAULTS, TUNED):
        return {**own, **TUNED_CONSUMER} if job.profile == TUNED else own
    return {
        **own,
        "fetch.min.bytes": cfg.fetch_min_bytes,
        "fetch.wait.max.ms": cfg.fetch_max_wait_ms,
        "fetch.max.bytes": cfg.fetch_max_bytes,
        "max.partition.fetch.bytes": cfg.max_partition_fetch_bytes,
    }


class _Deliveries:
    """Counts delivery reports; librdkafka reports each message through its callback."""

    __slots__ = ("ok", "failed", "first_error")

    def __init__(self) -> None:
        self.ok = 0
        self.failed = 0
        self.first_error: object = None

    def __call__(self, err: object, msg: object) -> None:
        if err is None:
            self.ok += 1
        else:
            self.failed += 1
            if self.first_error is None:
                self.first_error = err


def _retry(produce_one: Callable[[], object], poll: Callable[[float], object]) -> None:
    """The local queue is full: serve callbacks until ``produce_one()`` is accepted."""
    while True:
        poll(0.005)
        try:
            produce_one()
            return
        except BufferError:
            pass


def _produce(job: Job) -> dict:
    pool, mask = values_for(job)
    producer = Producer(producer_config(job))
    warm = _Deliveries()
    producer.produce(job.topic, pool[0], on_delivery=warm)
    producer.flush(60.0)
    if warm.ok != 1:
        raise RuntimeError(f"warm-up record not delivered: {warm.first_error}")
    deliveries = _Deliveries()
    n = job.records
    topic = job.topic
    produce = producer.produce
    poll = producer.poll
    t0 = time.perf_counter()
    if job.api == "produce" and (job.keys or job.headers):  # a loop of its own: the plain one stays as it was
        keys, kmask = keys_for(job)
        hdrs = headers_for(job)
        for i in range(n):
            try:
                produce(topic, pool[i & mask], key=keys[i & kmask], headers=hdrs, on_delivery=deliveries)
            except BufferError:
                _retry(lambda: produce(topic, pool[i & mask], key=keys[i & kmask], headers=hdrs,
                                       on_delivery=deliveries), poll)
            if i % POLL_EVERY == 0:
                poll(0)
    elif job.api == "produce":
        for i in range(n):
            try:
                produce(topic, pool[i & mask], on_delivery=deliveries)
            except BufferError:
                _retry(lambda: produce(topic, pool[i & mask], on_delivery=deliveries), poll)
            if i % POLL_EVERY == 0:
                poll(0)
    elif job.api == "produce_batch":
        for start in range(0, n, CHUNK):
            messages = [{"value": pool[i & mask]} for i in range(start, min(n, start + CHUNK))]
            while messages:
                queued = producer.produce_batch(topic, messages, on_delivery=deliveries)
                if queued == len(messages):
                    break
                # the ones not queued carry an '_error'; queue full is the expected reason
                messages = [m for m in messages if "_error" in m]
                for m in messages:
                    del m["_error"]
                poll(0.005)
            poll(0)
    else:
        raise ValueError(f"unknown confluent produce API {job.api!r}")
    remaining = producer.flush(600.0)
    seconds = time.perf_counter() - t0
    if remaining:
        raise RuntimeError(f"{remaining} messages still undelivered after flush")
    if deliveries.ok + deliveries.failed != n:
        raise RuntimeError(f"{deliveries.ok + deliveries.failed} delivery reports for {n} messages")
    return throughput_result(n, seconds, deliveries.failed)


def _consume(job: Job) -> dict:
    consumer = Consumer(consumer_config(job))
    try:
        md = consumer.list_topics(job.topic, timeout=30.0)
        partitions = sorted(md.topics[job.topic].partitions)
        consumer.assign([TopicPartition(job.topic, p, OFFSET_BEGINNING) for p in partitions])
        n = job.records
        count = 0
        nbytes = 0
        t0 = time.perf_counter()
        if job.api == "poll":
            poll = consumer.poll
            while count < n:
                msg = poll(1.0)
                if msg is None:
                    continue
                if msg.error():
                    raise KafkaException(msg.error())
                nbytes += len(msg.value())
                count += 1
        elif job.api == "consume":
            consume = consumer.consume
            max_records = job.consume.max_records
            while count < n:
                # ask for no more than remain: consume() waits for all it asks for (or the timeout)
                for msg in consume(num_messages=min(max_records, n - count), timeout=1.0):
                    if msg.error():
                        raise KafkaException(msg.error())
                    nbytes += len(msg.value())
                    count += 1
        else:
            raise ValueError(f"unknown confluent consume API {job.api!r}")
        seconds = time.perf_counter() - t0
        return throughput_result(count, seconds, 0, bytes=nbytes)
    finally:
        consumer.close()


def _member(job: Job) -> dict:
    """One member of a group run: ``consume()`` until the group is done or the member has had no
    record for ``MEMBER_IDLE_S`` (``MemberLog.running``), committing what it read as an application
    would (auto commit)."""
    protocol = {"group.protocol": "consumer"} if job.api.endswith(CONSUMER_PROTOCOL) else {}
    log = MemberLog(job)
    started = time.time()
    consumer = Consumer({**consumer_config(job), "group.id": group_id(job), "enable.auto.commit": True, **protocol})
    try:
        consumer.subscribe([job.topic])
        max_records = job.consume.max_records
        while log.running(started):
            msgs = consumer.consume(num_messages=max_records, timeout=0.1)
            log.assignment_is((tp.topic, tp.partition) for tp in consumer.assignment())
            by_partition: dict[int | None, list] = {}
            for msg in msgs:
                if msg.error():
                    raise KafkaException(msg.error())
                by_partition.setdefault(msg.partition(), []).append(msg)
            for part, part_msgs in by_partition.items():
                log.add(part or 0, len(part_msgs), sum(len(m.value() or b"") for m in part_msgs),
                        part_msgs[-1].offset() or 0)
    finally:
        consumer.close()
    return log.result()


def _group(job: Job) -> dict:
    """``consume()`` through a consumer group; the clock starts before the consumer is made, so
    the join is inside it, and the time to the first record is reported with the rate."""
    if job.api.removesuffix(CONSUMER_PROTOCOL) != "consume":
        raise ValueError(f"unknown confluent group API {job.api!r}")
    if job.members > 1:
        return _member(job)
    n = job.records
    count = 0
    nbytes = 0
    first = None
    max_records = job.consume.max_records
    t0 = time.perf_counter()
    protocol = {"group.protocol": "consumer"} if job.api.endswith(CONSUMER_PROTOCOL) else {}
    consumer = Consumer({**consumer_config(job), "group.id": group_id(job), **protocol})
    try:
        consumer.subscribe([job.topic])
        while count < n:
            msgs = consumer.consume(num_messages=min(max_records, n - count), timeout=1.0)
            if msgs and first is None:
                first = time.perf_counter() - t0
            for msg in msgs:
                if msg.error():
                    raise KafkaException(msg.error())
                nbytes += len(msg.value() or b"")
                count += 1
        seconds = time.perf_counter() - t0
    finally:
        consumer.close()
    return throughput_result(count, seconds, 0, bytes=nbytes, first_record_s=first)


def _latency(job: Job) -> dict:
    producer = Producer(producer_config(job, linger_ms=0))
    topic = job.topic

    def send_one(value: bytes) -> None:
        deliveries = _Deliveries()
        producer.produce(topic, value, on_delivery=deliveries)
        producer.flush(30.0)
        if deliveries.ok != 1:
            raise RuntimeError(f"not delivered: {deliveries.first_error}")

    return measure_latency_sync(job, send_one)


def run(job: Job) -> dict:
    return {"produce": _produce, "consume": _consume, "group": _group, "latency": _latency}[job.scenario](job)
