"""The checker's rules, each shown to fail on a hand-made history that breaks it (and to pass on
one that keeps it). No broker: histories and read-backs are written out by hand."""
from __future__ import annotations

from typing import Any

import pytest

from kafkaio.testing.chaos.checker import (
    CommitRecord,
    LogRecord,
    check_group,
    check_producer,
    check_readers_agree,
)
from kafkaio.testing.chaos.history import History
from kafkaio.testing.chaos.runner import CI_SEEDS
from kafkaio.testing.chaos.schedule import ASSIGNORS, FAULT_KINDS, MIXED, Schedule, assignment_strategy, generate

T = "t"


def send(h: History, seq: int, outcome: str, partition: int | None = 0, offset: int = -1, proc: str = "p0") -> None:
    data: dict[str, Any] = {"topic": T, "key": None, "value": f"{proc}:{seq}", "seq": seq}
    if outcome == "ok":
        data.update(partition=partition, offset=offset)
    else:
        data["error"] = "KafkaTimeoutError"
    h.append(proc, "send", outcome, **data)


def rec(partition: int, offset: int, value: str) -> LogRecord:
    return LogRecord(T, partition, offset, None, value)


def rules(violations: list) -> list[str]:
    return sorted(v.rule for v in violations)


def test_a_clean_producer_history_passes() -> None:
    h = History()
    send(h, 0, "ok", 0, 0)
    send(h, 1, "ok", 0, 1)
    send(h, 2, "unknown")
    send(h, 3, "failed")
    assert check_producer(h.entries, [rec(0, 0, "p0:0"), rec(0, 1, "p0:1"), rec(0, 2, "p0:2")]) == []


def test_acknowledged_but_absent_is_lost() -> None:
    h = History()
    h.append("injector", "fault", "info", kind="drop_request", api_key=0)
    send(h, 0, "ok", 0, -1)   # the silent loss: reported delivered, offset unknown
    send(h, 1, "ok", 0, 0)
    [v] = check_producer(h.entries, [rec(0, 0, "p0:1")])
    assert v.rule == "acked-lost"
    # the excerpt names the fault and the later batch that was accepted
    assert [e["op"] for e in v.excerpt] == ["fault", "send", "send"]


def test_acknowledged_twice_is_duplicated() -> None:
    h = History()
    send(h, 0, "ok", 0, 0)
    assert rules(check_producer(h.entries, [rec(0, 0, "p0:0"), rec(0, 1, "p0:0")])) == ["acked-duplicated", "reordered"]


def test_acknowledged_at_another_offset_is_misplaced() -> None:
    h = History()
    send(h, 0, "ok", 0, 5)
    assert rules(check_producer(h.entries, [rec(0, 0, "p0:0")])) == ["acked-misplaced"]


def test_failed_but_written() -> None:
    h = History()
    send(h, 0, "failed")
    assert rules(check_producer(h.entries, [rec(0, 0, "p0:0")])) == ["failed-written"]


def test_unknown_may_be_absent_or_once_but_not_twice() -> None:
    h = History()
    send(h, 0, "unknown")
    assert check_producer(h.entries, []) == []
    assert check_producer(h.entries, [rec(1, 0, "p0:0")]) == []
    assert "unknown-duplicated" in rules(check_producer(h.entries, [rec(1, 0, "p0:0"), rec(1, 1, "p0:0")]))


def test_out_of_order_within_a_partition() -> None:
    h = History()
    send(h, 0, "ok", 0, 1)
    send(h, 1, "ok", 0, 0)
    assert rules(check_producer(h.entries, [rec(0, 0, "p0:1"), rec(0, 1, "p0:0")])) == ["reordered"]


def test_order_is_per_producer_and_partition() -> None:
    h = History()
    send(h, 0, "ok", 0, 1, proc="a")
    send(h, 0, "ok", 0, 0, proc="b")
    send(h, 1, "ok", 1, 0, proc="a")
    assert check_producer(h.entries, [rec(0, 0, "b:0"), rec(0, 1, "a:0"), rec(1, 0, "a:1")]) == []


def test_a_record_nobody_sent() -> None:
    assert rules(check_producer([], [rec(0, 0, "x")])) == ["foreign-record"]


# --------------------------------------------------------------------------- group

G = "g"


def poll(h: History, proc: str, gen: int, offsets: list[int], partition: int = 0, gen_after: int | None = None) -> None:
    h.append(proc, "poll", "ok", t0=h.now(), topic=T, partition=partition, offsets=offsets,
             gen_before=gen, gen_after=gen if gen_after is None else gen_after)


def commit(h: History, proc: str, gen: int, offset: int, outcome: str = "ok", partition: int = 0) -> None:
    h.append(proc, "commit", outcome, t0=h.now(), gen=gen, offsets={f"{T}:{partition}": offset})


def topic_log(n: int, partition: int = 0) -> list[LogRecord]:
    return [rec(partition, i, f"v{i}") for i in range(n)]


def stored(*offsets: int, partition: int = 0) -> list[CommitRecord]:
    return [CommitRecord(G, T, partition, o, (0, i)) for i, o in enumerate(offsets)]


def test_a_clean_group_history_passes() -> None:
    h = History()
    poll(h, "m1", 1, [0, 1, 2])
    commit(h, "m1", 1, 3)
    poll(h, "m1", 1, [3, 4])   # gen 1 -> 2: m2 takes over from the commit, nothing twice
    poll(h, "m2", 2, [3, 4, 5])   # m1's records 3-4 were never committed: handing them again is fine
    commit(h, "m2", 2, 6)
    assert check_group(h.entries, topic_log(8), stored(3, 6), G) == []


def test_commit_moving_backwards_is_rewound() -> None:
    h = History()
    poll(h, "m1", 1, [0, 1, 2])
    commit(h, "m1", 1, 3, outcome="unknown")   # its answer was lost; retried after the rebalance
    poll(h, "m2", 2, [0, 1, 2, 3, 4, 5])
    commit(h, "m2", 2, 6)
    [v] = check_group(h.entries, topic_log(8), stored(6, 3), G)
    assert v.rule == "commit-rewound"
    assert "from 6 to 3" in v.message and {e["proc"] for e in v.excerpt} == {"m1", "m2"}


def test_same_record_to_two_members_in_one_generation() -> None:
    h = History()
    poll(h, "m1", 4, [0, 1])
    poll(h, "m2", 4, [1, 2])
    assert "double-assignment" in rules(check_group(h.entries, topic_log(3), [], G))


def test_a_poll_spanning_a_rebalance_is_not_blamed_on_either_generation() -> None:
    h = History()
    poll(h, "m1", 4, [0, 1], gen_after=5)
    poll(h, "m2", 5, [0, 1])
    assert check_group(h.entries, topic_log(3), [], G) == []


def assigned(h: History, proc: str, gen: int, partition: int = 0) -> None:
    h.append(proc, "assigned", "info", gen=gen, partitions=[f"{T}:{partition}"])


def test_handed_out_again_after_a_successful_commit() -> None:
    h = History()
    assigned(h, "m1", 1)
    poll(h, "m1", 1, [0, 1, 2])
    commit(h, "m1", 1, 3)
    assigned(h, "m2", 2)
    poll(h, "m2", 2, [2, 3])
    assert rules(check_group(h.entries, topic_log(4), stored(3), G)) == ["redelivered-after-commit"]


def test_a_commit_answered_after_the_assignment_began_does_not_move_the_position() -> None:
    h = History()
    assigned(h, "m1", 4)
    poll(h, "m1", 4, [188, 189, 190])
    assigned(h, "m1", 5)   # a rebalance: m1 keeps the partition, its position is the committed 188
    commit(h, "m1", 5, 191)   # the records of generation 4, committed now
    poll(h, "m1", 5, [188, 189, 190, 191])   # as the Java client would hand them out again
    log = [rec(0, i, f"v{i}") for i in range(188, 192)]
    assert check_group(h.entries, log, stored(188, 191), G) == []


def test_a_hole_within_one_generation() -> None:
    h = History()
    poll(h, "m1", 1, [0, 1])
    poll(h, "m1", 1, [3, 4])
    assert rules(check_group(h.entries, topic_log(5), [], G)) == ["gap"]


def test_a_hole_inside_one_poll() -> None:
    h = History()
    poll(h, "m1", 1, [0, 2])
    assert rules(check_group(h.entries, topic_log(3), [], G)) == ["gap"]


def test_offsets_holes_in_the_log_are_not_gaps() -> None:
    h = History()
    poll(h, "m1", 1, [0, 5])   # offsets 1-4 are not records (a transaction marker, compaction)
    assert check_group(h.entries, [rec(0, 0, "a"), rec(0, 5, "b")], [], G) == []


def test_committed_past_records_nobody_got_is_skipped() -> None:
    h = History()
    poll(h, "m1", 1, [0, 1])
    commit(h, "m1", 1, 4)
    assert rules(check_group(h.entries, topic_log(5), stored(4), G)) == ["skipped"]


def processed(h: History, proc: str, offsets: list[int], partition: int = 0) -> None:
    h.append(proc, "processed", "ok", topic=T, partition=partition, offsets=offsets)


def test_auto_committed_past_a_batch_its_member_died_processing_is_skipped() -> None:
    """An auto commit covering records handed out but never processed (the member was SIGKILLed
    mid-batch): the next owner starts after them, so nobody processes them."""
    h = History()
    poll(h, "m1", 1, [0, 1])
    processed(h, "m1", [0, 1])
    poll(h, "m1", 1, [2, 3])   # auto commit of 4 during a rebalance, then SIGKILL: no processed entry
    poll(h, "m2", 2, [4])
    processed(h, "m2", [4])
    assert rules(check_group(h.entries, topic_log(5), stored(2, 4, 5), G)) == ["skipped"]
    processed(h, "m1", [2, 3])   # had m1 finished them, nothing would be missing
    assert check_group(h.entries, topic_log(5), stored(2, 4, 5), G) == []


def test_an_older_commit_of_one_member_landing_after_its_newer_one_is_rewound() -> None:
    """What commit_async under coordinator errors showed at 729541e: one member, one generation,
    both commits ok, the older offsets stored last."""
    h = History()
    poll(h, "m1", 1, [0, 1, 2])
    commit(h, "m1", 1, 3)        # backs off in FindCoordinator, then lands
    poll(h, "m1", 1, [3, 4])
    commit(h, "m1", 1, 5)        # found the coordinator first
    [v] = check_group(h.entries, topic_log(5), stored(5, 3), G)
    assert v.rule == "commit-rewound" and "from 5 to 3" in v.message
    assert check_group(h.entries, topic_log(5), stored(3, 5), G) == []


def test_some_group_schedules_commit_async_under_coordinator_errors() -> None:
    """The fifth stream: a share of group schedules commit with commit_async and get
    coordinator_error events (and only those), leaving every other draw alone."""
    schedules = [generate(seed, "group", 25) for seed in range(60)]
    coordinated = [s for s in schedules if any(f.kind == "coordinator_error" for f in s.faults)]
    assert 0 < len(coordinated) < len(schedules)
    assert all(s.commit == "async" for s in coordinated)
    assert all(s.commit != "async" for s in schedules if s not in coordinated)
    for s in coordinated:
        others = tuple(f for f in s.faults if f.kind != "coordinator_error")
        assert others == generate(s.seed, "group", 25, kinds=set(FAULT_KINDS) - {"coordinator_error"}).faults
        assert [f.at for f in s.faults] == sorted(f.at for f in s.faults)
        assert all(f.count >= 1 and f.duration > 0 for f in s.faults if f.kind == "coordinator_error")
    assert "coordinator_error x2 for 0.75s" in generate(6, "group", 25).describe()
    # the CI mode keeps one such schedule
    assert ("group", 6, 25.0) in CI_SEEDS


def test_the_group_workloads_commit_mode_is_drawn_per_seed_and_kept() -> None:
    modes = {generate(seed, "group", 20).commit for seed in range(40)}
    assert modes == {"manual", "auto", "async"}
    s = generate(3, "group", 20)
    assert Schedule.from_json(s.to_json()).commit == s.commit and f"commit={s.commit}" in s.describe()
    assert generate(3, "producer", 20).commit is None


def test_some_group_schedules_are_halfway_through_a_rolling_upgrade_to_cooperative() -> None:
    assignors = {generate(seed, w, 20).assignor for seed in range(60) for w in ("group", "ctp")}
    assert assignors == {*ASSIGNORS, MIXED}
    # Even members offer both protocols, odd ones only range: the group can only agree on range,
    # until the last odd member leaves.
    assert assignment_strategy(MIXED, "member-0") == ["cooperative-sticky", "range"]
    assert assignment_strategy(MIXED, "ctp-3") == ["range"]
    assert assignment_strategy("roundrobin", "member-3") == ["roundrobin"]
    mixed = next(seed for seed in range(60) if generate(seed, "group", 20).assignor == MIXED)
    s = generate(mixed, "group", 20)
    assert Schedule.from_json(s.to_json()).assignor == MIXED and "assignor=mixed" in s.describe()


def test_other_groups_commits_are_ignored() -> None:
    other = [CommitRecord("other", T, 0, 9, (0, 0)), CommitRecord("other", T, 0, 1, (0, 1))]
    assert check_group([], topic_log(2), other, G) == []


def test_readers_disagreeing() -> None:
    a = [rec(0, 0, "x"), rec(0, 1, "y")]
    assert check_readers_agree("kafkaio", a, "java", list(a)) == []
    [v] = check_readers_agree("kafkaio", a, "java", a[:1])
    assert v.rule == "readers-disagree" and "only kafkaio" in v.message


def test_readers_agree_on_what_both_reached_when_the_log_grew_between_the_reads() -> None:
    """Three-broker soak, producer seed 439620433: a batch whose outcome the closed producer never
    learned became visible after the first read; the second reader, stopping at the first one's
    count, read it and stopped short of the first one's end of the other partition."""
    first = [rec(0, 0, "a"), rec(0, 1, "b"), rec(1, 0, "c")]
    later = [rec(0, 0, "a"), rec(1, 0, "c"), rec(1, 1, "late")]
    assert check_readers_agree("kafkaio", first, "java", later) == []
    # Inside what both reached, a difference is still one.
    [v] = check_readers_agree("kafkaio", first, "java", [rec(0, 0, "a"), rec(0, 1, "B"), rec(1, 0, "c")])
    assert v.rule == "readers-disagree"


# --------------------------------------------------------------------------- schedule and history


def test_schedule_is_a_function_of_the_seed_and_round_trips() -> None:
    a, b = generate(7, "group", 30), generate(7, "group", 30)
    assert a == b and a != generate(8, "group", 30)
    assert Schedule.from_json(a.to_json()) == a
    assert all(0 < f.at < 30 for f in a.faults)
    assert "seed=7" in a.describe()


def test_schedule_kinds_can_be_restricted() -> None:
    s = generate(1, "producer", 60, kinds={"delay", "cut"})
    assert {f.kind for f in s.faults} <= {"delay", "cut"}
    with pytest.raises(ValueError):
        generate(1, "producer", 10, kinds={"member_join"})


def test_history_round_trips_through_json_lines() -> None:
    h = History()
    send(h, 0, "ok", 0, 0)
    h.append("m1", "commit", "unknown", gen=3, offsets={"t:0": 5})
    again = History.from_jsonl(h.to_jsonl())
    assert again.entries == h.entries
    with pytest.raises(ValueError):
        h.append("x", "send", "maybe")


# --------------------------------------------------------------------------- transactions

from kafkaio.testing.chaos.checker import check_transactions  # noqa: E402


def txn(h: History, name: str, outcome: str, values: list[str], proc: str = "txn-0") -> None:
    for v in values:
        h.append(proc, "txn_send", "info", topic=T, key=None, value=v, seq=int(v.split(":")[1]), txn=name)
    h.append(proc, "txn", outcome, txn=name, records=len(values))


def test_clean_transactions_pass() -> None:
    h = History()
    txn(h, "a", "ok", ["txn-0:0", "txn-0:1"])
    txn(h, "b", "failed", ["txn-0:2"])
    txn(h, "c", "unknown", ["txn-0:3", "txn-0:4"])
    txn(h, "d", "unknown", ["txn-0:5"])
    log = [rec(0, 0, "txn-0:0"), rec(0, 1, "txn-0:1"), rec(0, 4, "txn-0:3"), rec(0, 5, "txn-0:4")]
    assert check_transactions(h.entries, log) == []


def test_a_committed_transaction_missing_a_record() -> None:
    h = History()
    txn(h, "a", "ok", ["txn-0:0", "txn-0:1"])
    assert rules(check_transactions(h.entries, [rec(0, 0, "txn-0:0")])) == ["txn-committed-incomplete"]


def test_an_aborted_transaction_visible() -> None:
    h = History()
    txn(h, "a", "failed", ["txn-0:0"])
    assert rules(check_transactions(h.entries, [rec(0, 0, "txn-0:0")])) == ["txn-aborted-visible"]


def test_an_unknown_transaction_visible_in_part() -> None:
    h = History()
    txn(h, "a", "unknown", ["txn-0:0", "txn-0:1"])
    assert rules(check_transactions(h.entries, [rec(0, 0, "txn-0:1")])) == ["txn-partial"]


def test_a_transaction_visible_twice() -> None:
    h = History()
    txn(h, "a", "ok", ["txn-0:0"])
    assert "txn-committed-incomplete" in rules(check_transactions(h.entries, [rec(0, 0, "txn-0:0"), rec(0, 3, "txn-0:0")]))


def test_a_one_broker_schedule_names_no_node_and_a_three_broker_one_does() -> None:
    one, three = generate(4, "group", 30), generate(4, "group", 30, brokers=3)
    assert {f.node for f in one.faults} == {0} and "@node" not in one.describe()
    assert {f.node for f in three.faults} <= {0, 1, 2} and "brokers=3" in three.describe()
    assert Schedule.from_json(three.to_json()) == three


# --------------------------------------------------------------------------- a paused member


def paused(h: History, proc: str) -> None:
    h.append(proc, "stopped", "info", signal="SIGSTOP", duration=8.0)


def resumed(h: History, proc: str) -> None:
    h.append("injector", "fault", "info", kind="member_resume", api_key=None, count=1, duration=8.0, applied=proc,
             describe=f"SIGCONT {proc} after 8.00s")


def test_a_member_fenced_while_paused_whose_commit_succeeds_after_it_wakes() -> None:
    h = History()
    assigned(h, "m1", 3)
    poll(h, "m1", 3, [0, 1, 2])
    paused(h, "m1")
    assigned(h, "m2", 4)   # the group moved on without the sleeper
    poll(h, "m2", 4, [0, 1, 2, 3])
    commit(h, "m2", 4, 4)
    resumed(h, "m1")
    commit(h, "m1", 3, 3)   # under its old generation: the coordinator must have refused it
    [v] = check_group(h.entries, topic_log(4), stored(4), G)
    assert v.rule == "fenced-commit-accepted" and "generation 3" in v.message
    assert [e["op"] for e in v.excerpt] == ["stopped", "assigned", "fault", "commit"]


def test_a_paused_member_whose_commit_fails_or_who_rejoined_first_is_fine() -> None:
    h = History()
    assigned(h, "m1", 3)
    poll(h, "m1", 3, [0, 1, 2])
    paused(h, "m1")
    assigned(h, "m2", 4)
    resumed(h, "m1")
    commit(h, "m1", 3, 3, outcome="unknown")   # refused (CommitFailedError): as it must be
    assigned(h, "m1", 5)   # it noticed, rejoined, and goes on in the new generation
    poll(h, "m1", 5, [3])
    commit(h, "m1", 5, 4)
    assert check_group(h.entries, topic_log(4), stored(4), G) == []


def test_a_pause_the_group_did_not_notice_fences_nothing() -> None:
    h = History()
    assigned(h, "m1", 3)
    poll(h, "m1", 3, [0, 1, 2])
    paused(h, "m1")
    resumed(h, "m1")   # shorter than the session: nobody was assigned anything meanwhile
    commit(h, "m1", 3, 3)
    assert check_group(h.entries, topic_log(3), stored(3), G) == []


# --------------------------------------------------------------------------- consume-transform-produce

from kafkaio.testing.chaos.checker import check_ctp  # noqa: E402

IN, OUT = "in", "out"


def inputs(n: int, partition: int = 0) -> list[LogRecord]:
    return [LogRecord(IN, partition, i, None, f"feeder:{i}") for i in range(n)]


def ctp_txn(h: History, name: str, outcome: str, offsets: list[int], first_seq: int, proc: str = "ctp-0",
            partition: int = 0) -> list[LogRecord]:
    """One processor transaction over input ``offsets`` of ``partition``; returns its output records
    (at made-up output offsets) for the test to put in the read-back or leave out."""
    out = []
    for k, off in enumerate(offsets):
        value = f"{proc}:{first_seq + k}|{partition}@{off}|feeder:{off}"   # as procs.output_value writes it
        h.append(proc, "txn_send", "info", topic=OUT, key=None, value=value, seq=first_seq + k, txn=name,
                 input_partition=partition, input_offset=off)
        out.append(LogRecord(OUT, partition, 100 * first_seq + k, None, value))
    extra: dict[str, Any] = {"offsets": {f"{IN}:{partition}": offsets[-1] + 1}, "gen": 1} if outcome == "ok" else {}
    h.append(proc, "txn", outcome, txn=name, records=len(offsets), **extra)
    return out


def offsets_stored(*offsets: int, partition: int = 0) -> list[CommitRecord]:
    return [CommitRecord(G, IN, partition, o, (0, i)) for i, o in enumerate(offsets)]


def test_a_clean_consume_transform_produce_history_passes() -> None:
    h = History()
    a = ctp_txn(h, "ctp-0-t0", "ok", [0, 1], 0)
    ctp_txn(h, "ctp-0-t1", "failed", [2, 3], 2)   # aborted: invisible, its inputs done again
    b = ctp_txn(h, "ctp-0-t2", "ok", [2, 3], 4)
    # input 4 was read but its transaction never committed: neither output nor offset
    assert check_ctp(h.entries, inputs(5), a + b, offsets_stored(2, 4), G) == []
    assert check_transactions(h.entries, a + b) == []


def test_an_input_below_the_committed_offset_without_output_is_lost() -> None:
    h = History()
    a = ctp_txn(h, "ctp-0-t0", "ok", [0, 1, 2], 0)
    v = check_ctp(h.entries, inputs(3), a[:1], offsets_stored(3), G)
    assert rules(v) == ["ctp-lost"] and "[1, 2]" in v[0].message
    assert v[0].excerpt and v[0].excerpt[-1]["op"] == "txn"


def test_an_input_with_two_outputs_visible_is_duplicated() -> None:
    h = History()
    a = ctp_txn(h, "ctp-0-t0", "ok", [0, 1], 0)
    # a zombie (paused past its session, its transaction not fenced) wrote input 1 again
    b = ctp_txn(h, "ctp-1-t0", "ok", [1], 0, proc="ctp-1")
    assert rules(check_ctp(h.entries, inputs(2), a + b, offsets_stored(2), G)) == ["ctp-duplicated"]


def test_a_transaction_done_twice_is_one_duplication_per_partition() -> None:
    h = History()
    # records handed out, the partition revoked and assigned again (its position back at the
    # committed 0) while the transaction was open: it commits, and the records come again
    a = ctp_txn(h, "ctp-0-t0", "ok", [0, 1, 2], 0)
    b = ctp_txn(h, "ctp-0-t1", "ok", [0, 1, 2], 3)
    [v] = check_ctp(h.entries, inputs(3), a + b, offsets_stored(3, 3), G)
    assert v.rule == "ctp-duplicated" and "3 input record(s)" in v.message and "[0, 1, 2]" in v.message
    assert {e["txn"] for e in v.excerpt} == {"ctp-0-t0", "ctp-0-t1"}


def test_output_visible_while_its_offsets_were_never_committed() -> None:
    h = History()
    a = ctp_txn(h, "ctp-0-t0", "ok", [0, 1], 0)
    b = ctp_txn(h, "ctp-0-t1", "ok", [2, 3], 2)
    # the second transaction's offsets did not make it into the transaction, its output did
    assert rules(check_ctp(h.entries, inputs(4), a + b, offsets_stored(2), G)) == ["ctp-offsets-behind"]


def test_aborted_output_visible_breaks_the_transaction_rule() -> None:
    h = History()
    a = ctp_txn(h, "ctp-0-t0", "failed", [0], 0)
    assert rules(check_transactions(h.entries, a)) == ["txn-aborted-visible"]
    assert rules(check_ctp(h.entries, inputs(1), a, [], G)) == ["ctp-offsets-behind"]


def test_a_rewound_transactional_offset_commit() -> None:
    h = History()
    a = ctp_txn(h, "ctp-0-t0", "ok", [0, 1], 0)
    b = ctp_txn(h, "ctp-0-t1", "ok", [2], 2)
    assert rules(check_ctp(h.entries, inputs(3), a + b, offsets_stored(2, 3, 2), G)) == [
        "commit-rewound", "ctp-offsets-behind"]


def test_other_groups_and_other_topics_offsets_are_ignored() -> None:
    h = History()
    a = ctp_txn(h, "ctp-0-t0", "ok", [0], 0)
    others = [CommitRecord("other", IN, 0, 0, (0, 0)), CommitRecord(G, "elsewhere", 0, 0, (0, 1))]
    assert check_ctp(h.entries, inputs(1), a, [*others, *offsets_stored(1)], G) == []


def test_group_schedules_draw_an_assignor_and_pauses_that_outlast_the_session() -> None:
    from kafkaio.testing.chaos.workloads import DEFAULT_CONSUMER

    schedules = [generate(seed, w, 25) for seed in range(1, 40) for w in ("group", "ctp")]
    assert {s.assignor for s in schedules} == {*ASSIGNORS, MIXED}
    assert generate(1, "producer", 25).assignor is None
    pauses = [f for s in schedules for f in s.faults if f.kind == "member_pause"]
    kills = [f for s in schedules for f in s.faults if f.kind == "member_kill"]
    assert pauses and kills and "member_crash" not in {f.kind for s in schedules for f in s.faults}
    assert min(f.duration for f in pauses) > DEFAULT_CONSUMER["session_timeout_ms"] / 1000
    again = generate(3, "group", 25)
    assert Schedule.from_json(again.to_json()) == again and f"assignor={again.assignor}" in again.describe()


def test_group_seeds_keep_the_faults_they_had_before_members_were_processes() -> None:
    # group seed 1 (a CI seed) as it was drawn before member_kill and member_pause existed; its
    # one member_crash (t=9.82s) is now a kill or a pause, everything else is as it was
    s = generate(1, "group", 25)
    assert [(f.at, f.kind) for f in s.faults[:4]] == [
        (0.595, "cut_after"), (0.814, "delay"), (0.907, "member_join"), (1.884, "drop_response")]
    assert [f.kind for f in s.faults if f.at == 9.823] in (["member_kill"], ["member_pause"])


def test_the_processor_s_output_values_name_their_input_as_the_checker_reads_them() -> None:
    from kafkaio.testing.chaos.checker import _input_of
    from kafkaio.testing.chaos.procs import output_value

    assert _input_of(output_value("ctp-3", 17, 2, 40, "feeder:9|odd")) == (2, 40)
    assert _input_of(output_value("ctp-3", 17, 2, 40, None)) == (2, 40)
    assert _input_of("feeder:9") is None and _input_of(None) is None
