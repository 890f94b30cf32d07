"""The Java anchor of the benchmark suite: the cold and the warm (steady-state) ProducerPerformance
runs, how their output is read, and which one the ratios and targets use."""
from __future__ import annotations

import pytest

from benchmarks.aggregate import full_records, group, java_anchor
from benchmarks.clients import java_perf
from benchmarks.report import _targets, _throughput_table
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


# ConsumerPerformance 4.4.0 with --show-detailed-stats --reporting-interval 200 (its header, then
# one line per report: time, thread, MB so far, MB/s, records so far, records/s, ...)
DETAILED_OUTPUT = """time, threadId, data.consumed.in.MB, MB.sec, data.consumed.in.nMsg, nMsg.sec, rebalance.time.ms, fetch.time.ms, fetch.MB.sec, fetch.nMsg.sec
2026-12-06 14:15:50:923, 0, 0.0001, 0.0000, 1, 0.4363, 2076, 216, 0.0004, 4.6296
2026-12-06 14:15:51:123, 0, 1.5285, 7.6418, 16027, 80130.0000, 0, 200, 7.6418, 80130.0000
2026-12-06 14:15:51:340, 0, 4.2521, 12.5516, 44587, 131612.9032, 0, 217, 12.5516, 131612.9032
2026-12-06 14:15:51:547, 0, 6.2587, 9.6934, 65627, 101642.5121, 0, 207, 9.6934, 101642.5121
2026-12-06 14:15:51:764, 0, 9.1273, 13.2196, 95707, 138617.5115, 0, 217, 13.2196, 138617.5115
2026-12-06 14:15:51:976, 0, 12.6635, 16.6799, 132786, 174900.9434, 0, 212, 16.6799, 174900.9434
2026-12-06 14:15:52:176, 0, 19.5910, 34.6375, 205426, 363200.0000, 0, 200, 34.6375, 363200.0000
2026-12-06 14:15:52:384, 0, 25.3740, 27.8033, 266066, 291538.4615, 0, 208, 27.8033, 291538.4615
"""


def _consume_job(api: str, records: int) -> Job:
    return Job(client="java", scenario="consume", api=api, bootstrap="b:9092", topic="t", records=records)


def test_warm_consumer_rate_runs_from_the_first_report_past_the_warmup_to_the_last() -> None:
    job = _consume_job(java_perf.CONSUMER_WARM, 300_000)  # warm-up: the first 200,000
    cmd = java_perf.command(job)
    assert "--show-detailed-stats" in cmd
    result = java_perf.parser(job)(DETAILED_OUTPUT)
    assert result["records"] == 266066 - 205426
    assert result["seconds"] == pytest.approx(0.208)
    assert result["read"] == 300_000


def test_warm_consumer_refuses_a_run_too_short_or_cut_short() -> None:
    too_short = _consume_job(java_perf.CONSUMER_WARM, 390_000)  # warm-up 260,000: one report past it
    with pytest.raises(RuntimeError, match="too short"):
        java_perf.parser(too_short)(DETAILED_OUTPUT)
    cut = DETAILED_OUTPUT + "WARNING: Exiting before consuming the expected number of messages: timeout\n"
    with pytest.raises(RuntimeError, match="fewer than"):
        java_perf.parser(_consume_job(java_perf.CONSUMER_WARM, 300_000))(cut)
    assert "--show-detailed-stats" not in java_perf.command(_consume_job(java_perf.CONSUMER_COLD, 1000))


def test_warm_runs_do_not_count_as_the_full_record_count() -> None:
    rows = group([_outcome("kafkaio", "send", 1.0), _outcome("java", java_perf.WARM, 1.0)])
    assert full_records(rows) == 100_000
    warm = Outcome(_consume_job(java_perf.CONSUMER_WARM, 300_001), True, result={"records": 1, "seconds": 1.0})
    assert full_records(group([warm, _outcome("kafkaio", "send", 1.0)])) == 100_000


def test_a_cold_anchor_says_on_how_many_runs_its_median_rests() -> None:
    # the warm run failed; the cold row got two of the three repetitions (FEWER_REPEATS)
    outcomes = [_outcome("java", java_perf.WARM, 0.0, ok=False), _outcome("java", java_perf.COLD, 0.5),
                _outcome("java", java_perf.COLD, 0.5), _outcome("kafkaio", "send", 0.2),
                _outcome("kafkaio", "send", 0.2), _outcome("kafkaio", "send", 0.2),
                _outcome("kafkaio", "send_many", 0.1)]
    targets = "\n".join(_targets(group(outcomes)))
    assert ("kafkaio send_many / Java ProducerPerformance (cold: the warm run failed; median of 2 runs) "
            "| 5.00x") in targets
    table = "\n".join(_throughput_table(group(outcomes), "produce", 100))
    assert "vs Java cold (median of 2 runs) |" in table


def test_a_warm_anchor_is_named_as_before() -> None:
    outcomes = [_outcome("java", java_perf.WARM, 0.25), _outcome("java", java_perf.COLD, 0.5),
                _outcome("kafkaio", "send", 0.2), _outcome("kafkaio", "send_many", 0.1)]
    assert "vs Java warm |" in "\n".join(_throughput_table(group(outcomes), "produce", 100))


def _interval(job: Job) -> int:
    cmd = java_perf.command(job)
    return int(cmd[cmd.index("--reporting-interval") + 1])


def test_warm_consumer_reports_as_often_per_measured_record_in_a_short_run_as_in_a_long_one() -> None:
    # the default run measures 1,000,000 records (a 3,000,000-record topic) with a report every
    # REPORT_MS; --quick measures 100,000: a tenth of the interval gives it as many reports
    full = _consume_job(java_perf.CONSUMER_WARM, 1_000_000 * (1 + java_perf.WARMUP_FACTOR))
    quick = _consume_job(java_perf.CONSUMER_WARM, 100_000 * (1 + java_perf.WARMUP_FACTOR))
    assert _interval(full) == java_perf.REPORT_MS
    assert _interval(quick) == java_perf.REPORT_MS // 10
    assert _interval(_consume_job(java_perf.CONSUMER_WARM, 3)) == 1  # never below the tool's 1 ms


def test_the_report_states_the_interval_of_its_run() -> None:
    from benchmarks.report import Report, render

    def text(records: int) -> str:
        return render(Report(command="c", date="d", duration_s=1.0, machine={}, broker="b", kafka_version="4.4.0",
                             records=records, latency_records=10, repeat=1, record_size=100, partitions=6, rows=[]))

    assert f"report every {java_perf.REPORT_MS} ms" in text(1_000_000)
    assert f"report every {java_perf.REPORT_MS // 10} ms" in text(100_000)
