"""kafkaio: an asyncio-native Apache Kafka client with a Cython-accelerated core.

The public API is what this module exports; everything else is private. Names are resolved lazily
so that importing ``kafkaio`` stays cheap and a user of the producer never loads the consumer.
"""
from __future__ import annotations

import importlib
from typing import Any

from kafkaio._speedups import speedups_enabled

__version__ = "0.1.0"

_EXPORTS: dict[str, str] = {
    # clients
    "Producer": "kafkaio.producer.producer",
    "Consumer": "kafkaio.consumer.consumer",
    "Admin": "kafkaio.admin",
    "NewTopic": "kafkaio.admin",
    "NewPartitions": "kafkaio.admin",
    # data
    "RecordMetadata": "kafkaio.producer.producer",
    "ConsumerRecord": "kafkaio.records",
    "TopicPartition": "kafkaio.structs",
    "OffsetAndMetadata": "kafkaio.structs",
    "ConsumerRebalanceListener": "kafkaio.consumer.subscription",
    "ConsumerGroupMetadata": "kafkaio.consumer.coordinator",
    "OffsetAndTimestamp": "kafkaio.consumer.consumer",
    # errors most users catch
    "KafkaError": "kafkaio.errors",
    "ConfigError": "kafkaio.errors",
    "KafkaTimeoutError": "kafkaio.errors",
    "RecordTooLargeError": "kafkaio.errors",
    "KafkaConnectionError": "kafkaio.errors",
    "CommitFailedError": "kafkaio.errors",
    "ProducerFencedError": "kafkaio.errors",
}

# public modules reachable as attributes (``kafkaio.errors.UnknownTopicOrPartitionError``) without
# importing them first
_MODULES = frozenset({"errors", "structs", "config", "admin", "testing"})

__all__ = sorted([*_EXPORTS, "speedups_enabled", "__version__"])


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        if name in _MODULES:
            return importlib.import_module(f"kafkaio.{name}")
        raise AttributeError(f"module 'kafkaio' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
