"""kafkaio: an asyncio-native Apache Kafka client with a Cython-accelerated core.

The public API is what this module exports; everything else is private. Names are resolved lazily
so that importing ``kafkaio`` stays cheap and a user of the producer never loads the consumer.
"""
from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from kafkaio._speedups import speedups_enabled as speedups_enabled

if TYPE_CHECKING:  # what the lazy exports below resolve to, for type checkers ("X as X": re-exported)
    from kafkaio import admin as admin
    from kafkaio import config as config
    from kafkaio import errors as errors
    from kafkaio import structs as structs
    from kafkaio import testing as testing
    from kafkaio.admin import Admin as Admin
    from kafkaio.admin import NewPartitions as NewPartitions
    from kafkaio.admin import NewTopic as NewTopic
    from kafkaio.consumer.consumer import Consumer as Consumer
    from kafkaio.consumer.consumer import OffsetAndTimestamp as OffsetAndTimestamp
    from kafkaio.consumer.coordinator import ConsumerGroupMetadata as ConsumerGroupMetadata
    from kafkaio.consumer.subscription import ConsumerRebalanceListener as ConsumerRebalanceListener
    from kafkaio.consumer.subscription import SubscriptionPattern as SubscriptionPattern
    from kafkaio.errors import CommitFailedError as CommitFailedError
    from kafkaio.errors import ConfigError as ConfigError
    from kafkaio.errors import KafkaConnectionError as KafkaConnectionError
    from kafkaio.errors import KafkaError as KafkaError
    from kafkaio.errors import KafkaTimeoutError as KafkaTimeoutError
    from kafkaio.errors import ProducerFencedError as ProducerFencedError
    from kafkaio.errors import RecordTooLargeError as RecordTooLargeError
    from kafkaio.health import ConsumerState as ConsumerState
    from kafkaio.health import Health as Health
    from kafkaio.health import ProducerState as ProducerState
    from kafkaio.metrics import AdminMetrics as AdminMetrics
    from kafkaio.metrics import ConsumerMetrics as ConsumerMetrics
    from kafkaio.metrics import NetworkMetrics as NetworkMetrics
    from kafkaio.metrics import ProducerMetrics as ProducerMetrics
    from kafkaio.metrics import ShareConsumerMetrics as ShareConsumerMetrics
    from kafkaio.producer.producer import Producer as Producer
    from kafkaio.producer.producer import RecordMetadata as RecordMetadata
    from kafkaio.records import ConsumerRecord as ConsumerRecord
    from kafkaio.share.consumer import ShareConsumer as ShareConsumer
    from kafkaio.share.records import AcknowledgeType as AcknowledgeType
    from kafkaio.share.records import ShareConsumerRecord as ShareConsumerRecord
    from kafkaio.structs import GroupMembershipOperation as GroupMembershipOperation
    from kafkaio.structs import OffsetAndMetadata as OffsetAndMetadata
    from kafkaio.structs import TopicPartition as TopicPartition

__version__ = "0.1.0"

_EXPORTS: dict[str, str] = {
    # clients
    "Producer": "kafkaio.producer.producer",
    "Consumer": "kafkaio.consumer.consumer",
    "ShareConsumer": "kafkaio.share.consumer",
    "Admin": "kafkaio.admin",
    "NewTopic": "kafkaio.admin",
    "NewPartitions": "kafkaio.admin",
    # data
    "RecordMetadata": "kafkaio.producer.producer",
    "ConsumerRecord": "kafkaio.records",
    "ShareConsumerRecord": "kafkaio.share.records",
    "AcknowledgeType": "kafkaio.share.records",
    "TopicPartition": "kafkaio.structs",
    "OffsetAndMetadata": "kafkaio.structs",
    "GroupMembershipOperation": "kafkaio.structs",
    "ConsumerRebalanceListener": "kafkaio.consumer.subscription",
    "SubscriptionPattern": "kafkaio.consumer.subscription",
    "ConsumerGroupMetadata": "kafkaio.consumer.coordinator",
    "OffsetAndTimestamp": "kafkaio.consumer.consumer",
    # health
    "ConsumerState": "kafkaio.health",
    "ProducerState": "kafkaio.health",
    "Health": "kafkaio.health",
    # metrics
    "ProducerMetrics": "kafkaio.metrics",
    "ConsumerMetrics": "kafkaio.metrics",
    "AdminMetrics": "kafkaio.metrics",
    "NetworkMetrics": "kafkaio.metrics",
    "ShareConsumerMetrics": "kafkaio.metrics",
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
