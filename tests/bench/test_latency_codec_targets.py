"""The Targets rows of issue 26 that are not throughput ratios: send_and_wait latency against
confluent-kafka on each loop, and decoding on the newer CPythons against 3.11."""
from __future__ import annotations

from benchmarks.aggregate import group
from benchmarks.report import _targets
from benchmarks.runner import Outcome
from benchmarks.settings import Job


def _latency(client: str, api: str, loop: str, p50: float, p99: float) -> Outcome:
    job = Job(client=client, scenario="latency", api=api, bootstrap="b:9092", topic="t", records=1000, loop=loop)
    return Outcome(job, True, result={"records": 1000, "seconds": 1.0, "p50_us": p50, "p99_us": p99})


def _rows(kafkaio_p50: float) -> list[str]:
    outcomes = [_latency("kafkaio", "send_and_wait", "asyncio", kafkaio_p50, 400.0),
                _latency("kafkaio", "send_and_wait", "uvloop", 190.0, 500.0),
                _latency("confluent", "produce+flush", "asyncio", 200.0, 400.0)]
    return [line for line in _targets(group(outcomes)) if line.startswith("| latency")]


def test_latency_targets_compare_each_loop_with_confluent_and_need_at_most_its_figure() -> None:
    lines = _rows(kafkaio_p50=250.0)
    assert lines == [
        "| latency p50 (asyncio): kafkaio send_and_wait / confluent produce+flush | 1.25x | <= 1.00x | **not met** |",
        "| latency p99 (asyncio): kafkaio send_and_wait / confluent produce+flush | 1.00x | <= 1.00x | met |",
        "| latency p50 (uvloop): kafkaio send_and_wait / confluent produce+flush | 0.95x | <= 1.00x | met |",
        "| latency p99 (uvloop): kafkaio send_and_wait / confluent produce+flush | 1.25x | <= 1.00x | **not met** |",
    ]


def _codec(python: str, ns: float) -> list[dict[str, object]]:
    return [{"codec": "none", "op": "decode with CRC check", "kafkaio": ns, "aiokafka": 200.0, "python": python},
            {"codec": "none", "op": "decode without CRC check", "kafkaio": ns / 2, "aiokafka": 150.0, "python": python}]


def test_decode_targets_divide_each_newer_cpython_by_3_11_with_the_crc_check() -> None:
    rows = _codec("3.11.7", 40.0) + _codec("3.12.1", 44.0) + _codec("3.13.0", 56.0)
    rows.append({"python": "3.14.0", "error": "could not build"})
    lines = [line for line in _targets([], None, rows) if line.startswith("| decode")]
    assert lines == [
        "| decode (none, CRC check): CPython 3.12 / 3.11 ns per record | 1.10x | <= 1.10x | met |",
        "| decode (none, CRC check): CPython 3.13 / 3.11 ns per record | 1.40x | <= 1.10x | **not met** |",
    ]


def test_a_cpython_without_3_11_to_compare_with_reports_not_measured() -> None:
    lines = [line for line in _targets([], None, _codec("3.13.0", 56.0)) if line.startswith("| decode")]
    assert lines == ["| decode (none, CRC check): CPython 3.13 / 3.11 ns per record | n/a | <= 1.10x "
                     "| not measured (a run failed) |"]


def test_each_loops_floor_is_reported_against_confluent_beside_the_targets() -> None:
    outcomes = [_latency("kafkaio", "send_and_wait", "asyncio", 250.0, 400.0),
                _latency("floor", "bare Protocol round trip", "asyncio", 210.0, 300.0),
                _latency("kafkaio", "send_and_wait", "uvloop", 190.0, 500.0),
                _latency("confluent", "produce+flush", "asyncio", 200.0, 400.0)]
    lines = [line for line in _targets(group(outcomes)) if line.startswith("| latency")]
    assert lines == [
        "| latency p50 (asyncio): kafkaio send_and_wait / confluent produce+flush | 1.25x | <= 1.00x | **not met** |",
        "| latency p99 (asyncio): kafkaio send_and_wait / confluent produce+flush | 1.00x | <= 1.00x | met |",
        "| latency p50 (asyncio): the loop's floor (bare Protocol round trip) / confluent produce+flush | 1.05x "
        "| reported | the least a client on this loop reaches |",
        "| latency p99 (asyncio): the loop's floor (bare Protocol round trip) / confluent produce+flush | 0.75x "
        "| reported | the least a client on this loop reaches |",
        "| latency p50 (uvloop): kafkaio send_and_wait / confluent produce+flush | 0.95x | <= 1.00x | met |",
        "| latency p99 (uvloop): kafkaio send_and_wait / confluent produce+flush | 1.25x | <= 1.00x | **not met** |",
    ]


def test_the_latency_section_says_on_how_many_samples_p99_9_rests() -> None:
    from benchmarks.report import Report, render

    outcomes = [_latency("kafkaio", "send_and_wait", "asyncio", 250.0, 400.0)]
    text = render(Report(command="c", date="d", duration_s=1.0, machine={}, broker="b", kafka_version="4.1",
                         records=1000, latency_records=10_000, repeat=1, record_size=100, partitions=6,
                         rows=group(outcomes)))
    assert "p99.9 is the 10th slowest of the 10,000 sends: it rests on 10 samples" in text
