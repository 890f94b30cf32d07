"""What transactions cost: records/s with transactions of 100, 1,000 and 10,000 records against the
same load without transactions (idempotent producer), for kafkaio (transaction v2 when the broker
offers it, and the classic protocol forced) and aiokafka (classic), in one run.

    KAFKAIO_BOOTSTRAP=host:port python -m benchmarks.transactions [--records 100000] [--size 100]

Each case runs in its own subprocess (no client warms caches for another) on a fresh 3-partition
topic: ``records`` values of ``size`` bytes sent one ``send()`` at a time, the transaction committed
every N records (the clock stops when the last commit, or flush, returned). Prints a markdown table.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time
import uuid

# "kafkaio" uses transaction v2 (KIP-890) when the broker offers it; "kafkaio-v1" forces the classic protocol
CASES = [(client, txn) for client in ("kafkaio", "kafkaio-v1", "aiokafka") for txn in (0, 100, 1000, 10000)
         if not (client == "kafkaio-v1" and txn == 0)]


async def _topic(bootstrap: str) -> str:
    import kafkaio
    from kafkaio.admin import NewTopic

    name = f"bench-txn-{uuid.uuid4().hex[:8]}"
    async with kafkaio.Admin(bootstrap) as admin:
        await admin.create_topics([NewTopic(name, 3, 1)], wait_for_leaders=True)
    return name


async def _kafkaio(bootstrap: str, topic: str, records: int, value: bytes, txn: int) -> float:
    import kafkaio

    kw = {"transactional_id": f"bench-{uuid.uuid4().hex[:8]}"} if txn else {}
    async with kafkaio.Producer(bootstrap, linger_ms=5, **kw) as p:
        await (await p.send(topic, value)) if not txn else None  # connections and metadata warm
        start = time.perf_counter()
        if not txn:
            for _ in range(records):
                await p.send(topic, value)
            await p.flush()
        else:
            for _ in range(records // txn):
                p.begin_transaction()
                for _ in range(txn):
                    await p.send(topic, value)
                await p.commit_transaction()
        return time.perf_counter() - start


async def _aiokafka(bootstrap: str, topic: str, records: int, value: bytes, txn: int) -> float:
    from aiokafka import AIOKafkaProducer

    kw = {"transactional_id": f"bench-{uuid.uuid4().hex[:8]}"} if txn else {}
    p = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=5, enable_idempotence=True, **kw)
    await p.start()
    try:
        if not txn:
            await (await p.send(topic, value))
        start = time.perf_counter()
        if not txn:
            for _ in range(records):
                await p.send(topic, value)
            await p.flush()
        else:
            for _ in range(records // txn):
                async with p.transaction():
                    for _ in range(txn):
                        await p.send(topic, value)
        return time.perf_counter() - start
    finally:
        await p.stop()


async def _one(client: str, txn: int, bootstrap: str, records: int, size: int) -> dict:
    topic = await _topic(bootstrap)
    if client == "kafkaio-v1":
        from kafkaio.producer.transactions import TransactionManager

        TransactionManager.max_transaction_version = 1
    run = _aiokafka if client == "aiokafka" else _kafkaio
    seconds = await run(bootstrap, topic, records, b"x" * size, txn)
    return {"client": client, "txn": txn, "records": records, "seconds": seconds,
            "records_per_s": records / seconds}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.transactions", description=__doc__.splitlines()[0])
    ap.add_argument("--records", type=int, default=100_000)
    ap.add_argument("--size", type=int, default=100, help="value bytes")
    ap.add_argument("--repeat", type=int, default=1, help="runs per case; the best one counts (noisy machines)")
    ap.add_argument("--bootstrap", default=os.environ.get("KAFKAIO_BOOTSTRAP"))
    ap.add_argument("--one", nargs=2, metavar=("CLIENT", "TXN"), help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if not args.bootstrap:
        ap.error("set KAFKAIO_BOOTSTRAP or --bootstrap")
    if args.one:
        result = asyncio.run(_one(args.one[0], int(args.one[1]), args.bootstrap, args.records, args.size))
        print(json.dumps(result))
        return 0
    rows = []
    for client, txn in CASES:
        runs = []
        for _ in range(args.repeat):
            out = subprocess.run([sys.executable, "-m", "benchmarks.transactions", "--one", client, str(txn),
                                  "--records", str(args.records), "--size", str(args.size),
                                  "--bootstrap", args.bootstrap], capture_output=True, text=True, timeout=600)
            if out.returncode:
                print(f"{client} txn={txn} failed:\n{out.stderr[-2000:]}", file=sys.stderr)
                continue
            runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
            print(f"{client:10} txn={txn:6}: {runs[-1]['records_per_s']:10,.0f} records/s", file=sys.stderr)
        if runs:
            rows.append(max(runs, key=lambda r: r["records_per_s"]))
    base = {r["client"]: r["records_per_s"] for r in rows if r["txn"] == 0}
    if "kafkaio" in base:
        base["kafkaio-v1"] = base["kafkaio"]  # the same producer without transactions
    print(f"\n{args.records:,} records of {args.size} bytes, one send() each, linger_ms=5, 3 partitions, "
          f"best of {args.repeat}\n")
    print("| client | transaction size | records/s | vs. no transactions |")
    print("|---|---:|---:|---:|")
    for r in rows:
        size = "none (idempotent)" if r["txn"] == 0 else f"{r['txn']:,}"
        rel = r["records_per_s"] / base[r["client"]] if r["client"] in base else float("nan")
        print(f"| {r['client']} | {size} | {r['records_per_s']:,.0f} | {rel:.2f}x |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
