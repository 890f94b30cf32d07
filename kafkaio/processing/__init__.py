"""Concurrent record processing on top of the consumer: order per key or per partition, committed
completed watermarks, backpressure, rebalance safety, retry topics and dead letters.

See docs/processing.md.
"""
from __future__ import annotations

from kafkaio.processing.dead_letter import Origin, origin_of
from kafkaio.processing.dedup import DedupGuard, DedupStore, InMemoryLRUStore
from kafkaio.processing.ordering import Ordering
from kafkaio.processing.processor import OnRevoke, Processor, ProcessorState
from kafkaio.processing.retry_policy import RetryPolicy
from kafkaio.processing.metrics import ProcessorMetrics

__all__ = ["DedupGuard", "DedupStore", "InMemoryLRUStore", "OnRevoke", "Ordering", "Origin", "Processor",
           "ProcessorState", "ProcessorMetrics", "RetryPolicy", "origin_of"]
