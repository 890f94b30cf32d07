"""Each client's snapshot, made from the counters its parts keep (see docs/metrics.md).

The counters are plain attributes of the part that does the work: the sender and the accumulator
for the producer, the fetcher and the group coordinator for the consumer, the connections and the
cluster for every client. A :class:`MetricsReader` turns them into a snapshot when asked: rates and
averages over the last window come from the difference with an earlier reading.
"""
from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Protocol

from kafkaio.metrics.network import (
    NETWORK_TOTALS,
    ConnectionCounters,
    ConnectionTotals,
    network_metrics,
    network_totals,
)
from kafkaio.metrics.snapshot import AdminMetrics, ConsumerMetrics, NetworkMetrics, ProducerMetrics, ShareConsumerMetrics
from kafkaio.metrics.window import RateWindow
from kafkaio.structs import TopicPartition

__all__ = ["AccumulatorCounters", "CollectorCounters", "ConnectionPool", "CoordinatorCounters", "FetcherCounters", "MetricsReader",
           "SenderCounters", "ShareFetcherCounters", "admin_metrics", "admin_reader", "consumer_metrics",
           "consumer_reader", "producer_metrics", "producer_reader", "share_consumer_metrics",
           "share_consumer_reader"]

class ConnectionPool(Protocol):
    """What owns the connections (``kafkaio.cluster.Cluster``)."""

    @property
    def connection_totals(self) -> ConnectionTotals: ...

    def open_connections(self) -> Sequence[ConnectionCounters]: ...


class SenderCounters(Protocol):
    """What the producer's sender counts."""

    @property
    def records_sent(self) -> int: ...
    @property
    def records_retried(self) -> int: ...
    @property
    def bytes_sent(self) -> int: ...
    @property
    def batches_sent(self) -> int: ...
    @property
    def compression_ratio_total(self) -> float: ...
    @property
    def batches_built(self) -> int: ...
    @property
    def produce_requests(self) -> int: ...
    @property
    def in_flight_requests(self) -> int: ...
    @property
    def batches_split(self) -> int: ...


class AccumulatorCounters(Protocol):
    """What the producer's accumulator counts."""

    @property
    def records_failed(self) -> int: ...
    @property
    def memory_used(self) -> int: ...
    @property
    def memory_waiters(self) -> int: ...


class FetcherCounters(Protocol):
    """What the consumer's fetcher counts."""

    @property
    def fetch_responses(self) -> int: ...
    @property
    def fetch_latency_total_s(self) -> float: ...


class CollectorCounters(Protocol):
    """What the consumer's fetch collector counts."""

    @property
    def records_consumed(self) -> int: ...
    @property
    def bytes_consumed(self) -> int: ...


class ShareFetcherCounters(FetcherCounters, CollectorCounters, Protocol):
    """What a share consumer's fetcher counts: a fetcher's and a collector's counts (it hands out
    the records it fetched itself) and its acknowledgements'."""

    @property
    def acknowledgements_sent(self) -> int: ...
    @property
    def acknowledgements_failed(self) -> int: ...


class CoordinatorCounters(Protocol):
    """What the consumer's group coordinator counts."""

    @property
    def commit_responses(self) -> int: ...
    @property
    def commit_latency_total_s(self) -> float: ...
    @property
    def rebalances(self) -> int: ...
    @property
    def rebalance_latency_total_s(self) -> float: ...
    @property
    def failed_rebalances(self) -> int: ...
    @property
    def last_rebalance(self) -> float | None: ...


_PRODUCER_TOTALS = 8
_CONSUMER_TOTALS = 8
_SHARE_CONSUMER_TOTALS = 6
_N = len(NETWORK_TOTALS)


class MetricsReader:
    """One client's readings of its totals: the client's own first, the network's after them."""

    __slots__ = ("_window",)

    def __init__(self, own: int) -> None:
        self._window = RateWindow(time.monotonic(), own + _N)

    def read(self, own: Sequence[float], cluster: ConnectionPool | None
             ) -> tuple[float, tuple[float, ...], NetworkMetrics]:
        """Seconds covered, the increase of each of ``own`` over them, and the network snapshot."""
        live: Sequence[ConnectionCounters] = []
        totals = ConnectionTotals()
        if cluster is not None:
            live = cluster.open_connections()
            totals = cluster.connection_totals
        net = network_totals(live, totals)
        elapsed, delta = self._window.read(time.monotonic(), (*own, *net))
        k = len(own)
        return elapsed, delta[:k], network_metrics(live, totals, net, elapsed, delta[k:])


def producer_reader() -> MetricsReader:
    return MetricsReader(_PRODUCER_TOTALS)


def consumer_reader() -> MetricsReader:
    return MetricsReader(_CONSUMER_TOTALS)


def producer_metrics(reader: MetricsReader, sender: SenderCounters | None, accumulator: AccumulatorCounters | None,
                     cluster: ConnectionPool | None,
                     buffer_memory: int) -> ProducerMetrics:
    """``Producer.metrics()`` from its sender, accumulator and cluster (None before start)."""
    if sender is None or accumulator is None:
        own: tuple[float, ...] = (0,) * _PRODUCER_TOTALS
        used = waiting = in_flight = 0
    else:
        own = (sender.records_sent, accumulator.records_failed, sender.records_retried,
               sender.bytes_sent, sender.batches_sent, sender.compression_ratio_total,
               sender.batches_built, sender.produce_requests)
        used, waiting, in_flight = (accumulator.memory_used, accumulator.memory_waiters,
                                    sender.in_flight_requests)
    elapsed, d, network = reader.read(own, cluster)
    d_sent, d_failed, d_retried, d_bytes, d_batches, d_ratio, d_built, d_requests = d
    rate, avg = RateWindow.rate, RateWindow.average
    return ProducerMetrics(
        record_send_total=int(own[0]), record_send_rate=rate(elapsed, d_sent),
        record_error_total=int(own[1]), record_error_rate=rate(elapsed, d_failed),
        record_retry_total=int(own[2]), record_retry_rate=rate(elapsed, d_retried),
        byte_total=int(own[3]), byte_rate=rate(elapsed, d_bytes),
        batch_size_avg=avg(d_bytes, d_batches),
        compression_rate_avg=avg(d_ratio, d_built),
        records_per_request_avg=avg(d_sent, d_requests),
        batch_split_total=0 if sender is None else sender.batches_split,
        buffer_total_bytes=buffer_memory,
        buffer_available_bytes=buffer_memory - used,
        waiting_threads=waiting,
        requests_in_flight=in_flight,
        network=network,
    )


def consumer_metrics(reader: MetricsReader, fetcher: FetcherCounters | None, collector: CollectorCounters | None,
                     coordinator: CoordinatorCounters | None,
                     cluster: ConnectionPool | None,
                     assigned: Sequence[TopicPartition],
                     lag: Callable[[TopicPartition], int | None]) -> ConsumerMetrics:
    """``Consumer.metrics()`` from its fetcher and collector, coordinator (None without a group)
    and cluster (None before start); ``lag`` is ``Consumer.lag``."""
    f = (0 if collector is None else collector.records_consumed,
         0 if collector is None else collector.bytes_consumed,
         0 if fetcher is None else fetcher.fetch_responses,
         0.0 if fetcher is None else fetcher.fetch_latency_total_s)
    c = coordinator
    g = (0, 0.0, 0, 0.0) if c is None else (
        c.commit_responses, c.commit_latency_total_s, c.rebalances, c.rebalance_latency_total_s)
    elapsed, d, network = reader.read((*f, *g), cluster)
    d_records, d_bytes, d_fetches, d_fetch_s, d_commits, d_commit_s, d_rebalances, d_rebalance_s = d
    rate, avg = RateWindow.rate, RateWindow.average
    lags: dict[TopicPartition, int] = {}
    for tp in assigned:
        n = lag(tp)
        if n is not None:
            lags[tp] = n
    last = None if c is None else c.last_rebalance
    return ConsumerMetrics(
        records_consumed_total=int(f[0]), records_consumed_rate=rate(elapsed, d_records),
        bytes_consumed_total=int(f[1]), bytes_consumed_rate=rate(elapsed, d_bytes),
        fetch_total=int(f[2]), fetch_rate=rate(elapsed, d_fetches),
        fetch_latency_avg=avg(d_fetch_s * 1000.0, d_fetches),
        records_lag_max=max(lags.values(), default=-1),
        assigned_partitions=len(assigned),
        commit_total=int(g[0]), commit_rate=rate(elapsed, d_commits),
        commit_latency_avg=avg(d_commit_s * 1000.0, d_commits),
        rebalance_total=int(g[2]),
        failed_rebalance_total=0 if c is None else c.failed_rebalances,
        rebalance_latency_avg=avg(d_rebalance_s * 1000.0, d_rebalances),
        last_rebalance_seconds_ago=-1.0 if last is None else time.monotonic() - last,
        network=network,
        records_lag=lags,
    )


def share_consumer_reader() -> MetricsReader:
    return MetricsReader(_SHARE_CONSUMER_TOTALS)


def share_consumer_metrics(reader: MetricsReader, fetcher: ShareFetcherCounters | None,
                           cluster: ConnectionPool | None, assigned: int, rebalances: int,
                           last_poll: float | None) -> ShareConsumerMetrics:
    """``ShareConsumer.metrics()`` from its fetcher and cluster (None before start), the size of
    its assignment, the assignments it received and when it last polled (``time.monotonic()``)."""
    own: tuple[float, ...] = (0, 0, 0, 0.0, 0, 0) if fetcher is None else (
        fetcher.records_consumed, fetcher.bytes_consumed, fetcher.fetch_responses,
        fetcher.fetch_latency_total_s, fetcher.acknowledgements_sent, fetcher.acknowledgements_failed)
    elapsed, d, network = reader.read(own, cluster)
    d_records, d_bytes, d_fetches, d_fetch_s, d_acked, d_ack_failed = d
    rate, avg = RateWindow.rate, RateWindow.average
    return ShareConsumerMetrics(
        records_consumed_total=int(own[0]), records_consumed_rate=rate(elapsed, d_records),
        bytes_consumed_total=int(own[1]), bytes_consumed_rate=rate(elapsed, d_bytes),
        fetch_total=int(own[2]), fetch_rate=rate(elapsed, d_fetches),
        fetch_latency_avg=avg(d_fetch_s * 1000.0, d_fetches),
        fetch_size_avg=avg(d_bytes, d_fetches),
        records_per_request_avg=avg(d_records, d_fetches),
        acknowledgements_send_total=int(own[4]), acknowledgements_send_rate=rate(elapsed, d_acked),
        acknowledgements_error_total=int(own[5]), acknowledgements_error_rate=rate(elapsed, d_ack_failed),
        assigned_partitions=assigned,
        rebalance_total=rebalances,
        last_poll_seconds_ago=-1.0 if last_poll is None else time.monotonic() - last_poll,
        network=network,
    )


def admin_reader() -> MetricsReader:
    return MetricsReader(0)


def admin_metrics(reader: MetricsReader, cluster: ConnectionPool | None) -> AdminMetrics:
    """``Admin.metrics()`` from its cluster (None when not started)."""
    return AdminMetrics(network=reader.read((), cluster)[2])
