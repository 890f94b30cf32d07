"""Where a ``send_and_wait`` round trip goes: the client's share and the broker's.

Runs ``send_and_wait`` one record at a time (``acks=all``, idempotent, ``linger_ms=0``: the
latency scenario of the suite) and prints, over the measured sends:

- the round trip's p50 and p99 (wall clock);
- the client's CPU time per send (user and system, ``os.times()``);
- the split of the round trip at the socket: from writing the request to reading its response
  (the broker, the network and the wake-up of this process) and from reading a response to writing
  the next request (the client: settling the batch, resuming the caller, the next ``send``).

The split is measured by wrapping the encoding of each Produce request (written to the socket
right after, in the same call) and the connection's ``_on_frame`` with a clock read, which adds a
little to the client's side. Environment: KAFKAIO_BOOTSTRAP (required), N (3000),
WARMUP (500), VALUE_SIZE (100), LOOP (asyncio or uvloop), PARTITIONS (1: the topic's partition count;
above 1 every send has its own key, so the records spread over every partition and the producer
keeps a queue for each: the per-partition cost of its pass; give a WARMUP above PARTITIONS).

    KAFKAIO_BOOTSTRAP=127.0.0.1:9092 .venv/bin/python -m benchmarks.roundtrip

Alternate two trees (say, the commit before a change and after it) on one broker to compare them:
``PYTHONPATH=/path/to/other/tree`` selects the other tree's ``kafkaio``.
"""
from __future__ import annotations

import asyncio
import os
import time
import uuid
from typing import Any

from kafkaio import Admin, NewTopic, Producer
from kafkaio import conn as _conn

PRODUCE = 0  # the Produce request's api key


def _percentile(sorted_values: list[int], q: float) -> float:
    return sorted_values[min(len(sorted_values) - 1, int(len(sorted_values) * q))] / 1000.0


async def main() -> None:
    bootstrap = os.environ["KAFKAIO_BOOTSTRAP"]
    n = int(os.environ.get("N", "3000"))
    warmup = int(os.environ.get("WARMUP", "500"))
    value = b"x" * int(os.environ.get("VALUE_SIZE", "100"))
    partitions = int(os.environ.get("PARTITIONS", "1"))
    keys = [str(i).encode() for i in range(warmup + n)] if partitions > 1 else [None] * (warmup + n)
    topic = "roundtrip-" + uuid.uuid4().hex[:8]
    writes: list[int] = []
    reads: list[int] = []
    clock = time.perf_counter_ns
    encode = _conn.encode_request
    on_frame = getattr(_conn.BrokerConnection, "_on_frame", None)  # absent in trees before 2026-11-28

    # only the produce connection's traffic: a metadata refresh elsewhere must not shift the pairs
    def timed_encode(api_key: int, *args: Any) -> bytes:
        if api_key == PRODUCE:
            writes.append(clock())
        return encode(api_key, *args)

    def timed_on_frame(self: _conn.BrokerConnection, payload: bytes) -> None:
        if self.purpose == "produce":
            reads.append(clock())
        on_frame(self, payload)

    async with Admin(bootstrap_servers=bootstrap) as admin:
        await admin.create_topics([NewTopic(topic, partitions, 1)], wait_for_leaders=True)
    if on_frame is not None:  # before connecting: the connection binds _on_frame when it opens
        _conn.encode_request = timed_encode  # type: ignore[assignment]
        _conn.BrokerConnection._on_frame = timed_on_frame  # type: ignore[method-assign]
    try:
        producer = Producer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True, linger_ms=0)
        await producer.start()
        for key in keys[:warmup]:
            await producer.send_and_wait(topic, value, key=key)
        writes.clear()
        reads.clear()
        latencies: list[int] = []
        t0 = os.times()
        for key in keys[warmup:]:
            start = clock()
            await producer.send_and_wait(topic, value, key=key)
            latencies.append(clock() - start)
        t1 = os.times()
        await producer.close()
    finally:
        if on_frame is not None:
            _conn.encode_request = encode  # type: ignore[assignment]
            _conn.BrokerConnection._on_frame = on_frame  # type: ignore[method-assign]
        async with Admin(bootstrap_servers=bootstrap) as admin:
            await admin.delete_topics([topic])
    latencies.sort()
    # every send writes one request and reads its response, in turn
    pairs = list(zip(writes, reads))
    away = sorted(r - w for w, r in pairs)
    here = sorted(w2 - r for (_, r), (w2, _) in zip(pairs, pairs[1:]))
    loop = os.environ.get("LOOP", "asyncio")
    split = (f"; write -> response p50 {_percentile(away, 0.5):.0f} us, "
             f"response -> next write p50 {_percentile(here, 0.5):.0f} us") if away and here else ""
    print(f"send_and_wait x{n} ({loop}, {partitions} partition(s)): p50 {_percentile(latencies, 0.5):.0f} us, "
          f"p99 {_percentile(latencies, 0.99):.0f} us; client CPU per send: "
          f"user {1e6 * (t1.user - t0.user) / n:.0f} us, system {1e6 * (t1.system - t0.system) / n:.0f} us"
          f"{split}")


if __name__ == "__main__":
    if os.environ.get("LOOP") == "uvloop":
        import uvloop

        uvloop.install()
    asyncio.run(main())
