"""Where the benchmark runs: the broker (our local one, or ``KAFKAIO_BOOTSTRAP``), and a
description of the machine and of every client's version for the report."""
from __future__ import annotations

import contextlib
import os
import platform
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import metadata


@dataclass
class Broker:
    bootstrap: str
    description: str
    kafka_version: str
    local: bool = True  # started by the suite (not the cluster at KAFKAIO_BOOTSTRAP)


@contextlib.contextmanager
def broker() -> Iterator[Broker]:
    """The cluster to measure against: ``KAFKAIO_BOOTSTRAP`` if set, else a one-node local KRaft
    broker started here (and stopped afterwards)."""
    from kafkaio.testing.broker import LocalKafkaCluster, kafka_version

    external = os.environ.get("KAFKAIO_BOOTSTRAP")
    if external:
        version = os.environ.get("KAFKAIO_KAFKA_VERSION") or kafka_version()
        yield Broker(external, f"existing cluster at KAFKAIO_BOOTSTRAP={external} (single node, "
                               "KRaft, started by kafkaio.testing.broker)", version, local=False)
        return
    cluster = LocalKafkaCluster(brokers=1)
    cluster.start()
    try:
        yield Broker(cluster.bootstrap_servers,
                     f"one local KRaft node started by kafkaio.testing.broker (heap {cluster.heap})",
                     cluster.version)
    finally:
        cluster.stop()


def _read(path: str) -> str:
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return ""


def cpu_model() -> str:
    for line in _read("/proc/cpuinfo").splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def memory_gib() -> float:
    for line in _read("/proc/meminfo").splitlines():
        if line.startswith("MemTotal:"):
            return int(line.split()[1]) / 1024 / 1024
    return 0.0


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "not installed"


def java_version() -> str:
    try:
        from kafkaio.testing.broker import find_java

        out = subprocess.run([find_java(), "-version"], capture_output=True, text=True, timeout=60).stderr
        return out.splitlines()[0].strip() if out else "unknown"
    except Exception as exc:
        return f"unavailable ({exc})"


def machine() -> dict[str, str]:
    """The facts a reader needs to compare numbers across machines."""
    try:
        import confluent_kafka

        librdkafka = confluent_kafka.libversion()[0]
    except ImportError:
        librdkafka = "not installed"
    try:
        import kafkaio

        speedups = "compiled" if kafkaio.speedups_enabled() else "pure Python"
    except Exception:
        speedups = "unknown"
    return {
        "cpu": f"{os.cpu_count()} x {cpu_model()} (nproc {len(os.sched_getaffinity(0))})",
        "memory": f"{memory_gib():.1f} GiB",
        "os": f"{platform.system()} {platform.release()}",
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "java": java_version(),
        "kafkaio": f"{_version('kafkaio')} ({speedups} speedups)",
        "aiokafka": _version("aiokafka"),
        "confluent-kafka": f"{_version('confluent-kafka')} (librdkafka {librdkafka})",
        "kafka-python": _version("kafka-python"),
        "uvloop": _version("uvloop"),
        "go": go_version(),
    }


def go_version() -> str:
    """The Go toolchain and the franz-go version that benchmarks/franzgo builds with."""
    import shutil

    go = shutil.which("go")
    if go is None:
        return "not installed"
    try:
        out = subprocess.run([go, "version"], capture_output=True, text=True, timeout=60).stdout.strip()
    except Exception as exc:
        return f"unavailable ({exc})"
    from benchmarks.clients.franzgo_bench import SOURCE_DIR

    franz = next((ln.split()[-1] for ln in (SOURCE_DIR / "go.mod").read_text().splitlines()
                  if ln.strip().startswith("require github.com/twmb/franz-go ")), "?")
    return f"{out.removeprefix('go version ')} (franz-go {franz})"
