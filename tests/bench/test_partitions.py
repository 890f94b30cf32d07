"""The many-partitions scenario: keyed runs, and its own report section with the RSS it adds over
the same client's keyed run to the 6-partition topic."""
from __future__ import annotations

import pytest

from benchmarks import partitions
from benchmarks.aggregate import group
from benchmarks.clients._common import keys_for
from benchmarks.report import Report, render
from benchmarks.runner import Outcome
from benchmarks.settings import Job


def _outcome(client: str, api: str, parts: int, rate: float, rss_mib: int, keyed: bool = True) -> Outcome:
    job = Job(client=client, scenario="produce", api=api, bootstrap="b", topic="t", records=1000,
              partitions=parts, keys=partitions.KEYS if keyed else 0)
    return Outcome(job, True, result={"records": 1000, "seconds": 1000 / rate}, maxrss_kb=rss_mib * 1024)


def test_keys_cycle_through_distinct_keys_and_refuse_a_count_not_a_power_of_two() -> None:
    job = Job(client="kafkaio", scenario="produce", api="send", bootstrap="b", topic="t", records=1,
              keys=partitions.KEYS)
    keys, mask = keys_for(job)
    assert len(set(keys)) == partitions.KEYS and mask == partitions.KEYS - 1
    with pytest.raises(ValueError, match="power of two"):
        keys_for(Job(client="kafkaio", scenario="produce", api="send", bootstrap="b", topic="t", records=1, keys=1000))


def test_many_partitions_section_target_and_rss_per_thousand_partitions() -> None:
    # the produce scenario's keyless runs (more records: a larger RSS) and the scenario's own keyed
    # runs to the small topic, the baseline of the RSS column
    rows = group([_outcome("kafkaio", "send", 6, 1000.0, 90, keyed=False),
                  _outcome("confluent", "produce", 6, 800.0, 70, keyed=False),
                  _outcome("kafkaio", "send", 6, 900.0, 40), _outcome("confluent", "produce", 6, 700.0, 30),
                  _outcome("kafkaio", "send", 1000, 300.0, 64), _outcome("confluent", "produce", 1000, 200.0, 33)])
    text = render(Report(command="c", date="d", duration_s=1.0, machine={}, broker="b", kafka_version="4.1.2",
                         records=1000, latency_records=10, repeat=1, record_size=100, partitions=6, rows=rows))
    assert "1,000 partitions keyed: kafkaio send / confluent produce | 1.50x | >= 1.00x | met" in text
    assert "kafkaio send / confluent produce (shared) | 1.25x" in text
    section = text[text.index("## 1,000 partitions, keyed"):text.index("## Configuration")]
    assert "| kafkaio | send | asyncio | shared | 1,000 | 300 |" in section
    assert section.count("| +24 |") == 1 and section.count("| +3 |") == 1
    produce = text[text.index("## Produce"):text.index("## 1,000 partitions")]
    assert "| 300 |" not in produce and "| 900 |" not in produce  # keyed runs stay out of it
    assert "| 1,000 |" in produce
