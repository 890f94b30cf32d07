"""The share-group scenario's parsing of ShareConsumerPerformance and its table."""
from __future__ import annotations

import pytest

from benchmarks import share

# The tool's output (Kafka 4.4.0): a CSV header and one line of values.
JAVA_OUTPUT = """\
start.time, end.time, data.consumed.in.MB, MB.sec, nMsg.sec, data.consumed.in.nMsg
2026-12-06 17:38:40:123, 2026-12-06 17:38:47:036, 19.0735, 2.7590, 28927.1297, 200000
"""


def test_java_summary_gives_records_and_rate() -> None:
    assert share.parse_java(JAVA_OUTPUT) == {"records": 200000, "rate": pytest.approx(28927.1297)}


def test_java_output_without_summary_is_an_error_that_quotes_it() -> None:
    with pytest.raises(RuntimeError, match="no summary.*WARN"):
        share.parse_java("[2026-12-06] WARN something went wrong\n")


def test_table_gives_each_client_over_java() -> None:
    rows = [{"client": "kafkaio", "api": "ShareConsumer", "records": 300000, "rate": 30000.0, "min": 29000.0,
             "max": 31000.0, "runs": 3},
            {"client": "java", "api": "ShareConsumerPerformance", "records": 300000, "rate": 25000.0,
             "min": 24000.0, "max": 26000.0, "runs": 3}]
    lines = share.table(rows)
    assert lines[2] == "| kafkaio | ShareConsumer | 300,000 | 30,000 | 29,000 - 31,000 | 3 | 1.20x |"
    assert lines[3].endswith("| 1.00x |")


def test_share_runs_on_the_suites_own_broker_from_kafka_4_2() -> None:
    assert share.on_suite_broker("4.4.0", local=True)
    assert share.on_suite_broker("4.2.1", local=True)
    assert not share.on_suite_broker("4.1.2", local=True)
    # a cluster at KAFKAIO_BOOTSTRAP may have share groups turned off
    assert not share.on_suite_broker("4.4.0", local=False)


def test_the_child_is_given_the_suites_broker(monkeypatch: pytest.MonkeyPatch) -> None:
    import json
    import subprocess

    seen: list[list[str]] = []

    def fake_run(argv: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
        seen.append(argv)
        return subprocess.CompletedProcess(argv, 0, stdout=json.dumps([{"broker": share.SUITE_BROKER}]) + "\n",
                                           stderr="")

    monkeypatch.setattr(share.subprocess, "run", fake_run)
    rows, error = share.run(quick=True, timeout_s=10.0, bootstrap="127.0.0.1:9092")
    assert error is None and rows == [{"broker": share.SUITE_BROKER}]
    assert seen[0][seen[0].index("--bootstrap") + 1] == "127.0.0.1:9092"
    share.run(quick=True, timeout_s=10.0)
    assert "--bootstrap" not in seen[1]


def test_the_report_says_which_broker_the_share_rows_were_measured_on() -> None:
    from benchmarks.report import Report, render

    def text(rows: list[dict[str, object]]) -> str:
        return render(Report(command="c", date="d", duration_s=1.0, machine={}, broker="b", kafka_version="4.4.0",
                             records=1000, latency_records=10, repeat=1, record_size=100, partitions=6, rows=[],
                             share_rows=rows, share_ran=True))

    row = {"client": "kafkaio", "api": "ShareConsumer", "records": 300000, "rate": 30000.0, "min": 29000.0,
           "max": 31000.0, "runs": 3}
    assert f"on {share.SUITE_BROKER}." in text([{**row, "broker": share.SUITE_BROKER}])
    # results saved before the rows named their broker were measured on one of its own
    assert f"on {share.OWN_BROKER}." in text([row])
