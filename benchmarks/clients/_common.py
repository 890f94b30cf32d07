"""Helpers shared by the Python runners: event loop choice, clocks, the latency loop, result shape."""
from __future__ import annotations

import asyncio
import math
import os
import signal
import sys
import time
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine
from pathlib import Path
from typing import Any

from benchmarks.clients import CONSUMER_PROTOCOL
from benchmarks.settings import Job, headers, keys, payloads, pool_size

LATENCY_WARMUP = 200  # sends before the measured ones: connections, producer id, JIT-less warm caches


def run_on_loop(job: Job, main: Callable[[], Coroutine[Any, Any, dict]]) -> dict:
    """Run ``main()`` on the loop the job asks for (the standard asyncio loop or uvloop)."""
    if job.loop == "uvloop":
        import uvloop

        factory: Callable[[], asyncio.AbstractEventLoop] | None = uvloop.new_event_loop
    else:
        factory = None

    async def with_task_dump() -> dict:
        # on SIGUSR1 (sent by the harness before it kills a hung run) print every task's stack
        asyncio.get_running_loop().add_signal_handler(signal.SIGUSR1, _dump_tasks)
        return await main()

    with asyncio.Runner(loop_factory=factory) as runner:
        return runner.run(with_task_dump())


def _dump_tasks() -> None:
    for task in asyncio.all_tasks():
        print(f"--- {task!r}", file=sys.stderr)
        task.print_stack(limit=12, file=sys.stderr)
    sys.stderr.flush()


def values_for(job: Job) -> tuple[list[bytes], int]:
    """The payload pool and the mask to cycle through it (its size is a power of two)."""
    pool = payloads(job.record_size, pool_size(job.record_size))
    return pool, len(pool) - 1


def keys_for(job: Job) -> tuple[list[bytes | None], int]:
    """The keys and the mask to cycle through them (``job.keys`` is a power of two; without keys,
    one None)."""
    if not job.keys:
        return [None], 0
    if job.keys & (job.keys - 1) or job.keys < 0:
        raise ValueError(f"keys: {job.keys} is not a power of two")
    return list(keys(job.keys)), job.keys - 1


def headers_for(job: Job) -> list[tuple[str, bytes]] | None:
    """The headers of every record of ``job`` (None without headers)."""
    return headers(job.headers) if job.headers else None


class Pending:
    """Delivery futures of per-record sends not yet seen decided. Decided ones are dropped while
    sending goes on, as an application would drop them, so that no run holds a million futures
    (which would inflate the peak RSS of future-based clients against callback-based ones)."""

    REAP_EVERY = 8192  # records between two reaps (a power of two: the hot loop tests i & mask)

    __slots__ = ("futures", "errors", "_done", "_failed")

    def __init__(self, done: Callable[[Any], bool], failed: Callable[[Any], bool]) -> None:
        self.futures: deque[Any] = deque()
        self.errors = 0
        self._done = done
        self._failed = failed

    def reap(self) -> None:
        """Drop the decided futures at the front, counting the failed ones."""
        q, done, failed = self.futures, self._done, self._failed
        while q and done(q[0]):
            if failed(q.popleft()):
                self.errors += 1

    def finish(self) -> int:
        """After every delivery is decided: the number of failed records."""
        self.reap()
        return self.errors + len(self.futures)  # anything still undecided counts as failed


async def send_keyed(send: Callable[..., Awaitable[Any]], job: Job, pool: list[bytes], mask: int,
                     pending: Pending) -> None:
    """The per-record ``send()`` loop of the asyncio clients with keys and/or headers (``job.keys``,
    ``job.headers``): ``send`` returns the record's future once it is buffered, kept in ``pending``."""
    topic = job.topic
    keep = pending.futures.append
    reap_mask = Pending.REAP_EVERY - 1
    keys, kmask = keys_for(job)
    hdrs = headers_for(job)
    for i in range(job.records):
        keep(await send(topic, pool[i & mask], key=keys[i & kmask], headers=hdrs))
        if not i & reap_mask:
            pending.reap()


def asyncio_failed(fut: asyncio.Future) -> bool:
    return fut.cancelled() or fut.exception() is not None


async def wait_all(futures: list[asyncio.Future]) -> None:
    """Wait for every delivery future (those not done after ``flush()``); failures are counted later."""
    pending = [f for f in futures if not f.done()]
    if pending:
        await asyncio.wait(pending)


def throughput_result(records: int, seconds: float, errors: int, **extra: Any) -> dict:
    return {"records": records, "seconds": seconds, "errors": errors, **extra}


def latency_result(samples_ns: list[int], errors: int) -> dict:
    """Percentiles in microseconds over the measured sends."""
    samples = sorted(samples_ns)
    n = len(samples)

    def pct(p: float) -> float:
        # nearest-rank percentile
        idx = min(n - 1, max(0, math.ceil(round(p / 100.0 * n, 6)) - 1))  # round: 99.9/100*1000 > 999
        return samples[idx] / 1000.0

    return {
        "records": n,
        "errors": errors,
        "seconds": sum(samples) / 1e9,
        "p50_us": pct(50),
        "p99_us": pct(99),
        "p999_us": pct(99.9),
        "max_us": samples[-1] / 1000.0,
        "mean_us": sum(samples) / n / 1000.0,
    }


async def measure_latency_async(job: Job, send_one: Callable[[bytes], Awaitable[Any]]) -> dict:
    """Await ``send_one`` one record at a time; time each call (after a short warm-up)."""
    pool, mask = values_for(job)
    for i in range(LATENCY_WARMUP):
        await send_one(pool[i & mask])
    samples: list[int] = []
    errors = 0
    clock = time.perf_counter_ns
    for i in range(job.records):
        t0 = clock()
        try:
            await send_one(pool[i & mask])
        except Exception:  # a failed send is counted, and its time still recorded
            errors += 1
        samples.append(clock() - t0)
    return latency_result(samples, errors)


def measure_latency_sync(job: Job, send_one: Callable[[bytes], Any]) -> dict:
    """The blocking twin of :func:`measure_latency_async`."""
    pool, mask = values_for(job)
    for i in range(LATENCY_WARMUP):
        send_one(pool[i & mask])
    samples: list[int] = []
    errors = 0
    clock = time.perf_counter_ns
    for i in range(job.records):
        t0 = clock()
        try:
            send_one(pool[i & mask])
        except Exception:
            errors += 1
        samples.append(clock() - t0)
    return latency_result(samples, errors)


# -- settings in the snake_case names that kafkaio, aiokafka and kafka-python share ------------------


def snake_producer_kwargs(job: Job, linger_ms: int | None = None) -> dict:
    """The shared producer settings under their Java names with ``.`` -> ``_``."""
    cfg = job.produce
    return dict(
        bootstrap_servers=job.bootstrap,
        acks=cfg.acks,
        enable_idempotence=cfg.enable_idempotence,
        linger_ms=cfg.linger_ms if linger_ms is None else linger_ms,
        batch_size=cfg.batch_size,
        max_in_flight_requests_per_connection=cfg.max_in_flight,
        buffer_memory=cfg.buffer_memory,
        compression_type=cfg.compression_type,
    )


def snake_consumer_kwargs(job: Job) -> dict:
    """The shared consumer settings, for a consumer without group reading from the beginning."""
    cfg = job.consume
    return dict(
        bootstrap_servers=job.bootstrap,
        group_id=None,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        fetch_min_bytes=cfg.fetch_min_bytes,
        fetch_max_wait_ms=cfg.fetch_max_wait_ms,
        fetch_max_bytes=cfg.fetch_max_bytes,
        max_partition_fetch_bytes=cfg.max_partition_fetch_bytes,
        max_poll_records=cfg.max_records,
    )


# -- the consume and latency loops of the asyncio clients (kafkaio and aiokafka share the API) ------


async def consume_async(job: Job, consumer: Any) -> dict:
    """Read ``job.records`` records with ``async for`` or ``getmany()``, touching every value."""
    n = job.records
    count = 0
    nbytes = 0
    t0 = time.perf_counter()
    if job.api == "async-for":
        async for rec in consumer:
            nbytes += len(rec.value)
            count += 1
            if count >= n:
                break
    elif job.api == "getmany":
        max_records = job.consume.max_records
        while count < n:
            batches = await consumer.getmany(timeout_ms=1000, max_records=max_records)
            for recs in batches.values():
                for rec in recs:
                    nbytes += len(rec.value)
                count += len(recs)
    else:
        raise ValueError(f"unknown {job.client} consume API {job.api!r}")
    seconds = time.perf_counter() - t0
    return throughput_result(count, seconds, 0, bytes=nbytes)


def group_id(job: Job) -> str:
    """A group of its own for each group run, so that every run joins and starts from the beginning
    (the one the harness gave the members of a group run)."""
    return job.group or f"bench-group-{job.topic}-{time.time_ns()}"


# A member of a group run stops when the group is done (MemberLog.group_done), or when it has had
# no record for this long (from its start, while it waits for its first assignment): the members of
# Java's tool, which cannot learn that the group is done, and a group that misses a partition.
MEMBER_IDLE_S = 5.0

_GROUP_DONE = "done"


class MemberLog:
    """What one member of a group run read: its record count, bytes, the wall-clock times of its
    first and last record, the highest offset it saw per partition (the harness checks that the
    members together read every partition to its end), and when it first reached each partition's
    end. It marks each end it reaches in the members' shared ``job.done_dir``; the member that
    marks the last one marks the group done."""

    def __init__(self, job: Job) -> None:
        self.count = 0
        self.nbytes = 0
        self.first_wall: float | None = None
        self.last_wall: float | None = None
        self.max_offsets: dict[int, int] = {}
        self.end_walls: dict[int, float] = {}
        self.assignment: frozenset[Any] = frozenset()
        self.assigned_wall = 0.0
        self._ends = job.ends
        self._done_dir = job.done_dir

    def add(self, partition: int, count: int, nbytes: int, last_offset: int) -> None:
        """``count`` records of ``partition`` (``nbytes`` of values, the last at ``last_offset``)."""
        if not count:
            return
        now = time.time()
        if self.first_wall is None:
            self.first_wall = now
        self.last_wall = now
        self.count += count
        self.nbytes += nbytes
        if last_offset > self.max_offsets.get(partition, -1):
            self.max_offsets[partition] = last_offset
        if (self._done_dir and partition not in self.end_walls and partition < len(self._ends)
                and last_offset + 1 >= self._ends[partition]):
            self.end_walls[partition] = now
            self._mark_end(partition)

    def _mark_end(self, partition: int) -> None:
        """Mark ``partition``'s end reached; every member marks before it counts the marks, so
        whichever marks last sees them all and marks the group done."""
        folder = Path(self._done_dir)
        (folder / f"end-{partition}").touch()
        if sum(1 for f in folder.iterdir() if f.name.startswith("end-")) >= len(self._ends):
            (folder / _GROUP_DONE).touch()

    def group_done(self) -> bool:
        """Whether the members together have reached every partition's end."""
        return bool(self._done_dir) and os.path.exists(os.path.join(self._done_dir, _GROUP_DONE))

    def running(self, started_wall: float) -> bool:
        """Whether the member goes on reading: the group is not done and the member not idle for
        ``MEMBER_IDLE_S``."""
        return not self.group_done() and self.idle_for(started_wall) < MEMBER_IDLE_S

    def idle_for(self, started_wall: float) -> float:
        """Seconds since the last record, the member's start, or the last change of its
        assignment (a partition handed over is waited for as long as a new member's first)."""
        return time.time() - max(self.last_wall or 0.0, started_wall, self.assigned_wall)

    def assignment_is(self, partitions: Any) -> None:
        """The member's assignment now: a change restarts its idle clock."""
        current = frozenset(partitions)
        if current != self.assignment:
            self.assignment = current
            self.assigned_wall = time.time()

    def result(self) -> dict:
        return {"records": self.count, "seconds": 0.0, "errors": 0, "bytes": self.nbytes,
                "first_wall": self.first_wall, "last_wall": self.last_wall,
                "max_offsets": {str(p): o for p, o in self.max_offsets.items()},
                "end_walls": {str(p): w for p, w in self.end_walls.items()}}


async def consume_member_async(job: Job, make_consumer: Callable[[], Any]) -> dict:
    """One member of a group run: ``getmany()`` until the group is done or the member has had no
    record for ``MEMBER_IDLE_S`` (``MemberLog.running``)."""
    if job.api.removesuffix(CONSUMER_PROTOCOL) != "getmany":
        raise ValueError(f"unknown {job.client} group API {job.api!r}")
    log = MemberLog(job)
    started = time.time()
    consumer = make_consumer()
    await consumer.start()
    try:
        max_records = job.consume.max_records
        while log.running(started):
            batches = await consumer.getmany(timeout_ms=100, max_records=max_records)
            log.assignment_is(consumer.assignment())
            for tp, recs in batches.items():
                if recs:
                    nbytes = 0
                    for rec in recs:
                        nbytes += len(rec.value)
                    log.add(tp.partition, len(recs), nbytes, recs[-1].offset)
    finally:
        await consumer.stop()
    return log.result()


async def consume_group_async(job: Job, make_consumer: Callable[[], Any]) -> dict:
    """Read ``job.records`` records with ``getmany()`` through a consumer group. The clock starts
    before the consumer is made: the join is inside it, and the time to the first record is
    reported with the rate."""
    if job.api.removesuffix(CONSUMER_PROTOCOL) != "getmany":
        raise ValueError(f"unknown {job.client} group API {job.api!r}")
    n = job.records
    count = 0
    nbytes = 0
    first = None
    t0 = time.perf_counter()
    consumer = make_consumer()
    await consumer.start()
    try:
        max_records = job.consume.max_records
        while count < n:
            batches = await consumer.getmany(timeout_ms=1000, max_records=max_records)
            for recs in batches.values():
                if recs and first is None:
                    first = time.perf_counter() - t0
                for rec in recs:
                    nbytes += len(rec.value)
                count += len(recs)
        seconds = time.perf_counter() - t0
    finally:
        await consumer.stop()
    return throughput_result(count, seconds, 0, bytes=nbytes, first_record_s=first)


async def latency_async(job: Job, producer: Any) -> dict:
    """``send_and_wait`` one record at a time on a started producer, which is stopped afterwards."""
    topic = job.topic

    async def send_one(value: bytes) -> None:
        await producer.send_and_wait(topic, value)

    try:
        return await measure_latency_async(job, send_one)
    finally:
        await producer.stop()
