"""Record batch encode/decode cost: kafkaio against aiokafka's Cython record classes, in one run.

Each measurement builds (or decodes) batches of records with 10-byte keys and 100-byte values, and
reports nanoseconds per record. The two libraries alternate inside every repetition so that CPU
frequency drift and noisy neighbours hit both alike; the table shows the median of the repetitions.

Operations, each the same work for both libraries:

- encode, batch_size 16384: the producer's default ``batch.size`` (128 such records fill 98% of it);
- encode, batch_size 1 MiB: a batch far from full (a large ``batch.size`` with light traffic), where
  kafkaio copies the finished batch out of its large buffer;
- decode with CRC check: what both consumers do by default (``check_crcs=True``): kafkaio's reader
  checks each batch while iterating, aiokafka's fetcher calls ``validate_crc()`` on each batch;
- decode without CRC check: the records alone (``check_crcs=False``).

Every append is checked to have fit, so a run never measures fewer records than it reports.

    .venv/bin/python -m benchmarks.records [--reps 9] [--batches 200] [--records 128] [--codecs none,lz4,zstd]
                                           [--batch-sizes 16384,1048576] [--best-of 1]

``--best-of N`` repeats the whole run N times and reports, per row and library, the lowest of the N
medians: on a shared machine a neighbour's burst inflates some runs, never deflates one. Comparing
interpreters (the codec rows for each CPython), run the same command with each one's venv, e.g.
``/tmp/venv313/bin/python -m benchmarks.records --best-of 5`` with the checkout on ``PYTHONPATH``.

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
    from aiokafka.record._crecords import DefaultRecordBatchBuilder as AioBuilder  # type: ignore[import-untyped]
    from aiokafka.record._crecords import MemoryRecords as AioMemoryRecords  # type: ignore[import-untyped]
except ImportError:  # pragma: no cover - aiokafka is a benchmark-only dependency
    AioBuilder = AioMemoryRecords = None

CODECS = {"none": 0, "lz4": 3, "zstd": 4}
BATCH_SIZES = (16384, 1 << 20)  # the producer's default, and one the batch never comes close to
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


def kafkaio_encode(codec: int, records: list[tuple[bytes, bytes]], batches: int, batch_size: int) -> float:
    builder_type = load("records").BatchBuilder
    ts = TIMESTAMP
    start = time.perf_counter_ns()
    for _ in range(batches):
        b = builder_type(codec, batch_size)
        append = b.append
        for key, value in records:
            append(ts, key, value, None)
        b.build()
    return (time.perf_counter_ns() - start) / (batches * len(records))


def aiokafka_encode(codec: int, records: list[tuple[bytes, bytes]], batches: int, batch_size: int) -> float:
    ts = TIMESTAMP
    start = time.perf_counter_ns()
    for _ in range(batches):
        b = AioBuilder(2, codec, 0, -1, -1, -1, batch_size)
        append = b.append
        offset = 0
        for key, value in records:
            append(offset, ts, key, value, [])
            offset += 1
        b.build()
    return (time.perf_counter_ns() - start) / (batches * len(records))


def _check_fit(codec: int, records: list[tuple[bytes, bytes]], batch_size: int) -> None:
    # outside the clock: a refused append would make a run measure fewer records than it reports
    b = load("records").BatchBuilder(codec, batch_size)
    if any(b.append(TIMESTAMP, key, value, None) < 0 for key, value in records):
        raise ValueError(f"{len(records)} records do not fit in kafkaio's batch_size {batch_size}")
    if AioBuilder is not None:
        a = AioBuilder(2, codec, 0, -1, -1, -1, batch_size)
        if any(a.append(i, TIMESTAMP, key, value, []) is None for i, (key, value) in enumerate(records)):
            raise ValueError(f"{len(records)} records do not fit in aiokafka's batch_size {batch_size}")


def kafkaio_decode(data: bytes, count: int, batches: int, check_crcs: bool) -> float:
    read_batches = load("records").read_batches
    start = time.perf_counter_ns()
    for _ in range(batches):
        for batch in read_batches(data, check_crcs):
            batch.records("topic", 0)
    return (time.perf_counter_ns() - start) / (batches * count)


def aiokafka_decode(data: bytes, count: int, batches: int, check_crcs: bool) -> float:
    start = time.perf_counter_ns()
    for _ in range(batches):
        mr = AioMemoryRecords(data)
        while True:
            batch = mr.next_batch()
            if batch is None:
                break
            if check_crcs and not batch.validate_crc():  # as aiokafka's fetcher does by default
                raise RuntimeError("aiokafka: CRC mismatch")
            list(batch)
    return (time.perf_counter_ns() - start) / (batches * count)


def _measure(fn: Callable[..., float], *args: Any) -> float:
    gc.collect()
    gc.disable()  # the collector's pauses would land on whichever library allocates when it runs
    try:
        return fn(*args)
    finally:
        gc.enable()


def _encoded(codec: int, records: list[tuple[bytes, bytes]]) -> bytes:
    b = load("records").BatchBuilder(codec, 1 << 20)
    for key, value in records:
        b.append(TIMESTAMP, key, value, None)
    return b.build()


def run(reps: int, batches: int, count: int, codecs: list[str] | None = None,
        batch_sizes: tuple[int, ...] = BATCH_SIZES) -> list[dict[str, Any]]:
    """One row per codec and operation: kafkaio's and aiokafka's median ns/record."""
    records = _payloads(count)
    rows = []
    for name in codecs or list(CODECS):
        codec = CODECS[name]
        data = _encoded(codec, records)
        for size in batch_sizes:
            _check_fit(codec, records, size)
        # (operation label, kafkaio measurement, aiokafka measurement, arguments)
        ops: list[tuple[str, Callable[..., float], Callable[..., float], tuple]] = [
            (f"encode, batch_size {size}", kafkaio_encode, aiokafka_encode, (codec, records, batches, size))
            for size in batch_sizes
        ]
        ops += [
            ("decode with CRC check", kafkaio_decode, aiokafka_decode, (data, count, batches, True)),
            ("decode without CRC check", kafkaio_decode, aiokafka_decode, (data, count, batches, False)),
        ]
        results: dict[str, tuple[list[float], list[float]]] = {label: ([], []) for label, *_ in ops}
        for _ in range(reps):
            for label, mine, theirs, args in ops:
                results[label][0].append(_measure(mine, *args))
                if AioBuilder is not None:
                    results[label][1].append(_measure(theirs, *args))
        for label, *_ in ops:
            ours, aio = results[label]
            rows.append({"codec": name, "op": label, "kafkaio": statistics.median(ours),
                         "aiokafka": statistics.median(aio) if aio else None})
    return rows


def best_of(runs: list[list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """The rows of several runs of ``run()`` merged: per row, each library's lowest median."""
    merged = []
    for rows in zip(*runs):
        aio = [r["aiokafka"] for r in rows if r["aiokafka"] is not None]
        merged.append({"codec": rows[0]["codec"], "op": rows[0]["op"], "kafkaio": min(r["kafkaio"] for r in rows),
                       "aiokafka": min(aio) if aio else None})
    return merged


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
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=9, help="repetitions (median reported)")
    ap.add_argument("--batches", type=int, default=200, help="batches per measurement")
    ap.add_argument("--records", type=int, default=128, help="records per batch")
    ap.add_argument("--batch-sizes", default=",".join(map(str, BATCH_SIZES)),
                    help="comma-separated builder batch sizes for the encode rows")
    ap.add_argument("--codecs", default=",".join(CODECS), help="comma-separated subset of " + ",".join(CODECS))
    ap.add_argument("--best-of", type=int, default=1,
                    help="repeat the whole run this many times and report each row's lowest median")
    ap.add_argument("--loop", choices=["kafkaio-encode", "aiokafka-encode", "kafkaio-decode", "aiokafka-decode"],
                    help="only run this loop (uncompressed, first batch size, decode with CRC check), "
                         "untimed: for callgrind")
    args = ap.parse_args(argv)
    batch_sizes = tuple(int(x) for x in args.batch_sizes.split(","))
    if args.loop:
        records = _payloads(args.records)
        fn: Callable[..., float]
        if args.loop.endswith("encode"):
            fn = kafkaio_encode if args.loop.startswith("kafkaio") else aiokafka_encode
            fn(0, records, args.batches, batch_sizes[0])
        else:
            fn = kafkaio_decode if args.loop.startswith("kafkaio") else aiokafka_decode
            fn(_encoded(0, records), args.records, args.batches, True)
        return 0
    impl = load("records").__name__
    print(f"kafkaio implementation: {impl} (speedups enabled: {speedups_enabled()}); "
          f"python {sys.version.split()[0]}; {os.cpu_count()} CPUs; "
          f"{args.records} records/batch, 10-byte keys, 100-byte values, median of {args.reps}"
          + (f", best of {args.best_of} runs" if args.best_of > 1 else ""))
    if AioBuilder is None:
        print("aiokafka not installed: its column is empty")
    print()
    runs = [run(args.reps, args.batches, args.records, args.codecs.split(","), batch_sizes)
            for _ in range(max(args.best_of, 1))]
    print(table(best_of(runs)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
