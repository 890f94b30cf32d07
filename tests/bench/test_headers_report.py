"""The headers scenario's section: its rows apart from the produce table, compared with the same
client and API without headers."""
from __future__ import annotations

from benchmarks.aggregate import group
from benchmarks.clients._common import headers_for, keys_for
from benchmarks.report import Report, render
from benchmarks.runner import Outcome
from benchmarks.settings import Job


def _outcome(api: str, hdrs: int, rate: float) -> Outcome:
    job = Job(client="kafkaio", scenario="produce", api=api, bootstrap="b", topic="t", records=1000, headers=hdrs)
    return Outcome(job, True, result={"records": 1000, "seconds": 1000 / rate})


def test_headers_rows_have_their_section_and_compare_with_the_plain_run() -> None:
    rows = group([_outcome("send_many", 0, 2000.0), _outcome("send_many", 2, 1600.0)])
    text = render(Report(command="c", date="d", duration_s=1.0, machine={}, broker="b", kafka_version="4.1.2",
                         records=1000, latency_records=10, repeat=1, record_size=100, partitions=6, rows=rows))
    produce = text[text.index("## Produce"):text.index("## Headers")]
    section = text[text.index("## Headers"):text.index("## Configuration")]
    assert "| 2,000 |" in produce and "| 1,600 |" not in produce
    assert "| 1,600 |" in section and section.rstrip().splitlines()[-1].endswith("| 0.80x |")


def test_plain_jobs_have_no_keys_and_no_headers() -> None:
    job = Job(client="kafkaio", scenario="produce", api="send", bootstrap="b", topic="t", records=1)
    assert keys_for(job) == ([None], 0)
    assert headers_for(job) is None
    assert headers_for(Job(client="kafkaio", scenario="produce", api="send", bootstrap="b", topic="t", records=1,
                           headers=2)) == [("header-0", b"value-0000000000"), ("header-1", b"value-0000000001")]
