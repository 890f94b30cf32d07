"""Record batch encode/decode cost: kafkaio against aiokafka's Cython record classes, in one run.

Each measurement builds (or decodes) full batches of records with 10-byte keys and 100-byte values,
and reports nanoseconds per record. The two libraries alternate inside every repetition so that CPU
frequency drift and noisy neighbours hit both alike; the table shows the median of the repetitions.

    .venv/bin/python -m benchmarks.records [--reps 9] [--batches 200] [--records 128] [--codecs none,lz4,zstd]
                                           [--batch-size 1048576]

Instruction counts (independent of machine load): run one loop under callgrind for two batch counts
and divide the difference by the extra records, e.g. for kafkaio's uncompressed decode

    valgrind --tool=callgrind .venv/bin/python -m benchmarks.records --loop kafkaio-decode --batches 100
    valgrind --tool=callgrind .venv/bin/python -m benchmarks.records --loop kafkaio-decode --batches 1100
    # (Ir of the second - Ir of the first) / (1000 * 128)

aiokafka is optional (``pip install aiokafka``); without it only kafkaio's column is filled.
"""
from __future__ import annotations

import argparse
import gc
import os
import statistics
import sys
import time
from typing import Any, Callable

from kafkaio._speedups import load, speedups_enabled

try:
    from aiokafka.record._crecords import DefaultRecordBatchBuilder as AioBuilder
    from aiokafka.record._crecords import MemoryRecords as AioMemoryRecords
except ImportError:  # pragma: no cover - aiokafka is a benchmark-only dependency
    AioBuilder = AioMemoryRecords = None

CODECS = {"none": 0, "lz4": 3, "zstd": 4}
BATCH_SIZE = 1 << 20  # never "full": every batch holds exactly --records records (--batch-size changes it)
TIMESTAMP = 1_700_000_000_000


def _payloads(n: int) -> list[tuple[bytes, bytes]]:
    # distinct, partly compressible values (like real payloads), fixed seed for repeatability
    rnd = __import__("random").Random(42)
    out = []
    for i in range(n):
        key = f"key-{i:06d}".encode()
        value = (b"%08d" % i) + bytes(rnd.getrandbits(8) for _ in range(46)) + b"x" * 46
        out.append((key, value))
    return out


def kafkaio_encode(codec: int, records: list[tuple[bytes, bytes]], batches: int) -> float:
    builder_type = load("records").BatchBuilder
    ts = TIMESTAMP
    start = time.perf_counter_ns()
    for _ in range(batches):
        b = builder_type(codec, BATCH_SIZE)
        append = b.append
        for key, value in records:
            append(ts, key, value, None)
        b.build()
    return (time.perf_counter_ns() - start) / (batches * len(records))


def aiokafka_encode(codec: int, records: list[tuple[bytes, bytes]], batches: int) -> float:
    ts = TIMESTAMP
    start = time.perf_counter_ns()
    for _ in range(batches):
        b = AioBuilder(2, codec, 0, -1, -1, -1, BATCH_SIZE)
        append = b.append
        offset = 0
        for key, value in records:
            append(offset, ts, key, value, [])
            offset += 1
        b.build()
    return (time.perf_counter_ns() - start) / (batches * len(records))


def kafkaio_decode(data: bytes, count: int, batches: int) -> float:
    read_batches = load("records").read_batches
    start = time.perf_counter_ns()
    for _ in range(batches):
        for batch in read_batches(data):
            batch.records("topic", 0)
    return (time.perf_counter_ns() - start) / (batches * count)


def aiokafka_decode(data: bytes, count: int, batches: int) -> float:
    start = time.perf_counter_ns()
    for _ in range(batches):
        mr = AioMemoryRecords(data)
        while True:
            batch = mr.next_batch()
            if batch is None:
                break
            list(batch)
    return (time.perf_counter_ns() - start) / (batches * count)


def _measure(fn: Callable[..., float], *args: Any) -> float:
    gc.collect()
    gc.disable()  # the collector's pauses would land on whichever library allocates when it runs
    try:
        return fn(*args)
    finally:
        gc.enable()


def run(reps: int, batches: int, count: int, codecs: list[str] | None = None) -> list[dict[str, Any]]:
    records = _payloads(count)
    rows = []
    for name in codecs or list(CODECS):
        codec = CODECS[name]
        b = load("records").BatchBuilder(codec, BATCH_SIZE)
        for key, value in records:
            b.append(TIMESTAMP, key, value, None)
        data = b.build()
        results: dict[str, list[float]] = {"ke": [], "ae": [], "kd": [], "ad": []}
        for _ in range(reps):
            results["ke"].append(_measure(kafkaio_encode, codec, records, batches))
            if AioBuilder is not None:
                results["ae"].append(_measure(aiokafka_encode, codec, records, batches))
            results["kd"].append(_measure(kafkaio_decode, data, count, batches))
            if AioBuilder is not None:
                results["ad"].append(_measure(aiokafka_decode, data, count, batches))
        for op, k, a in (("encode", "ke", "ae"), ("decode", "kd", "ad")):
            mine = statistics.median(results[k])
            theirs = statistics.median(results[a]) if results[a] else None
            rows.append({"codec": name, "op": op, "kafkaio": mine, "aiokafka": theirs})
    return rows


def table(rows: list[dict[str, Any]]) -> str:
    lines = [
        "| codec | operation | kafkaio ns/record | aiokafka ns/record | aiokafka / kafkaio |",
        "|---|---|---:|---:|---:|",
    ]
    for r in rows:
        theirs = f"{r['aiokafka']:.0f}" if r["aiokafka"] is not None else "n/a"
        ratio = f"{r['aiokafka'] / r['kafkaio']:.2f}x" if r["aiokafka"] is not None else "n/a"
        lines.append(f"| {r['codec']} | {r['op']} | {r['kafkaio']:.0f} | {theirs} | {ratio} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    global BATCH_SIZE
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=9, help="repetitions (median reported)")
    ap.add_argument("--batches", type=int, default=200, help="batches per measurement")
    ap.add_argument("--records", type=int, default=128, help="records per batch")
    ap.add_argument("--batch-size", type=int, default=BATCH_SIZE,
                    help="builders' batch_size (default 1 MiB; the producer's default is 16384, enough for 128 records)")
    ap.add_argument("--codecs", default=",".join(CODECS), help="comma-separated subset of " + ",".join(CODECS))
    ap.add_argument("--loop", choices=["kafkaio-encode", "aiokafka-encode", "kafkaio-decode", "aiokafka-decode"],
                    help="only run this loop (uncompressed), untimed: for callgrind")
    args = ap.parse_args(argv)
    BATCH_SIZE = args.batch_size
    if args.loop:
        records = _payloads(args.records)
        b = load("records").BatchBuilder(0, BATCH_SIZE)
        for key, value in records:
            b.append(TIMESTAMP, key, value, None)
        data = b.build()
        fn = {"kafkaio-encode": kafkaio_encode, "aiokafka-encode": aiokafka_encode,
              "kafkaio-decode": kafkaio_decode, "aiokafka-decode": aiokafka_decode}[args.loop]
        if args.loop.endswith("encode"):
            fn(0, records, args.batches)
        else:
            fn(data, args.records, args.batches)
        return 0
    impl = load("records").__name__
    print(f"kafkaio implementation: {impl} (speedups enabled: {speedups_enabled()}); "
          f"python {sys.version.split()[0]}; {os.cpu_count()} CPUs; "
          f"{args.records} records/batch, 10-byte keys, 100-byte values, batch_size {BATCH_SIZE}, "
          f"median of {args.reps}")
    if AioBuilder is None:
        print("aiokafka not installed: its column is empty")
    print()
    print(table(run(args.reps, args.batches, args.records, args.codecs.split(","))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
