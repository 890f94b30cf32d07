"""Subscription state: what the consumer reads, where it is in each partition, and the listener.

One :class:`SubscriptionState` per consumer. It holds the subscription (topics, a pattern, or a
manual assignment), the current assignment with a :class:`PartitionState` per partition, and the
user's :class:`ConsumerRebalanceListener`. The fetcher, the group coordinator and the public
consumer all read and write it; nothing here does I/O.

Offsets: ``position`` is the next offset to hand to the application (what a commit of
"everything consumed" commits); ``fetch_offset`` is where the fetcher continues, ahead of
``position`` when records are buffered. Every seek, reset or rewind gives the partition a new
``epoch``, so that fetch responses in flight and completed fetches buffered for the old position
are recognised and dropped instead of being delivered. The fetched data itself is not kept here:
the fetch buffer (``fetch_buffer.py``) owns it.
"""
from __future__ import annotations

import asyncio
import inspect
import itertools
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from kafkaio.errors import IllegalStateError
from kafkaio.structs import TopicPartition

if TYPE_CHECKING:
    from kafkaio.records import ConsumerRecord

# Offset reset strategies (auto_offset_reset) and the special ListOffsets timestamps.
EARLIEST = -2
LATEST = -1
BY_DURATION = -100  # KIP-1106: the first offset at or after now - auto_offset_reset_duration_ms
RESET_NAMES = {"earliest": EARLIEST, "latest": LATEST, "none": None, "by_duration": BY_DURATION}

# Fetch epochs are unique across every PartitionState and only grow: a state made for a partition
# assigned again never takes an epoch that data fetched for an earlier state still carries.
_epochs = itertools.count(1)


class ConsumerRebalanceListener:
    """Override the callbacks you need; each may be a plain or an ``async`` method.

    ``on_partitions_revoked`` runs before partitions are taken away (the consumer still owns them,
    so committing their offsets here is the way to avoid reprocessing). ``on_partitions_lost`` runs
    when they were already taken away (the member was fenced or timed out): committing is then
    impossible; by default it calls ``on_partitions_revoked``, as the Java client does.
    """

    def on_partitions_revoked(self, revoked: set[TopicPartition]) -> Any:
        return None

    def on_partitions_assigned(self, assigned: set[TopicPartition]) -> Any:
        return None

    def on_partitions_lost(self, lost: set[TopicPartition]) -> Any:
        return self.on_partitions_revoked(lost)


async def call_listener(fn: Any, partitions: set[TopicPartition]) -> None:
    """Call a listener callback, awaiting it when it is a coroutine."""
    result = fn(set(partitions))
    if inspect.isawaitable(result):
        await result


class PartitionState:
    """Per-partition consumer state. Plain attributes, read on the hot path."""

    __slots__ = ("tp", "position", "position_epoch", "fetch_offset", "fetch_epoch", "epoch", "paused", "reset_to",
                 "highwater", "last_stable_offset", "log_start_offset",
                 "preferred_replica", "preferred_until", "error", "revoking", "awaiting_listener")

    def __init__(self, tp: TopicPartition) -> None:
        self.tp = tp
        self.position: int | None = None       # next offset to give the application
        self.position_epoch: int = -1          # leader epoch of the last record given
        self.fetch_offset: int | None = None   # next offset to fetch (>= position)
        # KIP-320: leader epoch of the batch just before fetch_offset (-1: unknown), sent as the
        # fetch's last_fetched_epoch so that the leader can tell whether its log diverges from it
        self.fetch_epoch: int = -1
        self.epoch = next(_epochs)             # a new one with every seek / reset / rewind
        self.paused = False
        self.reset_to: int | None = None       # EARLIEST / LATEST when a reset is pending
        self.highwater: int | None = None
        self.last_stable_offset: int | None = None
        self.log_start_offset: int | None = None
        # KIP-392: the replica the leader told us to fetch from (client_rack), until this
        # time.monotonic(); None fetches from the leader
        self.preferred_replica: int | None = None
        self.preferred_until = 0.0
        self.error: BaseException | None = None  # raised to the application on its next read
        # Set while on_partitions_revoked runs: the partition is still ours (commits work) but no
        # more records are handed out, so what the listener commits is all that was consumed.
        self.revoking = False
        # Set from the moment a group assigns the partition until on_partitions_assigned returns:
        # nothing is fetched and no position is looked up in the background, so that a seek the
        # listener makes (e.g. to an offset stored outside Kafka) is where the first fetch starts.
        self.awaiting_listener = False

    def seek(self, offset: int, leader_epoch: int = -1) -> None:
        self.position = offset
        self.position_epoch = leader_epoch
        self.fetch_offset = offset
        self.fetch_epoch = leader_epoch
        self.reset_to = None
        self.error = None
        self.epoch = next(_epochs)

    def rewind(self) -> None:
        """Fetch again from the position: what was fetched beyond it, buffered or in flight, no
        longer counts."""
        self.fetch_offset = self.position
        self.fetch_epoch = self.position_epoch
        self.epoch = next(_epochs)

    def request_reset(self, strategy: int) -> None:
        self.position = None
        self.fetch_offset = None
        self.fetch_epoch = -1
        self.reset_to = strategy
        self.epoch = next(_epochs)

    @property
    def has_position(self) -> bool:
        return self.position is not None

    @property
    def fetchable(self) -> bool:
        return (not (self.paused or self.revoking or self.awaiting_listener) and self.fetch_offset is not None
                and self.error is None)

    def __repr__(self) -> str:
        return f"PartitionState({self.tp}, position={self.position}, fetch={self.fetch_offset}, paused={self.paused})"


@dataclass(frozen=True)
class SubscriptionPattern:
    """A regular expression (RE2/J syntax) the broker matches topic names against (KIP-848's
    ``SubscribedTopicRegex``, Java's ``SubscriptionPattern``); for ``group_protocol="consumer"``.
    A ``str`` or ``re.Pattern`` given to ``subscribe(pattern=...)`` is matched by the client."""

    pattern: str


class SubscriptionState:
    """The consumer's subscription and assignment. Not thread-safe; lives on one event loop."""

    NONE, TOPICS, PATTERN, MANUAL = range(4)

    def __init__(self, default_reset: str = "latest", reset_duration_ms: int | None = None) -> None:
        name = "by_duration" if default_reset.startswith("by_duration:") else default_reset
        if name not in RESET_NAMES or (name == "by_duration" and reset_duration_ms is None):
            raise IllegalStateError(f"auto_offset_reset must be earliest, latest, none or by_duration:<duration>, "
                                    f"not {default_reset!r}")
        self.default_reset = RESET_NAMES[name]
        self.default_reset_name = default_reset  # for messages
        self.reset_duration_ms = reset_duration_ms
        self.mode = self.NONE
        self.topics: set[str] = set()
        self.pattern: re.Pattern[str] | None = None
        self.regex: str | None = None   # a SubscriptionPattern's, matched by the broker
        self.listener: ConsumerRebalanceListener = ConsumerRebalanceListener()
        self.assignment: dict[TopicPartition, PartitionState] = {}
        # Set whenever subscription or assignment changes; the fetcher waits on it (and clears it).
        self.changed = asyncio.Event()
        # Bumped with every assignment change: commits made under an older one are suspect.
        self.assignment_id = 0
        # What the application's last read handed out (one record, or getmany's {tp: records}) and
        # it may still be processing; None once it asked for more. Auto commits that a background
        # rebalance makes stop in front of it (finished_offsets), as Java's, made inside poll(), do.
        self.in_progress: ConsumerRecord | dict[TopicPartition, list[ConsumerRecord]] | None = None

    # -- subscribing ------------------------------------------------------------------------------

    def subscribe(self, topics: Iterable[str] = (),
                  pattern: str | re.Pattern[str] | SubscriptionPattern | None = None,
                  listener: ConsumerRebalanceListener | None = None) -> None:
        if self.mode == self.MANUAL:
            raise IllegalStateError("subscribe() after assign(): call unsubscribe() first")
        topics = [topics] if isinstance(topics, str) else list(topics)
        if pattern is not None and topics:
            raise IllegalStateError("subscribe() takes topics or a pattern, not both")
        if pattern is None and not topics:
            raise IllegalStateError("subscribe() needs at least one topic or a pattern")
        self.regex = None
        if isinstance(pattern, SubscriptionPattern):
            self.pattern = None   # the broker matches it; the topics are those assigned
            self.regex = pattern.pattern
            self.topics = set()
            self.mode = self.PATTERN
        elif pattern is not None:
            self.pattern = re.compile(pattern) if isinstance(pattern, str) else pattern
            self.topics = set()
            self.mode = self.PATTERN
        else:
            for t in topics:
                if not isinstance(t, str) or not t:
                    raise IllegalStateError(f"invalid topic name {t!r}")
            self.pattern = None
            self.topics = set(topics)
            self.mode = self.TOPICS
        if listener is not None:
            self.listener = listener
        self.changed.set()

    def match_pattern(self, all_topics: Mapping[str, Any], exclude_internal: bool = True) -> bool:
        """Update the pattern's topic set from metadata (topic name -> its metadata, which says
        whether the topic is internal); True if it changed. As in Java, ``exclude_internal``
        (``exclude_internal_topics``) leaves out the broker's internal topics
        (``__consumer_offsets``, ``__transaction_state``), not every name starting with ``__``."""
        if self.pattern is None:
            return False
        matched = {t for t, info in all_topics.items() if self.pattern.fullmatch(t)
                   and not (exclude_internal and info.is_internal)}
        if matched != self.topics:
            self.topics = matched
            self.changed.set()
            return True
        return False

    def assign_manually(self, partitions: Iterable[TopicPartition]) -> None:
        if self.mode in (self.TOPICS, self.PATTERN):
            raise IllegalStateError("assign() while subscribed: call unsubscribe() first")
        parts = [TopicPartition(*tp) for tp in partitions]
        self.mode = self.MANUAL if parts else self.NONE
        self.topics = {tp.topic for tp in parts}
        self.set_assignment(parts)

    def unsubscribe(self) -> None:
        self.mode = self.NONE
        self.topics = set()
        self.pattern = None
        self.regex = None
        self.set_assignment([])

    @property
    def uses_group(self) -> bool:
        return self.mode in (self.TOPICS, self.PATTERN)

    # -- assignment -------------------------------------------------------------------------------

    def set_assignment(self, partitions: Iterable[TopicPartition]) -> None:
        """Replace the assignment, keeping the state of partitions that stay."""
        new = {}
        for tp in partitions:
            new[tp] = self.assignment.get(tp) or PartitionState(tp)
        gone = set()
        for tp, st in self.assignment.items():
            if tp not in new:
                st.revoking = True   # detached: nothing more is handed out from it
                gone.add(tp)
        if gone and self.in_progress is not None:
            self._forget_in_progress(self.in_progress, gone)
        self.assignment = new
        self.assignment_id += 1
        self.changed.set()

    def _forget_in_progress(self, held: ConsumerRecord | dict[TopicPartition, list[ConsumerRecord]],
                            gone: set[TopicPartition]) -> None:
        """Records in progress of partitions leaving the assignment no longer hold back commits:
        if the partition comes back, its position comes from the group's commits, and a record
        of the earlier assignment would rewind them."""
        if isinstance(held, dict):
            self.in_progress = {tp: recs for tp, recs in held.items() if tp not in gone} or None
        elif TopicPartition(held.topic, held.partition) in gone:
            self.in_progress = None

    def add_partitions(self, partitions: Iterable[TopicPartition]) -> None:
        self.set_assignment([*self.assignment, *partitions])

    def await_listener(self, partitions: Iterable[TopicPartition]) -> None:
        """Hold back fetching and background position lookups of the assigned ``partitions``
        until :meth:`listener_done`: on_partitions_assigned runs first."""
        for tp in partitions:
            st = self.assignment.get(tp)
            if st is not None:
                st.awaiting_listener = True

    def listener_done(self, partitions: Iterable[TopicPartition]) -> None:
        """on_partitions_assigned returned (or raised): the ``partitions`` still assigned are
        looked up and fetched from here on."""
        for tp in partitions:
            st = self.assignment.get(tp)
            if st is not None:
                st.awaiting_listener = False
        self.changed.set()

    def remove_partitions(self, partitions: Iterable[TopicPartition]) -> None:
        gone = set(partitions)
        self.set_assignment([tp for tp in self.assignment if tp not in gone])

    def state(self, tp: TopicPartition) -> PartitionState:
        st = self.assignment.get(tp)
        if st is None:
            raise IllegalStateError(f"{tp} is not assigned to this consumer")
        return st

    def assigned(self) -> set[TopicPartition]:
        return set(self.assignment)

    def needing_position(self, asked: bool = False) -> list[TopicPartition]:
        """Assigned partitions with neither a position nor a pending reset (look up the commit);
        those awaiting on_partitions_assigned only when the application ``asked`` (position())."""
        return [tp for tp, st in self.assignment.items()
                if st.position is None and st.reset_to is None and (asked or not st.awaiting_listener)]

    def needing_reset(self, asked: bool = False) -> list[PartitionState]:
        """Assigned partitions with a pending reset, with the same rule as :meth:`needing_position`."""
        return [st for st in self.assignment.values()
                if st.reset_to is not None and (asked or not st.awaiting_listener)]

    def consumed_offsets(self) -> dict[TopicPartition, tuple[int, int]]:
        """{tp: (position, leader epoch)} for partitions with a position: what "commit all" commits."""
        return {tp: (st.position, st.position_epoch) for tp, st in self.assignment.items()
                if st.position is not None}

    def finished_offsets(self) -> dict[TopicPartition, tuple[int, int]]:
        """As :meth:`consumed_offsets`, but in front of the records the application was last
        handed and may still be processing (``in_progress``): what the application is done with."""
        out = self.consumed_offsets()
        held = self.in_progress
        if held is None:
            return out
        firsts = ({tp: recs[0] for tp, recs in held.items() if recs} if isinstance(held, dict)
                  else {TopicPartition(held.topic, held.partition): held})
        for tp, rec in firsts.items():
            current = out.get(tp)
            if current is not None and rec.offset < current[0]:
                out[tp] = (rec.offset, rec.leader_epoch)
        return out
