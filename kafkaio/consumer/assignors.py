"""Partition assignors: range, roundrobin, sticky and cooperative-sticky.

The group leader runs one of them over every member's subscription. Names are the Java client's
(``partition.assignment.strategy`` accepts "range", "roundrobin", "sticky", "cooperative-sticky",
the Java class names, or assignor objects), so that mixed groups agree on a protocol.

Members are ordered as the Java client orders them: static members (group.instance.id) first by
instance id, then dynamic members by member id. That makes range and roundrobin produce the same
assignment as a Java leader would.

The sticky assignors are our own algorithm with Java's contract: the result is balanced (no member
could take a partition from another that has two or more partitions more than it), and as many
previously owned partitions as balance allows stay where they were. The cooperative variant
(KIP-429) then withholds every partition that changes owner from its new owner for this round, so
that the old owner revokes it first and a second rebalance hands it over: partitions that stay are
never revoked.
"""
from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from kafkaio.consumer.protocol import (
    Assignment,
    ConsumerProtocolError,
    Subscription,
    decode_sticky_user_data,
    encode_sticky_user_data,
)
from kafkaio.errors import ConfigError
from kafkaio.structs import TopicPartition


class RebalanceProtocol(enum.IntEnum):
    """EAGER revokes everything before every rebalance; COOPERATIVE only what moves (KIP-429)."""

    EAGER = 0
    COOPERATIVE = 1


class PartitionAssignor:
    """Base class. Subclass and override :meth:`assign` to write your own assignor.

    ``assign`` gets the partition count of every topic any member subscribes to, and each member's
    :class:`Subscription` keyed by member id; it returns an :class:`Assignment` per member id.
    """

    name: str = ""
    supported_protocols: tuple[RebalanceProtocol, ...] = (RebalanceProtocol.EAGER,)

    def subscription_user_data(self, topics: Iterable[str]) -> bytes | None:
        """Opaque bytes this member adds to its subscription (None for none)."""
        return None

    def assign(self, partitions_per_topic: Mapping[str, int],
               subscriptions: Mapping[str, Subscription]) -> dict[str, Assignment]:
        raise NotImplementedError

    def on_assignment(self, assignment: Assignment, generation: int) -> None:
        """Called on every member with what it got (sticky assignors remember it)."""

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r}>"


def member_order(subscriptions: Mapping[str, Subscription]) -> list[str]:
    """Member ids in the Java client's order: static members by instance id, then the others by id."""
    def key(member_id: str) -> tuple[int, str]:
        instance = subscriptions[member_id].group_instance_id
        return (0, instance) if instance else (1, member_id)
    return sorted(subscriptions, key=key)


def _empty_assignments(subscriptions: Mapping[str, Subscription]) -> dict[str, list[TopicPartition]]:
    return {m: [] for m in subscriptions}


class RangeAssignor(PartitionAssignor):
    """Per topic, consecutive ranges of partitions; the first members get one extra when uneven."""

    name = "range"

    def assign(self, partitions_per_topic: Mapping[str, int],
               subscriptions: Mapping[str, Subscription]) -> dict[str, Assignment]:
        out = _empty_assignments(subscriptions)
        order = member_order(subscriptions)
        for topic in sorted(partitions_per_topic):
            n = partitions_per_topic[topic]
            members = [m for m in order if topic in subscriptions[m].topics]
            if not members or n <= 0:
                continue
            per, extra = divmod(n, len(members))
            start = 0
            for i, m in enumerate(members):
                length = per + (1 if i < extra else 0)
                out[m].extend(TopicPartition(topic, p) for p in range(start, start + length))
                start += length
        return {m: Assignment(tps) for m, tps in out.items()}


class RoundRobinAssignor(PartitionAssignor):
    """All partitions sorted by topic and id, dealt in turn to the members subscribed to each."""

    name = "roundrobin"

    def assign(self, partitions_per_topic: Mapping[str, int],
               subscriptions: Mapping[str, Subscription]) -> dict[str, Assignment]:
        out = _empty_assignments(subscriptions)
        order = member_order(subscriptions)
        if not order:
            return {}
        subscribed = {m: set(subscriptions[m].topics) for m in order}
        i = 0
        for topic in sorted(partitions_per_topic):
            if not any(topic in subscribed[m] for m in order):
                continue
            for p in range(partitions_per_topic[topic]):
                while topic not in subscribed[order[i % len(order)]]:
                    i += 1
                out[order[i % len(order)]].append(TopicPartition(topic, p))
                i += 1
        return {m: Assignment(tps) for m, tps in out.items()}


# -- sticky ----------------------------------------------------------------------------------------

def sticky_assignment(partitions_per_topic: Mapping[str, int],
                      owned: Mapping[str, tuple[Sequence[TopicPartition], int]],
                      subscriptions: Mapping[str, Subscription]) -> dict[str, list[TopicPartition]]:
    """A balanced assignment that keeps as much of the previous ownership as balance allows.

    ``owned`` maps member id -> (partitions it claims to own, the generation of that claim).
    When two members claim one partition, the higher generation wins; a tie in the same
    generation means neither claim can be trusted and the partition is treated as unowned.
    """
    order = member_order(subscriptions)
    rank = {m: i for i, m in enumerate(order)}
    all_partitions = [TopicPartition(t, p) for t in sorted(partitions_per_topic)
                      for p in range(partitions_per_topic[t]) if any(
                          t in subscriptions[m].topics for m in order)]
    valid = set(all_partitions)
    eligible: dict[TopicPartition, list[str]] = {
        tp: [m for m in order if tp.topic in subscriptions[m].topics] for tp in all_partitions
    }

    claimants = resolve_ownership(owned, subscriptions, valid)
    current: dict[str, list[TopicPartition]] = {m: [] for m in order}
    for tp in all_partitions:
        holders = claimants.get(tp)
        if holders is not None and len(holders) == 1:
            current[next(iter(holders))].append(tp)

    same_subscriptions = len({frozenset(subscriptions[m].topics) for m in order}) <= 1
    if same_subscriptions and order:
        return _constrained(all_partitions, current, order)
    return _general(all_partitions, current, eligible, rank)


def resolve_ownership(owned: Mapping[str, tuple[Sequence[TopicPartition], int]],
                      subscriptions: Mapping[str, Subscription],
                      valid: set[TopicPartition] | None = None) -> dict[TopicPartition, set[str]]:
    """For each claimed partition, the members claiming it in the highest generation claimed.

    One claimant is a trusted owner; several (same generation) means nobody can be trusted.
    """
    best: dict[TopicPartition, tuple[int, set[str]]] = {}
    for m, (parts, generation) in owned.items():
        if m not in subscriptions:
            continue
        for tp in parts:
            if valid is not None and tp not in valid:
                continue
            if tp.topic not in subscriptions[m].topics:
                continue
            prev = best.get(tp)
            if prev is None or generation > prev[0]:
                best[tp] = (generation, {m})
            elif generation == prev[0]:
                prev[1].add(m)
    return {tp: holders for tp, (_, holders) in best.items()}


def _constrained(all_partitions: list[TopicPartition], current: dict[str, list[TopicPartition]],
                 order: list[str]) -> dict[str, list[TopicPartition]]:
    """Everyone subscribes to the same topics: exact quotas of floor(P/N) or ceil(P/N)."""
    n = len(order)
    min_quota, num_max = divmod(len(all_partitions), n)
    max_quota = min_quota + (1 if num_max else 0)
    result: dict[str, list[TopicPartition]] = {m: [] for m in order}
    unassigned: list[TopicPartition] = []
    # Members that own the most get the few ceil-sized slots first: that moves the fewest partitions.
    for m in sorted(order, key=lambda m: (-len(current[m]), order.index(m))):
        mine = current[m]
        keep = len(mine)
        if keep > min_quota:
            if num_max > 0 and max_quota > min_quota:
                keep = min(keep, max_quota)
                if keep == max_quota:
                    num_max -= 1
            else:
                keep = min_quota
        result[m] = mine[:keep]
        unassigned.extend(mine[keep:])
    owned_now = {tp for parts in result.values() for tp in parts}
    unassigned = sorted(set(unassigned) | {tp for tp in all_partitions if tp not in owned_now})
    it = iter(unassigned)
    for m in order:
        while len(result[m]) < min_quota:
            result[m].append(next(it))
    for m in order:
        if num_max <= 0:
            break
        if len(result[m]) == min_quota:
            tp = next(it, None)
            if tp is None:
                break
            result[m].append(tp)
            num_max -= 1
    leftover = list(it)
    assert not leftover, leftover
    return result


def _general(all_partitions: list[TopicPartition], current: dict[str, list[TopicPartition]],
             eligible: dict[TopicPartition, list[str]], rank: dict[str, int]) -> dict[str, list[TopicPartition]]:
    """Different subscriptions: greedy fill of the least loaded, then move until balanced."""
    result = {m: list(parts) for m, parts in current.items()}
    owner = {tp: m for m, parts in result.items() for tp in parts}
    # The most constrained partitions first, so that they find room.
    unowned = sorted((tp for tp in all_partitions if tp not in owner),
                     key=lambda tp: (len(eligible[tp]), tp))
    for tp in unowned:
        members = eligible[tp]
        if not members:
            continue
        m = min(members, key=lambda m: (len(result[m]), rank[m]))
        result[m].append(tp)
        owner[tp] = m
    # Each move lowers the sum of squared loads, so this terminates.
    moved = True
    while moved:
        moved = False
        for tp in all_partitions:
            src = owner.get(tp)
            if src is None:
                continue
            target = min(eligible[tp], key=lambda m: (len(result[m]), rank[m]))
            if len(result[target]) < len(result[src]) - 1:
                result[src].remove(tp)
                result[target].append(tp)
                owner[tp] = target
                moved = True
    for parts in result.values():
        parts.sort()
    return result


class StickyAssignor(PartitionAssignor):
    """Eager sticky assignor: balanced, keeps previous ownership (carried in the user data)."""

    name = "sticky"

    def __init__(self) -> None:
        self._previous: list[TopicPartition] = []
        self._generation = -1

    def subscription_user_data(self, topics: Iterable[str]) -> bytes | None:
        if not self._previous and self._generation < 0:
            return None
        return encode_sticky_user_data(self._previous, self._generation)

    def on_assignment(self, assignment: Assignment, generation: int) -> None:
        self._previous = list(assignment.partitions)
        self._generation = generation

    def _owned(self, sub: Subscription) -> tuple[Sequence[TopicPartition], int]:
        # Eager members revoke everything before joining, so ownership travels in the user data.
        if sub.user_data:
            try:
                return decode_sticky_user_data(sub.user_data)
            except ConsumerProtocolError:
                return (), -1
        return (), -1

    def assign(self, partitions_per_topic: Mapping[str, int],
               subscriptions: Mapping[str, Subscription]) -> dict[str, Assignment]:
        owned = {m: self._owned(s) for m, s in subscriptions.items()}
        result = sticky_assignment(partitions_per_topic, owned, subscriptions)
        return {m: Assignment(sorted(tps)) for m, tps in result.items()}


class CooperativeStickyAssignor(PartitionAssignor):
    """Sticky, with incremental cooperative rebalancing (KIP-429)."""

    name = "cooperative-sticky"
    supported_protocols = (RebalanceProtocol.COOPERATIVE, RebalanceProtocol.EAGER)

    def __init__(self) -> None:
        self._generation = -1

    def subscription_user_data(self, topics: Iterable[str]) -> bytes | None:
        # Java encodes the generation for members on subscription versions without GenerationId.
        return self._generation.to_bytes(4, "big", signed=True)

    def on_assignment(self, assignment: Assignment, generation: int) -> None:
        self._generation = generation

    @staticmethod
    def _owned(sub: Subscription) -> tuple[Sequence[TopicPartition], int]:
        if sub.generation_id >= 0:
            return sub.owned_partitions, sub.generation_id
        generation = -1
        if sub.user_data is not None and len(sub.user_data) >= 4:
            generation = int.from_bytes(sub.user_data[:4], "big", signed=True)
        return sub.owned_partitions, generation

    def assign(self, partitions_per_topic: Mapping[str, int],
               subscriptions: Mapping[str, Subscription]) -> dict[str, Assignment]:
        owned = {m: self._owned(s) for m, s in subscriptions.items()}
        result = sticky_assignment(partitions_per_topic, owned, subscriptions)
        claimants = resolve_ownership(owned, subscriptions)
        return {m: Assignment(sorted(tps)) for m, tps in withhold_transfers(result, claimants).items()}


def withhold_transfers(result: Mapping[str, list[TopicPartition]],
                       claimants: Mapping[TopicPartition, set[str]]) -> dict[str, list[TopicPartition]]:
    """KIP-429 first phase: a partition moving from one member to another is given to nobody yet.

    Its old owner sees it missing and revokes it; the follow-up rebalance assigns it to its new owner
    once nobody claims it.
    """
    return {m: [tp for tp in parts if not (claimants.get(tp, set()) - {m})] for m, parts in result.items()}


_BY_NAME: dict[str, type[PartitionAssignor]] = {
    "range": RangeAssignor,
    "roundrobin": RoundRobinAssignor,
    "sticky": StickyAssignor,
    "cooperative-sticky": CooperativeStickyAssignor,
}
_JAVA_CLASSES = {
    "org.apache.kafka.clients.consumer.RangeAssignor": "range",
    "org.apache.kafka.clients.consumer.RoundRobinAssignor": "roundrobin",
    "org.apache.kafka.clients.consumer.StickyAssignor": "sticky",
    "org.apache.kafka.clients.consumer.CooperativeStickyAssignor": "cooperative-sticky",
}


def resolve_assignors(strategy: Any) -> list[PartitionAssignor]:
    """Turn ``partition_assignment_strategy`` into assignor instances, in preference order.

    Accepts a name, a Java class name, a comma-separated string of them, an assignor instance or
    class, or a list of any of these.
    """
    if isinstance(strategy, str):
        items: list[Any] = [s.strip() for s in strategy.split(",") if s.strip()]
    elif isinstance(strategy, (list, tuple)):
        items = list(strategy)
    else:
        items = [strategy]
    out: list[PartitionAssignor] = []
    for item in items:
        if isinstance(item, PartitionAssignor):
            out.append(item)
        elif isinstance(item, type) and issubclass(item, PartitionAssignor):
            out.append(item())
        elif isinstance(item, str):
            name = _JAVA_CLASSES.get(item, item).lower()
            cls = _BY_NAME.get(name)
            if cls is None:
                raise ConfigError(
                    f"partition_assignment_strategy: unknown assignor {item!r}; "
                    f"known: {', '.join(_BY_NAME)} (or a PartitionAssignor)"
                )
            out.append(cls())
        else:
            raise ConfigError(f"partition_assignment_strategy: cannot use {item!r} as an assignor")
    if not out:
        raise ConfigError("partition_assignment_strategy must name at least one assignor")
    names = [a.name for a in out]
    if len(set(names)) != len(names):
        raise ConfigError(f"partition_assignment_strategy names an assignor twice: {names}")
    return out


def rebalance_protocol(assignors: Sequence[PartitionAssignor]) -> RebalanceProtocol:
    """COOPERATIVE only when every configured assignor supports it (as the Java client decides)."""
    common = set(RebalanceProtocol)
    for a in assignors:
        common &= set(a.supported_protocols)
    if not common:
        raise ConfigError("the configured assignors share no rebalance protocol")
    return max(common)
