"""Counters of the processing layer, read with ``Processor.stats()``."""
from __future__ import annotations

from dataclasses import dataclass, field

from kafkaio.structs import TopicPartition


@dataclass
class ProcessorStats:
    """A snapshot: handler tasks running, records buffered (running, ready or waiting behind their
    key or due time), totals since start, and per partition the records received above the
    completed watermark (``watermark_lag``)."""

    in_flight: int = 0
    buffered_records: int = 0
    buffered_bytes: int = 0
    handled: int = 0
    failed_attempts: int = 0
    retried_in_place: int = 0
    sent_to_retry_topics: int = 0
    dead_lettered: int = 0
    skipped_done: int = 0
    skipped_duplicates: int = 0
    paused_partitions: int = 0
    watermark_lag: dict[TopicPartition, int] = field(default_factory=dict)
