"""The Java client as the ceiling: Kafka's own ``ProducerPerformance`` and ``ConsumerPerformance``
(``org.apache.kafka:kafka-tools``), from the jars that ``kafkaio.testing.broker`` fetches through
Maven, run with the same settings as the Python clients. Each run is a fresh JVM.

Each tool runs twice: cold (the figure over the whole run, the JIT's warm-up included) and warm.
Warm ``ProducerPerformance`` sends ``WARMUP_FACTOR`` times the records first (``--warmup-records``,
KIP-1052) and reports the steady state of the records after them. ``ConsumerPerformance`` has no
warm-up option: its warm run reads a topic ``1 + WARMUP_FACTOR`` times longer with a progress report
every ``report_ms(measured records)``, and its rate is taken between the first report past the
warm-up records and the last report."""
from __future__ import annotations

import re
import tempfile
from collections.abc import Callable
from pathlib import Path

from benchmarks.settings import Job

JAVA_HEAP = "1g"

# The tools come from this Kafka release, whatever the broker's: 4.1's ProducerPerformance has no
# --warmup-records. Its clients talk to the 4.1 broker as any newer client does.
TOOLS_KAFKA_VERSION = "4.4.0"

COLD, WARM = "ProducerPerformance", "ProducerPerformance warm"
CONSUMER_COLD, CONSUMER_WARM = "ConsumerPerformance", "ConsumerPerformance warm"
# progress report interval of the warm ConsumerPerformance per 1,000,000 measured records: at ~2M
# records/s on a quiet machine the counted last third of a 3M-record run lasts about half a second,
# which needs several reports. A shorter run gets a proportionally shorter interval (report_ms), so
# that it gets as many reports: --quick's 100,000 lz4 records at ~3M records/s last about 30 ms.
REPORT_MS = 50
# warm runs send this many times the measured records first, so that the JIT has compiled the
# producer's hot paths (C2 needs about 10,000 calls of a method) before the clock that counts starts
WARMUP_FACTOR = 2

_PRODUCED = re.compile(r"(\d+) (?:steady state )?records sent, ([\d.]+) records/sec \(([\d.]+) MB/sec\), "
                       r"([\d.]+) ms avg latency, ([\d.]+) ms max latency")
_STEADY = "steady state records sent"


def libs_dir() -> Path:
    """Directory of the Kafka jars (broker, clients, tools), fetched once through Maven."""
    from kafkaio.testing.broker import fetch_jars

    return fetch_jars(TOOLS_KAFKA_VERSION)


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
        warmup = warmup_records(job)
        return [*_base("org.apache.kafka.tools.ProducerPerformance"),
                "--topic", job.topic, "--num-records", str(job.records + warmup),
                "--record-size", str(job.record_size), "--throughput", "-1",
                *(["--warmup-records", str(warmup)] if warmup else []),
                "--command-property", *props]
    if job.scenario == "consume":
        # the properties file lives as long as this process; tempfile cleans it at exit
        conf = tempfile.NamedTemporaryFile("w", prefix="bench-consumer-", suffix=".properties", delete=False)
        conf.write("".join(f"{k}={v}\n" for k, v in consumer_properties(job).items()))
        conf.close()
        _TEMP_FILES.append(Path(conf.name))
        measured = job.records - _consumer_warmup(job)
        detailed = (["--show-detailed-stats", "--reporting-interval", str(report_ms(measured))]
                    if job.api == CONSUMER_WARM else [])
        return [*_base("org.apache.kafka.tools.ConsumerPerformance"),
                "--bootstrap-server", job.bootstrap, "--topic", job.topic,
                "--messages", str(job.records), "--group", f"bench-java-{Path(conf.name).stem}",
                "--timeout", str(int(job.timeout_s * 1000)), "--consumer.config", conf.name, *detailed]
    if job.scenario == "group" and job.members > 1:
        return _member_command(job)
    raise ValueError(f"the Java perf tools have no {job.scenario} scenario")


def _member_command(job: Job) -> list[str]:
    """One member of a group run: ConsumerPerformance in the group the harness named, on the
    group protocol the API names, committing what it reads (auto commit, as the Python members),
    reporting its progress every millisecond it reads (the time of its last record), and ending
    after ``MEMBER_IDLE_S`` without a record."""
    from benchmarks.clients import CONSUMER_PROTOCOL
    from benchmarks.clients._common import MEMBER_IDLE_S

    props = {**consumer_properties(job), "enable.auto.commit": "true"}
    if job.api.endswith(CONSUMER_PROTOCOL):
        props["group.protocol"] = "consumer"
    conf = tempfile.NamedTemporaryFile("w", prefix="bench-member-", suffix=".properties", delete=False)
    conf.write("".join(f"{k}={v}\n" for k, v in props.items()))
    conf.close()
    _TEMP_FILES.append(Path(conf.name))
    return [*_base("org.apache.kafka.tools.ConsumerPerformance"),
            "--bootstrap-server", job.bootstrap, "--topic", job.topic, "--group", job.group,
            "--num-records", str(job.records), "--timeout", str(int(MEMBER_IDLE_S * 1000)),
            "--consumer.config", conf.name, "--show-detailed-stats", "--reporting-interval", "1"]


_TEMP_FILES: list[Path] = []


def _remove_temp_files() -> None:
    for f in _TEMP_FILES:
        f.unlink(missing_ok=True)


def report_ms(measured: int) -> int:
    """The warm ConsumerPerformance's report interval when it measures ``measured`` records:
    ``REPORT_MS`` per 1,000,000 of them, at least the tool's 1 ms."""
    return max(1, round(REPORT_MS * measured / 1_000_000))


def _consumer_warmup(job: Job) -> int:
    """The records the warm ConsumerPerformance reads before the ones it measures."""
    return job.records * WARMUP_FACTOR // (1 + WARMUP_FACTOR)


def warmup_records(job: Job) -> int:
    """Records ProducerPerformance sends before the ones it counts (0 for a cold run)."""
    return job.records * WARMUP_FACTOR if job.api == WARM else 0


def parser(job: Job) -> Callable[[str], dict]:
    """A function turning the tool's standard output into a result dict."""
    if job.scenario == "produce":
        return _parse_steady if job.api == WARM else _parse_producer
    if job.scenario == "group" and job.members > 1:
        return _parse_member
    if job.api == CONSUMER_WARM:
        warmup = _consumer_warmup(job)
        return lambda stdout: _parse_consumer_steady(stdout, job.records, warmup)
    return _parse_consumer


def _summary(line: str) -> dict:
    match = _PRODUCED.search(line)
    if match is None:
        raise RuntimeError(f"not a ProducerPerformance summary: {line!r}")
    records, rate, _mb, avg_ms, max_ms = match.groups()
    records_i = int(records)
    return {"records": records_i, "seconds": records_i / float(rate), "errors": 0,
            "avg_latency_ms": float(avg_ms), "max_latency_ms": float(max_ms)}


def _parse_producer(stdout: str) -> dict:
    """The last summary line is the whole run's (a progress line comes every five seconds)."""
    lines = [ln for ln in stdout.splitlines() if _PRODUCED.search(ln) and _STEADY not in ln]
    if not lines:
        raise RuntimeError("ProducerPerformance printed no summary")
    return _summary(lines[-1])


def _parse_steady(stdout: str) -> dict:
    """With ``--warmup-records`` the tool prints one more summary, of the records after the
    warm-up, on a line that says steady state."""
    lines = [ln for ln in stdout.splitlines() if _PRODUCED.search(ln) and _STEADY in ln]
    if not lines:
        raise RuntimeError("ProducerPerformance printed no steady-state summary")
    return _summary(lines[-1])


def _parse_consumer(stdout: str) -> dict:
    """ConsumerPerformance prints a CSV header and one line of values. The rate that excludes the
    group join (fetch.*) is the one comparable with the Python runners, which assign partitions."""
    _remove_temp_files()
    row = csv_summary(stdout)
    if row is None:
        raise RuntimeError("ConsumerPerformance printed no summary")
    return {"records": int(row["data.consumed.in.nMsg"]), "seconds": float(row["fetch.time.ms"]) / 1000.0,
            "errors": 0, "rebalance_ms": float(row.get("rebalance.time.ms", 0))}


def csv_summary(stdout: str) -> dict[str, str] | None:
    """The consumer tools' summary: a CSV header starting ``start.time`` and the line of values
    after it, as {column: value}; None when the tool printed none."""
    lines = [ln.strip() for ln in stdout.splitlines() if ln.strip()]
    for k, line in enumerate(lines):
        if line.startswith("start.time") and k + 1 < len(lines):
            return dict(zip((h.strip() for h in line.split(",")), (v.strip() for v in lines[k + 1].split(","))))
    return None


# 4.4 says "records", earlier releases "messages"
_NOT_ALL = "Exiting before consuming the expected number of"


def _reports(stdout: str) -> list[tuple[float, int]]:
    """The ``--show-detailed-stats`` lines: (wall-clock time, records read so far) each."""
    import datetime as dt

    reports: list[tuple[float, int]] = []
    for line in stdout.splitlines():
        fields = [f.strip() for f in line.split(",")]
        if len(fields) < 6 or not fields[0][:4].isdigit():
            continue
        at = dt.datetime.strptime(fields[0], "%Y-%m-%d %H:%M:%S:%f").timestamp()
        reports.append((at, int(fields[4])))
    return reports


def _parse_member(stdout: str) -> dict:
    """A member's first and last report stand for its first and last record (reports come every
    millisecond it reads); the records of its last millisecond are not in its count."""
    _remove_temp_files()
    reports = _reports(stdout)
    if not reports:
        return {"records": 0, "seconds": 0.0, "errors": 0, "first_wall": None, "last_wall": None}
    return {"records": reports[-1][1], "seconds": 0.0, "errors": 0,
            "first_wall": reports[0][0], "last_wall": reports[-1][0]}


def _parse_consumer_steady(stdout: str, records: int, warmup: int) -> dict:
    """With ``--show-detailed-stats`` ConsumerPerformance prints one CSV line per report: its time
    (``yyyy-MM-dd HH:mm:ss:SSS``), then the thread, the MB so far, MB/s, the records so far, ...
    The steady-state rate runs from the first report with at least ``warmup`` records to the last."""
    _remove_temp_files()
    if _NOT_ALL in stdout:
        raise RuntimeError(f"ConsumerPerformance read fewer than {records} records")
    reports = _reports(stdout)
    warm = [r for r in reports if r[1] >= warmup]
    if len(warm) < 2 or warm[-1][1] <= warm[0][1]:
        raise RuntimeError(f"ConsumerPerformance made fewer than two reports after {warmup} records: "
                           "the run is too short for a steady-state rate")
    (t1, n1), (t2, n2) = warm[0], warm[-1]
    return {"records": n2 - n1, "seconds": t2 - t1, "errors": 0, "read": records}
