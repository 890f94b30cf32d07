"""``Processor.metrics()``: a snapshot of the processing layer, in the clients' metrics style
(docs/metrics.md): a frozen dataclass whose numbers ``as_dict()`` gives by dashed names."""
from __future__ import annotations

from dataclasses import dataclass, field

from kafkaio.metrics.snapshot import flatten
from kafkaio.structs import TopicPartition


@dataclass(frozen=True)
class ProcessorMetrics:
    """Handlers running, records buffered (running, ready, or waiting behind their key or due
    time), totals since the processor was created, and per partition the records above the
    completed watermark (the high watermark minus it)."""

    in_flight: int = 0                  # handler tasks running
    buffered_records: int = 0           # received and not finished
    buffered_bytes: int = 0             # their key and value bytes
    handled_total: int = 0              # records whose handler returned
    failed_attempts_total: int = 0      # handler calls that raised
    retries_in_place_total: int = 0     # handler calls repeated in place after a failure
    retry_topic_sends_total: int = 0    # records sent to a retry topic
    dead_letter_total: int = 0          # records sent to the dead-letter topic
    skipped_done_total: int = 0         # records skipped as finished in an earlier run (commit metadata)
    skipped_duplicates_total: int = 0   # records skipped by the dedup guard
    paused_partitions: int = 0          # partitions this processor has paused (backpressure, due times)
    watermark_lag: dict[TopicPartition, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, float]:
        """Every number by its dashed name (``dead-letter-total``); the lag per partition is not
        among them."""
        return flatten(self)
