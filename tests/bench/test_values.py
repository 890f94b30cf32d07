"""The large-values scenario: its record counts, the producers' value pools, and its own section
of the report, kept out of the 100-byte tables, ratios and targets."""
from __future__ import annotations

from benchmarks import values
from benchmarks.aggregate import group
from benchmarks.report import Report, render
from benchmarks.runner import Outcome
from benchmarks.settings import PAYLOAD_POOL, POOL_BYTES, Job, pool_size


def test_runs_move_about_the_same_bytes_whatever_the_value_size() -> None:
    for size in values.SIZES:
        assert abs(values.records_for(size, quick=False) * size - values.BYTES_PER_RUN) < size
        assert values.records_for(size, quick=True) < values.records_for(size, quick=False)


def test_value_pools_stay_small_for_large_values() -> None:
    assert pool_size(100) == PAYLOAD_POOL
    for size in values.SIZES:
        n = pool_size(size)
        assert n & (n - 1) == 0 and n * size <= POOL_BYTES
    assert pool_size(10 * 1024 * 1024) == 16


def _outcome(client: str, api: str, size: int, rate: float) -> Outcome:
    job = Job(client=client, scenario="produce", api=api, bootstrap="b", topic="t", records=1000, record_size=size)
    return Outcome(job, True, result={"records": 1000, "seconds": 1000 / rate})


def test_large_values_have_their_own_section_and_stay_out_of_the_targets() -> None:
    rows = group([_outcome("kafkaio", "send", 100, 1000.0), _outcome("confluent", "produce", 100, 500.0),
                  _outcome("kafkaio", "send", 10240, 10.0), _outcome("confluent", "produce", 10240, 40.0)])
    text = render(Report(command="c", date="d", duration_s=1.0, machine={}, broker="b", kafka_version="4.1.2",
                         records=1000, latency_records=10, repeat=1, record_size=100, partitions=6, rows=rows))
    produce = text[text.index("## Produce"):text.index("## Large values")]
    large = text[text.index("## Large values"):text.index("## Configuration")]
    assert "kafkaio send / confluent produce (shared) | 2.00x" in text
    assert produce.count("| kafkaio | send |") == 1 and "| 1,000 | 1,000 |" in produce
    assert "### values of 10,240 bytes" in large
    assert "| confluent | produce | - | shared | 1,000 | 40 | 40 - 40 | 0.4 | 4.00x |" in large
