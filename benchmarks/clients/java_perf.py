"""The Java client as the ceiling: Kafka's own ``ProducerPerformance`` and ``ConsumerPerformance``
(``org.apache.kafka:kafka-tools``), from the jars that ``kafkaio.testing.broker`` fetches through
Maven, run with the same settings as the Python clients. Each run is a fresh JVM."""
from __future__ import annotations

import re
import tempfile
from collections.abc import Callable
from pathlib import Path

from benchmarks.settings import Job

JAVA_HEAP = "1g"

_PRODUCED = re.compile(r"(\d+) records sent, ([\d.]+) records/sec \(([\d.]+) MB/sec\), "
                       r"([\d.]+) ms avg latency, ([\d.]+) ms max latency")


def libs_dir() -> Path:
    """Directory of the Kafka jars (broker, clients, tools), fetched once through Maven."""
    from kafkaio.testing.broker import fetch_jars

    return fetch_jars()


def java() -> str:
    from kafkaio.testing.broker import find_java

    return find_java()


def _base(main: str) -> list[str]:
    return [java(), f"-Xmx{JAVA_HEAP}", "-XX:+UseG1GC", "-Djava.awt.headless=true",
            # keep the tools' own logging quiet: no log4j2 configuration means errors only
            "-Dlog4j2.level=ERROR", "-cp", f"{libs_dir()}/*", main]


def producer_properties(job: Job) -> dict[str, str]:
    cfg = job.produce
    return {
        "bootstrap.servers": job.bootstrap,
        "acks": cfg.acks,
        "enable.idempotence": str(cfg.enable_idempotence).lower(),
        "linger.ms": str(cfg.linger_ms),
        "batch.size": str(cfg.batch_size),
        "max.in.flight.requests.per.connection": str(cfg.max_in_flight),
        "buffer.memory": str(cfg.buffer_memory),
        "compression.type": cfg.compression_type,
    }


def consumer_properties(job: Job) -> dict[str, str]:
    cfg = job.consume
    return {
        "fetch.min.bytes": str(cfg.fetch_min_bytes),
        "fetch.max.wait.ms": str(cfg.fetch_max_wait_ms),
        "fetch.max.bytes": str(cfg.fetch_max_bytes),
        "max.partition.fetch.bytes": str(cfg.max_partition_fetch_bytes),
        "max.poll.records": str(cfg.max_records),
        "auto.offset.reset": "earliest",
        "enable.auto.commit": "false",
    }


def command(job: Job) -> list[str]:
    """The java command line for this job."""
    if job.scenario == "produce":
        props = [f"{k}={v}" for k, v in producer_properties(job).items()]
        return [*_base("org.apache.kafka.tools.ProducerPerformance"),
                "--topic", job.topic, "--num-records", str(job.records),
                "--record-size", str(job.record_size), "--throughput", "-1",
                "--producer-props", *props]
    if job.scenario == "consume":
        # the properties file lives as long as this process; tempfile cleans it at exit
        conf = tempfile.NamedTemporaryFile("w", prefix="bench-consumer-", suffix=".properties", delete=False)
        conf.write("".join(f"{k}={v}\n" for k, v in consumer_properties(job).items()))
        conf.close()
        _TEMP_FILES.append(Path(conf.name))
        return [*_base("org.apache.kafka.tools.ConsumerPerformance"),
                "--bootstrap-server", job.bootstrap, "--topic", job.topic,
                "--messages", str(job.records), "--group", f"bench-java-{Path(conf.name).stem}",
                "--timeout", str(int(job.timeout_s * 1000)), "--consumer.config", conf.name]
    raise ValueError(f"the Java perf tools have no {job.scenario} scenario")


_TEMP_FILES: list[Path] = []


def parser(job: Job) -> Callable[[str], dict]:
    """A function turning the tool's standard output into a result dict."""
    if job.scenario == "produce":
        return _parse_producer
    return _parse_consumer


def _parse_producer(stdout: str) -> dict:
    matches = _PRODUCED.findall(stdout)
    if not matches:
        raise RuntimeError("ProducerPerformance printed no summary")
    records, rate, _mb, avg_ms, max_ms = matches[-1]  # the last line is the whole-run summary
    records_i = int(records)
    return {"records": records_i, "seconds": records_i / float(rate), "errors": 0,
            "avg_latency_ms": float(avg_ms), "max_latency_ms": float(max_ms)}


def _parse_consumer(stdout: str) -> dict:
    """ConsumerPerformance prints a CSV header and one line of values. The rate that excludes the
    group join (fetch.*) is the one comparable with the Python runners, which assign partitions."""
    for f in _TEMP_FILES:
        f.unlink(missing_ok=True)
    lines = [ln.strip() for ln in stdout.splitlines() if ln.strip()]
    for k, line in enumerate(lines):
        if line.startswith("start.time") and k + 1 < len(lines):
            header = [h.strip() for h in line.split(",")]
            values = [v.strip() for v in lines[k + 1].split(",")]
            row = dict(zip(header, values))
            records = int(row["data.consumed.in.nMsg"])
            fetch_ms = float(row["fetch.time.ms"])
            return {"records": records, "seconds": fetch_ms / 1000.0, "errors": 0,
                    "rebalance_ms": float(row.get("rebalance.time.ms", 0))}
    raise RuntimeError("ConsumerPerformance printed no summary")
