"""Incremental fetch sessions (KIP-227), one per broker, from the client's side.

The first Fetch to a broker lists every partition with ``session_epoch=0``, asking the broker to
create a session; after that, a Fetch lists only partitions whose fetch position (or leader epoch)
changed or that are new, and names in ``forgotten_topics_data`` those we stopped fetching. The broker
keeps the rest cached and answers for them too when they have news. So a consumer of many quiet
partitions sends and receives little per round trip.

:meth:`FetchSession.build` returns the request's partition lists plus ``expected``: for every
partition the broker may answer about (the session's whole cache), the (state epoch, fetch offset)
it will answer for, which the fetcher uses to accept or drop each partition's data. Any session
error, a lost connection, or a broker that declines to cache makes the next request a full one.
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from kafkaio.structs import TopicPartition

_INITIAL_EPOCH = 0
_NO_SESSION_EPOCH = -1


class FetchSession:
    """The client's copy of one broker's session cache."""

    __slots__ = ("session_id", "epoch", "cached", "enabled")

    def __init__(self, enabled: bool = True) -> None:
        self.session_id = 0
        self.epoch = _INITIAL_EPOCH if enabled else _NO_SESSION_EPOCH
        # tp -> (fetch_offset, leader_epoch, last_fetched_epoch, state_epoch, partition_max_bytes) as the broker has it
        self.cached: dict[TopicPartition, tuple[int, int, int, int, int]] = {}
        self.enabled = enabled

    def reset(self) -> None:
        """Forget the session: the next request is a full one that opens a new session."""
        self.session_id = 0
        self.epoch = _INITIAL_EPOCH if self.enabled else _NO_SESSION_EPOCH
        self.cached = {}

    @property
    def is_full(self) -> bool:
        return self.session_id == 0

    def build(self, wanted: Iterable[tuple[TopicPartition, int, int, int, int, int]]
              ) -> tuple[list[tuple[TopicPartition, int, int, int, int]], list[TopicPartition],
                         dict[TopicPartition, tuple[int, int]], int, int]:
        """From (tp, fetch_offset, leader_epoch, last_fetched_epoch, state_epoch, max_bytes) of every
        partition to fetch: (partitions to list as (tp, fetch_offset, leader_epoch,
        last_fetched_epoch, max_bytes), partitions to forget, expected answers, session_id,
        session_epoch)."""
        wanted = list(wanted)
        if self.is_full:
            send = [(tp, off, le, lfe, mb) for tp, off, le, lfe, _se, mb in wanted]
            forget: list[TopicPartition] = []
            self.cached = {tp: (off, le, lfe, se, mb) for tp, off, le, lfe, se, mb in wanted}
        else:
            send = []
            now = {}
            for tp, off, le, lfe, se, mb in wanted:
                now[tp] = (off, le, lfe, se, mb)
                if self.cached.get(tp) != (off, le, lfe, se, mb):
                    send.append((tp, off, le, lfe, mb))
            forget = [tp for tp in self.cached if tp not in now]
            self.cached = now
        expected = {tp: (se, off) for tp, (off, _le, _lfe, se, _mb) in self.cached.items()}
        return send, forget, expected, self.session_id, self.epoch

    def response(self, session_id: int) -> None:
        """Record a successful answer: the session the broker opened (0: none) and the next epoch."""
        if not self.enabled:
            return
        if self.is_full:
            self.session_id = session_id
            self.epoch = 1 if session_id else _INITIAL_EPOCH
            if not session_id:
                self.cached = {}
        else:
            self.epoch = self.epoch + 1 if self.epoch < 2**31 - 1 else 1


def topics_body(send: list[tuple[TopicPartition, int, int, int, int]]) -> list[dict[str, Any]]:
    topics: dict[str, list[dict[str, Any]]] = {}
    for tp, off, le, lfe, max_bytes in send:
        topics.setdefault(tp.topic, []).append({
            "partition": tp.partition, "current_leader_epoch": le, "fetch_offset": off,
            "last_fetched_epoch": lfe, "log_start_offset": -1, "partition_max_bytes": max_bytes})
    return [{"topic": t, "partitions": ps} for t, ps in topics.items()]


def forgotten_body(forget: list[TopicPartition]) -> list[dict[str, Any]]:
    topics: dict[str, list[int]] = {}
    for tp in forget:
        topics.setdefault(tp.topic, []).append(tp.partition)
    return [{"topic": t, "partitions": ps} for t, ps in topics.items()]
