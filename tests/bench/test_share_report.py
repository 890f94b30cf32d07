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
