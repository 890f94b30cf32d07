"""What ``metrics()`` returns: typed, immutable snapshots named as the Java client names its
metrics (``record_send_total`` is Java's ``record-send-total``); docs/metrics.md lists each one.

Rates are per second over the last 30-60 s; averages are over the same window and NaN when nothing
was measured in it; latencies and throttle times are in milliseconds.
"""
from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING

from kafkaio.structs import TopicPartition

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

__all__ = ["AdminMetrics", "ConsumerMetrics", "NetworkMetrics", "ProducerMetrics", "ShareConsumerMetrics"]


def flatten(snapshot: DataclassInstance) -> dict[str, float]:
    """The snapshot's numbers by their Java names, with the network's among them."""
    out: dict[str, float] = {}
    for f in fields(snapshot):
        value = getattr(snapshot, f.name)
        if isinstance(value, NetworkMetrics):
            out.update(value.as_dict())
        elif isinstance(value, (int, float)):
            out[f.name.replace("_", "-")] = value
    return out


@dataclass(frozen=True)
class NetworkMetrics:
    """A client's connections to the brokers, and what went over them."""

    connection_count: int               # connections open now
    connection_creation_total: int      # connections opened (and set up: ApiVersions, SASL)
    connection_close_total: int         # connections closed, for any reason
    connection_error_total: int         # connection attempts that failed, and connections lost to an error
    successful_reauthentication_total: int  # SASL sessions renewed in place (KIP-368)
    request_total: int                  # requests written
    request_rate: float
    response_total: int                 # responses read
    response_rate: float
    outgoing_byte_total: int            # bytes of the requests written
    outgoing_byte_rate: float
    incoming_byte_total: int            # bytes of the responses read
    incoming_byte_rate: float
    request_latency_avg: float          # ms from writing a request to reading its response
    request_latency_max: float
    throttle_time_avg: float            # ms of quota throttle per response (0 for the unthrottled)
    throttle_time_max: float

    def as_dict(self) -> dict[str, float]:
        """Every metric by its Java name (``request-latency-avg``)."""
        return flatten(self)


@dataclass(frozen=True)
class ProducerMetrics:
    """``Producer.metrics()``: records and batches sent, their outcomes, the buffer."""

    record_send_total: int              # records sent, counted per attempt as in Java (a retried record again)
    record_send_rate: float
    record_error_total: int             # records whose delivery failed for good
    record_error_rate: float
    record_retry_total: int             # records of batches sent again after a retriable error
    record_retry_rate: float
    byte_total: int                     # bytes of the record batches sent (compressed, as on the wire)
    byte_rate: float
    batch_size_avg: float               # bytes per batch sent
    compression_rate_avg: float         # a batch's compressed size over its uncompressed size
    records_per_request_avg: float      # records per produce request
    batch_split_total: int              # batches split in two after MESSAGE_TOO_LARGE
    buffer_total_bytes: int             # buffer_memory
    buffer_available_bytes: int         # buffer_memory not reserved by unsent or unacknowledged batches
    waiting_threads: int                # send() calls waiting for buffer memory
    requests_in_flight: int             # produce requests awaiting their response
    network: NetworkMetrics

    def as_dict(self) -> dict[str, float]:
        """Every metric by its Java name (``record-send-rate``), the network's included."""
        return flatten(self)


@dataclass(frozen=True)
class ConsumerMetrics:
    """``Consumer.metrics()``: records read, fetches, lag, commits and rebalances."""

    records_consumed_total: int         # records handed to the application (counted per batch, as it starts)
    records_consumed_rate: float
    bytes_consumed_total: int           # bytes of those record batches
    bytes_consumed_rate: float
    fetch_total: int                    # fetch responses
    fetch_rate: float
    fetch_latency_avg: float            # ms from a fetch request to its response (includes fetch_max_wait_ms)
    records_lag_max: int                # the largest lag among the assigned partitions (-1: none known)
    assigned_partitions: int
    commit_total: int                   # OffsetCommit responses
    commit_rate: float
    commit_latency_avg: float
    rebalance_total: int                # rebalances completed
    failed_rebalance_total: int         # rebalances given up (the member joins again)
    rebalance_latency_avg: float        # ms from starting to join to having the assignment
    last_rebalance_seconds_ago: float   # since the last completed rebalance; -1 when none
    network: NetworkMetrics
    #: per assigned partition whose end is known: records between the position and the end
    #: (high watermark; last stable offset with read_committed), as ``Consumer.lag()``
    records_lag: dict[TopicPartition, int] = field(default_factory=dict[TopicPartition, int])

    def as_dict(self) -> dict[str, float]:
        """Every scalar metric by its Java name (``records-lag-max``), the network's included;
        the per-partition lag is in :attr:`records_lag`."""
        return flatten(self)


@dataclass(frozen=True)
class ShareConsumerMetrics:
    """``ShareConsumer.metrics()``: records acquired, fetches, acknowledgements and rebalances
    (Java's ``consumer-share-fetch-manager``, ``consumer-share-coordinator`` and
    ``consumer-share`` metric groups)."""

    records_consumed_total: int         # records acquired by this member and handed to the application
    records_consumed_rate: float
    bytes_consumed_total: int           # bytes of the record batches those records came in
    bytes_consumed_rate: float
    fetch_total: int                    # ShareFetch responses
    fetch_rate: float
    fetch_latency_avg: float            # ms from a ShareFetch request to its response (includes fetch_max_wait_ms)
    fetch_size_avg: float               # bytes of records per ShareFetch response
    records_per_request_avg: float      # records acquired per ShareFetch response
    acknowledgements_send_total: int    # acknowledgements (accept, release, reject, renew) the broker took
    acknowledgements_send_rate: float
    acknowledgements_error_total: int   # acknowledgements that failed (the records' locks expire on the broker)
    acknowledgements_error_rate: float
    assigned_partitions: int            # share partitions the coordinator assigned to this member
    rebalance_total: int                # assignments received from the coordinator
    last_poll_seconds_ago: float        # since the last getmany()/getone()/iteration; -1 before the first
    network: NetworkMetrics

    def as_dict(self) -> dict[str, float]:
        """Every metric by its Java name (``acknowledgements-send-total``), the network's included."""
        return flatten(self)


@dataclass(frozen=True)
class AdminMetrics:
    """``Admin.metrics()``: the admin client's connections."""

    network: NetworkMetrics

    def as_dict(self) -> dict[str, float]:
        """Every metric by its Java name."""
        return flatten(self)
