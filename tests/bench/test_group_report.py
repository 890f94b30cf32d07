"""The consumer-group section of the report: time to the first record and the rate, join included."""
from __future__ import annotations

from benchmarks.aggregate import group
from benchmarks.report import Report, render
from benchmarks.runner import Outcome
from benchmarks.settings import Job


def _outcome(client: str, api: str, seconds: float, first_s: float) -> Outcome:
    job = Job(client=client, scenario="group", api=api, bootstrap="b", topic="t", records=1000)
    return Outcome(job, True, result={"records": 1000, "seconds": seconds, "first_record_s": first_s})


def test_group_section_reports_time_to_first_record_and_the_rate_with_the_join() -> None:
    rows = group([_outcome("kafkaio", "getmany", 0.5, 0.2), _outcome("kafkaio", "getmany", 1.0, 0.4),
                  _outcome("kafkaio", "getmany", 2.0, 0.3), _outcome("confluent", "consume", 1.0, 0.1)])
    text = render(Report(command="c", date="d", duration_s=1.0, machine={}, broker="b", kafka_version="4.1.2",
                         records=1000, latency_records=10, repeat=3, record_size=100, partitions=6, rows=rows,
                         fillers={"group": "confluent produce_batch"}))
    section = text[text.index("## Consumer group"):text.index("## Configuration")]
    assert "Topic filled by confluent produce_batch." in section
    assert "| kafkaio | getmany | 1,000 | 300 | 1,000 | 500 - 2,000 | 1.00x |" in section
    assert "| confluent | consume | 1,000 | 100 | 1,000 | 1,000 - 1,000 | 1.00x |" in section
    assert "## Targets" not in text
