"""Share-group scenario: kafkaio's ``ShareConsumer`` against Kafka's ``ShareConsumerPerformance``
(kafka-tools), one consumer each, on the suite's own broker when it runs Kafka 4.2+ (share groups
are in the release's defaults there: no broker setting to change), else on a Kafka 4.4.0 broker
of its own.

One child process (``python -m benchmarks.share``) starts the broker (unless given one), fills a 2-partition topic
with 100-byte values, then alternates the two clients ``reps`` times. Every run reads the whole
topic in a share group of its own (``share.auto.offset.reset=earliest``), with implicit
acknowledgement (each client's default), from the consumer's start to the last record: the group
join and the acknowledgements are inside the time for both. Java's rate is the tool's own
``nMsg.sec``; its JVM is fresh in every run, so the topic is long enough for the JIT to settle.

    .venv/bin/python -m benchmarks.share [--records 1000000] [--reps 3] [--bootstrap HOST:PORT]
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import time
import uuid
from typing import Any

from benchmarks.runner import REPO_ROOT

KAFKA_VERSION = "4.4.0"
PARTITIONS = 2
VALUE_SIZE = 100
# share groups are on by default from this release (KIP-932); before it they need settings and features
MIN_VERSION = (4, 2)
OWN_BROKER = f"a Kafka {KAFKA_VERSION} broker of its own (heap 1g)"
SUITE_BROKER = "the suite's broker, after its other scenarios"


def on_suite_broker(kafka_version: str, local: bool) -> bool:
    """Whether the scenario runs on the suite's broker: one the suite started itself (a cluster at
    ``KAFKAIO_BOOTSTRAP`` may have share groups turned off) of a release with share groups on by
    default. Saves starting and stopping a broker of its own."""
    major, minor = (int(x) for x in kafka_version.split(".")[:2])
    return local and (major, minor) >= MIN_VERSION


PARAMETERS = (f"one consumer per client on a {PARTITIONS}-partition topic of {VALUE_SIZE}-byte values, "
              f"the tool of Kafka {KAFKA_VERSION}; each run a new share group reading from the earliest offset with "
              "implicit acknowledgement; records/s from the consumer's start to the last record "
              "(group join included, for both); Java's JVM fresh in each run; median of the repetitions")


def parse_java(stdout: str) -> dict[str, float]:
    """ShareConsumerPerformance prints a CSV header and one line of values; the records and their
    rate."""
    from benchmarks.clients.java_perf import csv_summary

    row = csv_summary(stdout)
    if row is not None:
        return {"records": int(row["data.consumed.in.nMsg"]), "rate": float(row["nMsg.sec"])}
    raise RuntimeError(f"ShareConsumerPerformance printed no summary: {stdout[-300:]!r}")


async def _group(admin: Any, group: str) -> None:
    from kafkaio.admin import ConfigResource, ConfigResourceType

    await admin.incremental_alter_configs(
        {ConfigResource(ConfigResourceType.GROUP, group): {"share.auto.offset.reset": "earliest"}})


async def _fill(bootstrap: str, topic: str, records: int) -> None:
    from kafkaio import Producer
    from kafkaio.admin import Admin, NewTopic

    async with Admin(bootstrap_servers=bootstrap) as admin:
        await admin.create_topics([NewTopic(topic, PARTITIONS, 1)], timeout_ms=60000, wait_for_leaders=True)
    value = b"x" * VALUE_SIZE
    async with Producer(bootstrap_servers=bootstrap, linger_ms=5, batch_size=262144) as producer:
        step = 50_000
        for start in range(0, records, step):
            await producer.send_many(topic, (value for _ in range(min(step, records - start))))
        await producer.flush()


async def _kafkaio_run(bootstrap: str, topic: str, records: int, timeout_s: float) -> dict[str, float]:
    from kafkaio import ShareConsumer
    from kafkaio.admin import Admin

    group = f"bench-share-kafkaio-{uuid.uuid4().hex[:8]}"
    async with Admin(bootstrap_servers=bootstrap) as admin:
        await _group(admin, group)
    got = 0
    started = time.perf_counter()
    consumer = ShareConsumer(topic, bootstrap_servers=bootstrap, group_id=group)
    await consumer.start()
    try:
        deadline = started + timeout_s
        while got < records:
            if time.perf_counter() > deadline:
                raise RuntimeError(f"kafkaio read {got} of {records} records in {timeout_s:.0f} s")
            for batch in (await consumer.getmany(timeout_ms=1000)).values():
                got += len(batch)
        elapsed = time.perf_counter() - started
        await consumer.commit()
    finally:
        await consumer.close()
    return {"records": got, "rate": got / elapsed}


def _java_run(libs: str, bootstrap: str, topic: str, records: int, timeout_s: float) -> dict[str, float]:
    from kafkaio.admin import Admin
    from kafkaio.testing.broker import find_java

    group = f"bench-share-java-{uuid.uuid4().hex[:8]}"

    async def prepare() -> None:
        async with Admin(bootstrap_servers=bootstrap) as admin:
            await _group(admin, group)
    asyncio.run(prepare())
    proc = subprocess.run(
        [find_java(), "-Xmx1g", "-cp", f"{libs}/*", "org.apache.kafka.tools.ShareConsumerPerformance",
         "--bootstrap-server", bootstrap, "--topic", topic, "--group", group,
         "--num-records", str(records), "--timeout", "30000"],
        capture_output=True, text=True, timeout=timeout_s)
    if proc.returncode != 0:
        lines = proc.stderr.strip().splitlines()
        raise RuntimeError(f"ShareConsumerPerformance exit code {proc.returncode}: {lines[-1] if lines else ''}")
    result = parse_java(proc.stdout)
    if result["records"] < records:
        raise RuntimeError(f"ShareConsumerPerformance read {result['records']} of {records} records")
    return result


def measure(records: int, reps: int, timeout_s: float, bootstrap: str | None = None) -> list[dict[str, Any]]:
    """Fill the topic and alternate the clients, on the broker at ``bootstrap`` (the topic deleted
    afterwards) or on one started here; one row per client, each naming the broker."""
    from kafkaio.testing.broker import LocalKafkaCluster, fetch_jars

    libs = str(fetch_jars(KAFKA_VERSION))
    if bootstrap is not None:
        return _measure(libs, bootstrap, records, reps, timeout_s, SUITE_BROKER)
    cluster = LocalKafkaCluster(brokers=1, version=KAFKA_VERSION, heap="1g")
    cluster.start()
    try:
        return _measure(libs, cluster.bootstrap_servers, records, reps, timeout_s, OWN_BROKER)
    finally:
        cluster.stop()


def _measure(libs: str, bootstrap: str, records: int, reps: int, timeout_s: float, broker: str) -> list[dict[str, Any]]:
    from kafkaio.admin import Admin

    topic = f"bench-share-{uuid.uuid4().hex[:8]}"
    asyncio.run(_fill(bootstrap, topic, records))
    try:
        rates: dict[str, list[float]] = {"kafkaio": [], "java": []}
        for _ in range(reps):
            rates["kafkaio"].append(asyncio.run(_kafkaio_run(bootstrap, topic, records, timeout_s))["rate"])
            rates["java"].append(_java_run(libs, bootstrap, topic, records, timeout_s)["rate"])
    finally:
        async def delete() -> None:
            async with Admin(bootstrap_servers=bootstrap) as admin:
                await admin.delete_topics([topic])
        asyncio.run(delete())
    return [{"client": client, "api": "ShareConsumer" if client == "kafkaio" else "ShareConsumerPerformance",
             "records": records, "rate": statistics.median(r), "min": min(r), "max": max(r), "runs": len(r),
             "broker": broker}
            for client, r in rates.items()]


def broker_of(rows: list[dict[str, Any]]) -> str:
    """Where the rows were measured (results written before the rows named it: a broker of its own)."""
    return next((r["broker"] for r in rows if "broker" in r), OWN_BROKER)


def table(rows: list[dict[str, Any]]) -> list[str]:
    """The markdown table of the rows, with each client's rate over Java's."""
    java = next((r["rate"] for r in rows if r["client"] == "java"), None)
    out = ["| client | API | records | records/s (median) | min - max | runs | / Java |", "|---|---|---:|---:|---:|---:|---:|"]
    for r in rows:
        ratio = f"{r['rate'] / java:.2f}x" if java else "-"
        out.append(f"| {r['client']} | {r['api']} | {r['records']:,} | {r['rate']:,.0f} | "
                   f"{r['min']:,.0f} - {r['max']:,.0f} | {r['runs']} | {ratio} |")
    return out


def run(quick: bool, timeout_s: float = 600.0, bootstrap: str | None = None) -> tuple[list[dict[str, Any]], str | None]:
    """(rows, None) when it worked, else ([], the error); the measurement runs in a child process,
    on the broker at ``bootstrap`` or on one of its own."""
    records, reps = (100_000, 1) if quick else (300_000, 3)
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO_ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    on = ["--bootstrap", bootstrap] if bootstrap is not None else []
    try:
        proc = subprocess.run([sys.executable, "-m", "benchmarks.share", "--records", str(records),
                               "--reps", str(reps), "--json", *on],
                              capture_output=True, text=True, cwd=REPO_ROOT, env=env, timeout=timeout_s * (reps + 1))
    except subprocess.TimeoutExpired:
        return [], f"timed out after {timeout_s * (reps + 1):.0f} s"
    if proc.returncode != 0:
        lines = proc.stderr.strip().splitlines()
        return [], lines[-1] if lines else f"exit code {proc.returncode}"
    return json.loads(proc.stdout.strip().splitlines()[-1]), None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds allowed for one run")
    parser.add_argument("--json", action="store_true", help="print the rows as one JSON line")
    parser.add_argument("--bootstrap", help="a running Kafka 4.2+ broker to use (default: start a 4.4.0 one)")
    args = parser.parse_args()
    rows = measure(args.records, args.reps, args.timeout, args.bootstrap)
    if args.json:
        print(json.dumps(rows))
        return
    java = next(r["rate"] for r in rows if r["client"] == "java")
    print("\n".join(table(rows)))
    for r in rows:
        print(f"{r['client']:8} {r['api']:26} {r['rate']:>12,.0f} rec/s  ({r['min']:,.0f} - {r['max']:,.0f}, "
              f"{r['runs']} runs)  {r['rate'] / java:.2f}x Java")


if __name__ == "__main__":
    main()
