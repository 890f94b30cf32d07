"""Assignors: balance, stickiness, Java-compatible ordering, cooperative two-phase revocation."""
from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kafkaio.consumer.assignors import (
    CooperativeStickyAssignor,
    RangeAssignor,
    RebalanceProtocol,
    RoundRobinAssignor,
    StickyAssignor,
    rebalance_protocol,
    resolve_assignors,
)
from kafkaio.consumer.protocol import Subscription, decode_subscription, encode_subscription
from kafkaio.structs import TopicPartition as TP
from kafkaio.errors import ConfigError


def tps(topic: str, *parts: int) -> list[TP]:
    return [TP(topic, p) for p in parts]


def flat(result) -> dict[str, list[TP]]:
    return {m: sorted(a.partitions) for m, a in result.items()}


def test_range_matches_java_layout() -> None:
    subs = {m: Subscription(["t0", "t1"]) for m in ("c0", "c1")}
    out = flat(RangeAssignor().assign({"t0": 3, "t1": 3}, subs))
    assert out == {"c0": tps("t0", 0, 1) + tps("t1", 0, 1), "c1": tps("t0", 2) + tps("t1", 2)}


def test_range_orders_static_members_first_by_instance_id() -> None:
    subs = {"a": Subscription(["t"]), "z": Subscription(["t"], group_instance_id="i1"),
            "y": Subscription(["t"], group_instance_id="i0")}
    out = flat(RangeAssignor().assign({"t": 3}, subs))
    assert out == {"y": tps("t", 0), "z": tps("t", 1), "a": tps("t", 2)}


def test_roundrobin_matches_java_layout() -> None:
    subs = {m: Subscription(["t0", "t1"]) for m in ("c0", "c1")}
    out = flat(RoundRobinAssignor().assign({"t0": 3, "t1": 3}, subs))
    assert out == {"c0": tps("t0", 0, 2) + tps("t1", 1), "c1": tps("t0", 1) + tps("t1", 0, 2)}


def test_roundrobin_skips_members_not_subscribed() -> None:
    subs = {"c0": Subscription(["t0"]), "c1": Subscription(["t0", "t1"]), "c2": Subscription(["t0", "t1", "t2"])}
    out = flat(RoundRobinAssignor().assign({"t0": 1, "t1": 2, "t2": 3}, subs))
    # Java's documented example for RoundRobinAssignor with unequal subscriptions
    assert out == {"c0": tps("t0", 0), "c1": tps("t1", 0), "c2": tps("t1", 1) + tps("t2", 0, 1, 2)}


def assert_balanced(out: dict[str, list[TP]], subs: dict[str, Subscription], counts: dict[str, int]) -> None:
    everything = [TP(t, p) for t, n in counts.items() for p in range(n)
                  if any(t in s.topics for s in subs.values())]
    assigned = [tp for parts in out.values() for tp in parts]
    assert sorted(assigned) == sorted(everything), "every partition exactly once"
    for m, parts in out.items():
        assert all(tp.topic in subs[m].topics for tp in parts)
    # Java's balance criterion: nobody could take a partition from someone with 2+ more.
    for m, parts in out.items():
        for other, other_parts in out.items():
            if len(other_parts) > len(parts) + 1:
                assert not any(tp.topic in subs[m].topics for tp in other_parts), (m, other)


def run_generation(assignor, counts, members, previous, generation):
    """One rebalance where each member reports what it owns (as our coordinator does)."""
    subs = {}
    for m, topics in members.items():
        prev = previous.get(m, [])
        a = assignor_for(assignor, m)
        subs[m] = Subscription(list(topics), a.subscription_user_data(topics), prev, generation if prev else -1)
        subs[m] = decode_subscription(encode_subscription(subs[m]))   # over the wire
    out = flat(assignor.assign(counts, subs))
    for m, parts in out.items():
        assignor_for(assignor, m).on_assignment(type("A", (), {"partitions": parts})(), generation + 1)
    return subs, out


_member_assignors: dict = {}


def assignor_for(leader, member):
    return _member_assignors.setdefault((id(leader), member), type(leader)())


@pytest.mark.parametrize("cls", [StickyAssignor, CooperativeStickyAssignor])
def test_sticky_balanced_and_sticky_when_a_member_leaves(cls) -> None:
    a = cls()
    counts = {"t": 12}
    members = {m: ["t"] for m in ("c1", "c2", "c3")}
    _, gen1 = run_generation(a, counts, members, {}, 1)
    assert_balanced(gen1, {m: Subscription(t) for m, t in members.items()}, counts)
    del members["c2"]
    prev = {m: gen1[m] for m in members}
    subs, gen2 = run_generation(a, counts, members, prev, 2)
    for m in members:
        assert set(gen1[m]) <= set(gen2[m]), "survivors keep everything they had"
    if cls is StickyAssignor:
        assert_balanced(gen2, subs, counts)


def test_cooperative_only_moving_partitions_are_revoked_then_handed_over() -> None:
    a = CooperativeStickyAssignor()
    counts = {"t": 12}
    members = {m: ["t"] for m in ("c1", "c2")}
    _, gen1 = run_generation(a, counts, members, {}, 1)
    assert [len(p) for p in gen1.values()] == [6, 6]
    members["c3"] = ["t"]
    # Phase 1: c1 and c2 keep what they keep, lose what moves; c3 gets nothing yet.
    _, gen2 = run_generation(a, counts, members, gen1, 2)
    assert gen2["c3"] == []
    for m in ("c1", "c2"):
        assert set(gen2[m]) <= set(gen1[m])
        assert len(gen2[m]) == 4
    # Phase 2 (the rejoin after revoking): the withheld partitions go to c3; nobody loses more.
    _, gen3 = run_generation(a, counts, members, gen2, 3)
    assert len(gen3["c3"]) == 4
    for m in ("c1", "c2"):
        assert set(gen3[m]) == set(gen2[m])
    assert_balanced(gen3, {m: Subscription(t) for m, t in members.items()}, counts)


def test_cooperative_stale_claim_does_not_revoke_the_real_owner() -> None:
    a = CooperativeStickyAssignor()
    subs = {"c1": Subscription(["t"], owned_partitions=tps("t", 0, 1), generation_id=5),
            "c2": Subscription(["t"], owned_partitions=tps("t", 0), generation_id=3)}  # stale claim
    out = flat(a.assign({"t": 2}, subs))
    assert TP("t", 0) in out["c1"]


def test_sticky_conflicting_claims_same_generation_are_reassigned_once() -> None:
    subs = {"c1": Subscription(["t"], owned_partitions=tps("t", 0), generation_id=4),
            "c2": Subscription(["t"], owned_partitions=tps("t", 0), generation_id=4)}
    out = flat(CooperativeStickyAssignor().assign({"t": 2}, subs))
    assert sorted(out["c1"] + out["c2"]) == [TP("t", 1)]   # t-0 is withheld until both revoke it


def test_deleted_topic_and_unsubscribed_owned_partitions_are_dropped() -> None:
    subs = {"c1": Subscription(["t"], owned_partitions=tps("gone", 0) + tps("t", 9), generation_id=2)}
    out = flat(CooperativeStickyAssignor().assign({"t": 2}, subs))
    assert out == {"c1": tps("t", 0, 1)}


def test_unequal_subscriptions_are_balanced() -> None:
    counts = {"t1": 3, "t2": 6}
    subs = {"c1": Subscription(["t1"]), "c2": Subscription(["t1", "t2"]), "c3": Subscription(["t2"])}
    out = flat(StickyAssignor().assign(counts, subs))
    assert_balanced(out, subs, counts)


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 6), st.lists(st.integers(0, 7), min_size=1, max_size=4), st.randoms())
def test_property_sticky_is_complete_and_balanced_across_generations(n_members, counts, rnd) -> None:
    topics = {f"t{i}": n for i, n in enumerate(counts)}
    a = StickyAssignor()
    members = {f"m{i}": sorted(rnd.sample(sorted(topics), rnd.randint(1, len(topics)))) for i in range(n_members)}
    previous: dict = {}
    for gen in range(1, 4):
        subs, out = run_generation(a, topics, members, previous, gen)
        assert_balanced(out, {m: Subscription(t) for m, t in members.items()}, topics)
        previous = out
        if rnd.random() < 0.5 and len(members) > 1:
            members.pop(rnd.choice(sorted(members)))
        else:
            members[f"n{gen}"] = sorted(topics)


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 6), st.integers(0, 30), st.randoms())
def test_property_cooperative_never_revokes_what_stays(n_members, n_parts, rnd) -> None:
    counts = {"t": n_parts}
    a = CooperativeStickyAssignor()
    members = {f"m{i}": ["t"] for i in range(n_members)}
    owned: dict = {}
    for gen in range(1, 6):
        _, out = run_generation(a, counts, members, owned, gen)
        # Nothing is given to a member while another member still owns it.
        for m, parts in out.items():
            for tp in parts:
                assert not any(tp in owned.get(o, []) for o in members if o != m)
        owned = {m: out.get(m, []) for m in members}
        if rnd.random() < 0.3 and len(members) > 1:
            members.pop(rnd.choice(sorted(members)))
        elif rnd.random() < 0.3:
            members[f"n{gen}"] = ["t"]
    # With no membership change, two more rounds converge to a complete, balanced assignment.
    for gen in range(6, 8):
        _, out = run_generation(a, counts, members, owned, gen)
        owned = out
    assert_balanced(owned, {m: Subscription(["t"]) for m in members}, counts)


def test_resolve_by_java_names_objects_and_lists() -> None:
    got = resolve_assignors("org.apache.kafka.clients.consumer.RangeAssignor, cooperative-sticky")
    assert [a.name for a in got] == ["range", "cooperative-sticky"]
    mine = RoundRobinAssignor()
    assert resolve_assignors([mine, StickyAssignor])[0] is mine
    with pytest.raises(ConfigError, match="unknown assignor"):
        resolve_assignors("fair")
    assert rebalance_protocol(resolve_assignors("cooperative-sticky")) == RebalanceProtocol.COOPERATIVE
    assert rebalance_protocol(resolve_assignors(["cooperative-sticky", "range"])) == RebalanceProtocol.EAGER
