"""A client's network metrics: the counters of its open connections plus those of the closed ones.

Each :class:`~kafkaio.conn.BrokerConnection` counts what goes over it; the cluster that owns the
connections keeps a :class:`ConnectionTotals`: the counters of each connection are added to it when the
connection closes, and the cluster counts there the connections it opened and those that failed.
"""
from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from typing import Protocol

from kafkaio.metrics.snapshot import NetworkMetrics
from kafkaio.metrics.window import RateWindow, WindowedMax, nanmax

__all__ = ["ConnectionCounters", "ConnectionTotals", "network_totals", "network_metrics", "NETWORK_TOTALS"]

# the totals network_totals() reads, in order (their rates and averages come from a RateWindow)
NETWORK_TOTALS = ("requests", "responses", "bytes_out", "bytes_in", "latency_s", "throttle_ms")


class ConnectionCounters(Protocol):
    """What a broker connection counts (``kafkaio.conn.BrokerConnection``)."""

    @property
    def close_error(self) -> BaseException | None: ...
    @property
    def reauthentications(self) -> int: ...
    @property
    def requests_sent(self) -> int: ...
    @property
    def responses_received(self) -> int: ...
    @property
    def bytes_sent(self) -> int: ...
    @property
    def bytes_received(self) -> int: ...
    @property
    def latency_total_s(self) -> float: ...
    @property
    def throttle_time_ms_total(self) -> int: ...
    @property
    def latency_max_s(self) -> WindowedMax: ...
    @property
    def throttle_time_max(self) -> WindowedMax: ...


class ConnectionTotals:
    """How many connections a cluster opened, closed or failed, and what the closed ones did."""

    __slots__ = ("created", "closed", "errors", "reauthentications", "requests", "responses", "bytes_out",
                 "bytes_in", "latency_s", "throttle_ms", "latency_max_s", "throttle_max_ms")

    def __init__(self) -> None:
        self.created = 0   # connections set up (counted by the cluster)
        self.closed = 0
        self.errors = 0    # failed attempts and connections closed with an error
        self.reauthentications = 0
        self.requests = 0
        self.responses = 0
        self.bytes_out = 0
        self.bytes_in = 0
        self.latency_s = 0.0
        self.throttle_ms = 0
        self.latency_max_s = WindowedMax()
        self.throttle_max_ms = WindowedMax()

    def add(self, conn: ConnectionCounters) -> None:
        """Take over the counters of ``conn``, which has just closed."""
        now = time.monotonic()
        self.closed += 1
        if conn.close_error is not None:
            self.errors += 1
        self.reauthentications += conn.reauthentications
        self.requests += conn.requests_sent
        self.responses += conn.responses_received
        self.bytes_out += conn.bytes_sent
        self.bytes_in += conn.bytes_received
        self.latency_s += conn.latency_total_s
        self.throttle_ms += conn.throttle_time_ms_total
        self.latency_max_s.merge(conn.latency_max_s, now)
        self.throttle_max_ms.merge(conn.throttle_time_max, now)


def network_totals(live: Iterable[ConnectionCounters], closed: ConnectionTotals) -> tuple[float, ...]:
    """The running totals named by :data:`NETWORK_TOTALS`, over open and closed connections."""
    req, resp, out, inn, lat, thr = (closed.requests, closed.responses, closed.bytes_out,
                                     closed.bytes_in, closed.latency_s, closed.throttle_ms)
    for c in live:
        req += c.requests_sent
        resp += c.responses_received
        out += c.bytes_sent
        inn += c.bytes_received
        lat += c.latency_total_s
        thr += c.throttle_time_ms_total
    return (req, resp, out, inn, lat, thr)


def network_metrics(live: Sequence[ConnectionCounters], closed: ConnectionTotals, totals: tuple[float, ...],
                    elapsed: float, delta: tuple[float, ...]) -> NetworkMetrics:
    """The snapshot, from :func:`network_totals` and their increase over the window (``elapsed``
    seconds, ``delta`` in the same order)."""
    now = time.monotonic()
    # Connections record maxima in loop time; asyncio's (and uvloop's) loop clock is the
    # monotonic clock, so the same ``now`` serves both.
    lat_max = closed.latency_max_s.value(now)
    thr_max = closed.throttle_max_ms.value(now)
    for c in live:
        lat_max = nanmax(lat_max, c.latency_max_s.value(now))
        thr_max = nanmax(thr_max, c.throttle_time_max.value(now))
    req, resp, out, inn, _, _ = totals
    d_req, d_resp, d_out, d_in, d_lat, d_thr = delta
    rate, avg = RateWindow.rate, RateWindow.average
    return NetworkMetrics(
        connection_count=len(live),
        connection_creation_total=closed.created,
        connection_close_total=closed.closed,
        connection_error_total=closed.errors,
        successful_reauthentication_total=closed.reauthentications + sum(c.reauthentications for c in live),
        request_total=int(req), request_rate=rate(elapsed, d_req),
        response_total=int(resp), response_rate=rate(elapsed, d_resp),
        outgoing_byte_total=int(out), outgoing_byte_rate=rate(elapsed, d_out),
        incoming_byte_total=int(inn), incoming_byte_rate=rate(elapsed, d_in),
        request_latency_avg=avg(d_lat * 1000.0, d_resp),
        request_latency_max=lat_max * 1000.0,
        throttle_time_avg=avg(d_thr, d_resp),
        throttle_time_max=nanmax(thr_max, 0.0) if d_resp else thr_max,
    )

