"""Incremental fetch sessions (KIP-227), one per broker, from the client's side.

The first Fetch to a broker lists every partition with ``session_epoch=0``, asking the broker to
create a session; after that, a Fetch lists only partitions whose fetch position (or leader epoch)
changed or that are new, and names in ``forgotten_topics_data`` those we stopped fetching. The broker
keeps the rest cached and answers for them too when they have news. So a consumer of many quiet
partitions sends and receives little per round trip.

Topics are named by id (Fetch v13+, KIP-516) when the broker offers those versions and every
partition to fetch has a known topic id, as the Java client's ``FetchSessionHandler`` decides; else
by name. A session keeps the way it was opened: a request that would switch between ids and names
opens a new session instead (the broker refuses the switch with FETCH_SESSION_TOPIC_ID_ERROR). A
partition whose topic id changed (the topic was deleted and created again) is listed under its new
id and forgotten under its old one in the same request.

:meth:`FetchSession.build` returns a :class:`FetchPlan`: the request's partition lists plus
``expected``: for every partition the broker may answer about (the session's whole cache), the
(state epoch, fetch offset) it will answer for, which the fetcher uses to accept or drop each
partition's data, and ``topic_names`` to read an answer naming topics by id. Any session error, a lost
connection, or a broker that declines to cache makes the next request a full one, which closes the
old session on the broker.
"""
from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any, NamedTuple

from kafkaio.protocol.primitives import ZERO_UUID
from kafkaio.structs import TopicPartition

_INITIAL_EPOCH = 0
_NO_SESSION_EPOCH = -1

# (tp, topic_id, fetch_offset, leader_epoch, last_fetched_epoch, state_epoch, partition_max_bytes);
# topic_id is ZERO_UUID when the metadata has none
Wanted = tuple[TopicPartition, uuid.UUID, int, int, int, int, int]
# (tp, topic_id, fetch_offset, leader_epoch, last_fetched_epoch, partition_max_bytes)
ToSend = tuple[TopicPartition, uuid.UUID, int, int, int, int]


class FetchPlan(NamedTuple):
    """One Fetch request's contents, as the session decided them."""

    send: list[ToSend]
    # partitions to forget, with the topic id the broker knows them by
    forget: list[tuple[TopicPartition, uuid.UUID]]
    expected: dict[TopicPartition, tuple[int, int]]
    session_id: int
    session_epoch: int
    # name topics by id: the request must use Fetch v13+, and only then
    use_topic_ids: bool
    # the session's topics by id, for an answer that names them by id
    topic_names: dict[uuid.UUID, str]


class FetchSession:
    """The client's copy of one broker's session cache."""

    __slots__ = ("session_id", "epoch", "cached", "enabled", "uses_topic_ids", "_close_id")

    def __init__(self, enabled: bool = True) -> None:
        self.session_id = 0
        self.epoch = _INITIAL_EPOCH if enabled else _NO_SESSION_EPOCH
        # tp -> (topic_id, fetch_offset, leader_epoch, last_fetched_epoch, state_epoch,
        # partition_max_bytes) as the broker has it
        self.cached: dict[TopicPartition, tuple[uuid.UUID, int, int, int, int, int]] = {}
        self.enabled = enabled
        self.uses_topic_ids = False
        # a session to close with the next full request (Java's nextCloseExistingAttemptNew)
        self._close_id = 0

    def reset(self) -> None:
        """Forget the session: the next request is a full one that closes it and opens a new one."""
        if self.session_id:
            self._close_id = self.session_id
        self.session_id = 0
        self.epoch = _INITIAL_EPOCH if self.enabled else _NO_SESSION_EPOCH
        self.cached = {}

    @property
    def is_full(self) -> bool:
        return self.session_id == 0

    def build(self, wanted: Sequence[Wanted], ids_allowed: bool) -> FetchPlan:
        """The next request for every partition to fetch; ``ids_allowed``: the broker offers Fetch
        v13+."""
        wanted = list(wanted)
        use_ids = ids_allowed and all(w[1] != ZERO_UUID for w in wanted)
        if not self.is_full and use_ids != self.uses_topic_ids:
            self.reset()
        forget: list[tuple[TopicPartition, uuid.UUID]] = []
        if self.is_full:
            send = [(tp, tid, off, le, lfe, mb) for tp, tid, off, le, lfe, _se, mb in wanted]
            self.cached = {tp: (tid, off, le, lfe, se, mb) for tp, tid, off, le, lfe, se, mb in wanted}
            self.uses_topic_ids = use_ids
            session_id = self._close_id
        else:
            send = []
            now = {}
            for tp, tid, off, le, lfe, se, mb in wanted:
                state = now[tp] = (tid, off, le, lfe, se, mb)
                before = self.cached.get(tp)
                if before != state:
                    send.append((tp, tid, off, le, lfe, mb))
                    if before is not None and use_ids and before[0] != tid:
                        forget.append((tp, before[0]))   # the old topic of that name
            forget.extend((tp, v[0]) for tp, v in self.cached.items() if tp not in now)
            self.cached = now
            session_id = self.session_id
        expected = {tp: (se, off) for tp, (_tid, off, _le, _lfe, se, _mb) in self.cached.items()}
        names = {v[0]: tp.topic for tp, v in self.cached.items()} if use_ids else {}
        return FetchPlan(send, forget, expected, session_id, self.epoch, use_ids, names)

    def response(self, session_id: int) -> None:
        """Record a successful answer: the session the broker opened (0: none) and the next epoch."""
        if not self.enabled:
            return
        if self.is_full:
            self._close_id = 0
            self.session_id = session_id
            self.epoch = 1 if session_id else _INITIAL_EPOCH
            if not session_id:
                self.cached = {}
        else:
            self.epoch = self.epoch + 1 if self.epoch < 2**31 - 1 else 1


def topics_body(send: list[ToSend]) -> list[dict[str, Any]]:
    """The request's ``topics``, with both the name and the id (the version picks one)."""
    topics: dict[tuple[str, uuid.UUID], list[dict[str, Any]]] = {}
    for tp, tid, off, le, lfe, max_bytes in send:
        topics.setdefault((tp.topic, tid), []).append({
            "partition": tp.partition, "current_leader_epoch": le, "fetch_offset": off,
            "last_fetched_epoch": lfe, "log_start_offset": -1, "partition_max_bytes": max_bytes})
    return [{"topic": t, "topic_id": tid, "partitions": ps} for (t, tid), ps in topics.items()]


def forgotten_body(forget: list[tuple[TopicPartition, uuid.UUID]]) -> list[dict[str, Any]]:
    """The request's ``forgotten_topics_data``, with both the name and the id."""
    topics: dict[tuple[str, uuid.UUID], list[int]] = {}
    for tp, tid in forget:
        topics.setdefault((tp.topic, tid), []).append(tp.partition)
    return [{"topic": t, "topic_id": tid, "partitions": ps} for (t, tid), ps in topics.items()]
