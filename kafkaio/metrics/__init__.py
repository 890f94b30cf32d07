"""Client metrics: ``producer.metrics()``, ``consumer.metrics()``, ``admin.metrics()`` return these
snapshots, named as the Java client's metrics (docs/metrics.md)."""
from kafkaio.metrics.snapshot import AdminMetrics, ConsumerMetrics, NetworkMetrics, ProducerMetrics, ShareConsumerMetrics

__all__ = ["AdminMetrics", "ConsumerMetrics", "NetworkMetrics", "ProducerMetrics", "ShareConsumerMetrics"]
