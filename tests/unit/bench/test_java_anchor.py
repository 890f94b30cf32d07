"""The Java anchor of the benchmark suite: the cold and the warm (steady-state) ProducerPerformance
runs, how their output is read, and which one the ratios and targets use."""
from __future__ import annotations

import pytest

from benchmarks.aggregate import group, java_anchor
from benchmarks.clients import java_perf
from benchmarks.report import _targets
from benchmarks.runner import Outcome
from benchmarks.settings import Job

# ProducerPerformance 4.4.0's last lines with --warmup-records 200000 --num-records 300000
WARM_OUTPUT = """Warmup first 200000 records. Steady state results will print after the complete test summary.
300000 records sent, 99667.774086 records/sec (9.51 MB/sec), 261.25 ms avg latency, 573.00 ms max latency, 275 ms 50th, 418 ms 95th, 433 ms 99th, 437 ms 99.9th.
100000 steady state records sent, 91324.200913 records/sec (8.71 MB/sec), 365.77 ms avg latency, 441.00 ms max latency, 383 ms 50th, 427 ms 95th, 437 ms 99th, 437 ms 99.9th.
"""


def _job(client: str, api: str, records: int = 100_000) -> Job:
    return Job(client=client, scenario="produce", api=api, bootstrap="b:9092", topic="t", records=records)


def test_warm_run_sends_the_warmup_records_before_the_measured_ones() -> None:
    cmd = java_perf.command(_job("java", java_perf.WARM))
    assert cmd[cmd.index("--num-records") + 1] == str(100_000 * (1 + java_perf.WARMUP_FACTOR))
    assert cmd[cmd.index("--warmup-records") + 1] == str(100_000 * java_perf.WARMUP_FACTOR)


def test_cold_run_has_no_warmup() -> None:
    cmd = java_perf.command(_job("java", java_perf.COLD))
    assert "--warmup-records" not in cmd
    assert cmd[cmd.index("--num-records") + 1] == "100000"


def test_warm_parser_reads_the_steady_state_line() -> None:
    result = java_perf.parser(_job("java", java_perf.WARM))(WARM_OUTPUT)
    assert result["records"] == 100_000
    assert result["seconds"] == pytest.approx(100_000 / 91324.200913)


def test_cold_parser_reads_the_whole_run_line() -> None:
    result = java_perf.parser(_job("java", java_perf.COLD))(WARM_OUTPUT)
    assert result["records"] == 300_000
    assert result["seconds"] == pytest.approx(300_000 / 99667.774086)


def test_warm_parser_refuses_output_without_a_steady_state_line() -> None:
    cold_only = WARM_OUTPUT.splitlines()[1]
    with pytest.raises(RuntimeError, match="steady-state"):
        java_perf.parser(_job("java", java_perf.WARM))(cold_only)


def _outcome(client: str, api: str, seconds: float, ok: bool = True) -> Outcome:
    job = _job(client, api)
    return Outcome(job, ok, result={"records": job.records, "seconds": seconds} if ok else {},
                   error=None if ok else "boom")


def test_ratios_use_the_warm_java_row_and_fall_back_to_the_cold_one() -> None:
    outcomes = [_outcome("java", java_perf.WARM, 0.25), _outcome("java", java_perf.COLD, 0.5),
                _outcome("kafkaio", "send", 0.2), _outcome("kafkaio", "send_many", 0.1)]
    rows = group(outcomes)
    anchor = java_anchor(rows)
    assert anchor is not None and anchor.api == java_perf.WARM
    targets = "\n".join(_targets(rows))
    assert "kafkaio send / Java ProducerPerformance warm | 1.25x | >= 1.00x | met" in targets
    assert "kafkaio send_many / Java ProducerPerformance warm | 2.50x" in targets
    rows = group([_outcome("java", java_perf.WARM, 0.0, ok=False), *outcomes[1:]])
    anchor = java_anchor(rows)
    assert anchor is not None and anchor.api == java_perf.COLD
