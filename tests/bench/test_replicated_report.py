"""The replicated scenario's rows: a report section of their own (throughput and latency), kept out
of the single-broker tables, the targets and the charts."""
from __future__ import annotations

from benchmarks import replicated
from benchmarks.aggregate import group
from benchmarks.report import Report, render
from benchmarks.runner import Outcome
from benchmarks.settings import Job


def _produce(client: str, api: str, rate: float, replicas: int) -> Outcome:
    job = Job(client=client, scenario="produce", api=api, bootstrap="b", topic="t", records=1000, replicas=replicas)
    return Outcome(job, True, result={"records": 1000, "seconds": 1000 / rate}, maxrss_kb=50 * 1024)


def _latency(client: str, api: str, p50: float, replicas: int) -> Outcome:
    job = Job(client=client, scenario="latency", api=api, bootstrap="b", topic="t", records=100, replicas=replicas)
    result = {"p50_us": p50, "p99_us": 2 * p50, "p999_us": 3 * p50, "max_us": 4 * p50}
    return Outcome(job, True, result=result, maxrss_kb=30 * 1024)


def _render(outcomes: list[Outcome]) -> str:
    return render(Report(command="c", date="d", duration_s=1.0, machine={}, broker="b", kafka_version="4.4.0",
                         records=1000, latency_records=100, repeat=1, record_size=100, partitions=6,
                         rows=group(outcomes)))


def test_replicated_rows_have_their_own_section_and_stay_out_of_the_single_broker_tables() -> None:
    text = _render([
        _produce("kafkaio", "send", 1000.0, 1), _produce("confluent", "produce", 800.0, 1),
        _latency("kafkaio", "send_and_wait", 200.0, 1), _latency("confluent", "produce+flush", 180.0, 1),
        _produce("kafkaio", "send", 600.0, 3), _produce("confluent", "produce", 300.0, 3),
        _produce("java", "ProducerPerformance warm", 400.0, 3),
        _latency("kafkaio", "send_and_wait", 900.0, 3), _latency("confluent", "produce+flush", 1100.0, 3),
    ])
    title = f"## {replicated.BROKERS} brokers, replication factor {replicated.REPLICAS}"
    section = text[text.index(title):text.index("## Configuration")]
    assert "| kafkaio | send | asyncio | shared | 1,000 | 600 |" in section
    assert "| confluent | produce | - | shared | 1,000 | 300 |" in section
    assert "| 0.50x | 0.75x |" in section  # confluent vs kafkaio send, vs Java warm
    assert "| kafkaio | send_and_wait | asyncio | 100 | 900 | 1,800 |" in section
    assert "| confluent | produce+flush | - | 100 | 1,100 |" in section and "| 1.22x |" in section
    single = text[:text.index(title)]
    assert "| 1,000 | 600 |" not in single and "| 100 | 900 |" not in single and "| java |" not in single
    # the targets are the single broker's: 200 / 180 us, 1000 / 800 records/s
    assert "latency p50 (asyncio): kafkaio send_and_wait / confluent produce+flush | 1.11x" in text
    assert "kafkaio send / confluent produce (shared) | 1.25x" in text


def test_no_section_without_replicated_rows() -> None:
    text = _render([_produce("kafkaio", "send", 1000.0, 1)])
    assert "replication factor" not in text
