"""The rules a run must keep, as pure functions over a history and what was read back afterwards.

Nothing here talks to a broker: the runner reads the topic (and ``__consumer_offsets``) back with
fresh clients and hands the records over as :class:`LogRecord` and :class:`CommitRecord`. Each rule
returns :class:`Violation` objects carrying the history entries that show it, so a report can print
the shortest excerpt that explains the failure.

Producer rules (``send`` entries):
  * ``acked-lost`` / ``acked-duplicated``: an acknowledged record is in the log exactly once;
  * ``acked-misplaced``: and at the partition and offset its acknowledgement named;
  * ``failed-written``: a record whose send failed for good is absent;
  * ``unknown-duplicated``: a record with an unknown outcome is there at most once;
  * ``reordered``: one producer's records of one partition are in the log in the order sent;
  * ``foreign-record``: the log holds nothing the workload did not send.
Group rules (``poll`` and ``commit`` entries):
  * ``commit-rewound``: a group's committed offset of a partition never moves backwards;
  * ``double-assignment``: no record is handed to two members in the same generation;
  * ``redelivered-after-commit``: no record is handed out again in an assignment that began after a
    commit covering it succeeded (``assigned`` entries say when assignments began);
  * ``gap``: within one generation a member gets a partition's records without holes or repeats;
  * ``skipped``: every record below the final committed offset was processed by some member (its
    ``processed`` entry logged after the processing; with auto commit, a commit that covers a
    batch still being processed, and a SIGKILL before it is done, make this fail);
  * ``fenced-commit-accepted``: a member SIGSTOPped while the group moved on to a newer generation
    (another member was assigned partitions in it) is fenced: a commit it makes after SIGCONT under
    its old generation must fail.
Transaction rules (``txn`` and ``txn_send`` entries, the log read ``read_committed``):
  * ``txn-committed-incomplete``: every record of a committed transaction is visible exactly once;
  * ``txn-aborted-visible``: no record of an aborted transaction is visible;
  * ``txn-partial``: a transaction with an unknown outcome is visible entirely or not at all;
  * ``reordered`` and ``foreign-record`` as for the producer.
Consume-transform-produce rules (``txn_send`` entries naming their input, the input topic read
whole, the output read ``read_committed``, the group's commits read ``read_committed`` from
``__consumer_offsets``), besides the transaction rules over the processors' transactions:
  * ``ctp-lost``: every input record below the group's final committed offset has its output;
  * ``ctp-duplicated``: no input record has more than one output visible;
  * ``ctp-offsets-behind``: no output is visible for an input record at or past the final committed
    offset (its offsets were committed in the same transaction, so they must have been);
  * ``commit-rewound`` as for the group.
Readers: ``readers-disagree``: two independent readers saw the same log.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "CommitRecord", "LogRecord", "Violation", "check_ctp", "check_group", "check_producer", "check_readers_agree",
    "check_transactions", "excerpt",
]

Entry = dict[str, Any]


@dataclass(frozen=True)
class LogRecord:
    """A record as a reader found it in the log."""

    topic: str
    partition: int
    offset: int
    key: str | None
    value: str | None


@dataclass(frozen=True)
class CommitRecord:
    """One offset commit as stored in ``__consumer_offsets``; ``position`` orders them (log order)."""

    group: str
    topic: str
    partition: int
    offset: int
    position: tuple[int, int]


@dataclass
class Violation:
    """A broken rule: which, what happened, and the history entries that show it."""

    rule: str
    message: str
    excerpt: list[Entry] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"rule": self.rule, "message": self.message, "excerpt": self.excerpt}


def excerpt(entries: Sequence[Entry], focus: Iterable[Entry], *, before: float = 3.0, after: float = 0.0,
            limit: int = 30) -> list[Entry]:
    """The ``focus`` entries plus the faults set from ``before`` seconds ahead of them until the last
    of them completed (``after``: later), in log order: the shortest story of a violation. (A drop
    rule can wait a while for its request, so the whole schedule is printed with it too.)"""
    focus = list(focus)
    if not focus:
        return []
    start = min(e["t0"] for e in focus) - before
    end = max(e["t"] for e in focus) + after
    chosen = {e["i"]: e for e in focus}
    for e in entries:
        if e["op"] == "fault" and start <= e["t"] <= end:
            chosen.setdefault(e["i"], e)
    picked = [chosen[i] for i in sorted(chosen)]
    if len(picked) > limit:  # keep every focus entry and the faults nearest to them
        keep = {e["i"] for e in focus}
        faults = [e for e in picked if e["i"] not in keep][-(limit - len(keep)):] if limit > len(keep) else []
        picked = sorted([*focus, *faults], key=lambda e: e["i"])
    return picked


# --------------------------------------------------------------------------- producer


def check_producer(entries: Sequence[Entry], log: Sequence[LogRecord]) -> list[Violation]:
    """The producer rules over ``send`` entries and every record read back from their topics."""
    sends = [e for e in entries if e["op"] == "send"]
    by_value: dict[str | None, list[LogRecord]] = defaultdict(list)
    for rec in log:
        by_value[rec.value].append(rec)
    out: list[Violation] = []
    sent_values = set()
    lost: dict[tuple[str, str, Any], list[Entry]] = defaultdict(list)
    for e in sends:
        value = e["value"]
        sent_values.add(value)
        found = by_value.get(value, [])
        where = ", ".join(f"{r.topic}-{r.partition}@{r.offset}" for r in found) or "nowhere"
        if e["outcome"] == "ok":
            if not found:
                lost[(e["proc"], e["topic"], e.get("partition"))].append(e)
            elif len(found) > 1:
                out.append(Violation("acked-duplicated", f"{value!r} was acknowledged once and is in the log "
                                     f"{len(found)} times: {where}", excerpt(entries, [e])))
            else:
                rec = found[0]
                if rec.partition != e.get("partition") or (e.get("offset", -1) >= 0 and rec.offset != e["offset"]):
                    out.append(Violation("acked-misplaced", f"{value!r} was acknowledged at {e['topic']}-"
                                         f"{e.get('partition')}@{e.get('offset')} but is at {where}",
                                         excerpt(entries, [e])))
        elif e["outcome"] == "failed" and found:
            out.append(Violation("failed-written", f"{value!r} failed ({e.get('error')}) but is in the log at {where}",
                                 excerpt(entries, [e])))
        elif e["outcome"] == "unknown" and len(found) > 1:
            out.append(Violation("unknown-duplicated", f"{value!r} (outcome unknown) is in the log {len(found)} "
                                 f"times: {where}", excerpt(entries, [e])))
    # One violation per producer and partition: a lost batch loses all its records at once.
    for (proc, topic, partition), es in lost.items():
        first = min(es, key=lambda e: e["seq"])
        seqs = sorted(e["seq"] for e in es)
        out.append(Violation("acked-lost", f"{len(es)} record(s) of {proc} acknowledged on {topic}-{partition} "
                             f"are not in the log (sent as #{seqs[0]}..#{seqs[-1]}); the first, {first['value']!r}, "
                             f"was acknowledged at offset {first.get('offset')}",
                             excerpt(entries, [first, *_neighbours(sends, first, lost_too=es)])))
    send_of = {e["value"]: e for e in sends}
    for rec in log:
        if rec.value not in sent_values:
            out.append(Violation("foreign-record", f"{rec.topic}-{rec.partition}@{rec.offset} holds {rec.value!r}, "
                                 "which no workload sent"))
    out.extend(_check_order(entries, log, send_of))
    return out


def _neighbours(sends: Sequence[Entry], e: Entry, lost_too: Sequence[Entry] = ()) -> list[Entry]:
    """The same producer's sends just before and after ``e`` to the same partition, other than the
    ``lost_too`` ones: a lost batch is usually explained by what happened to the next one."""
    skip = {x["i"] for x in lost_too} | {e["i"]}
    same = [s for s in sends if s["proc"] == e["proc"] and s.get("partition") == e.get("partition")
            and s["topic"] == e["topic"] and s["i"] not in skip]
    before = [s for s in same if s["seq"] < e["seq"]][-2:]
    after = [s for s in same if s["seq"] > e["seq"]][:2]
    return [*before, *after]


def _check_order(entries: Sequence[Entry], log: Sequence[LogRecord], send_of: dict[str | None, Entry]) -> list[Violation]:
    out = []
    last: dict[tuple[str, int, str], tuple[LogRecord, Entry]] = {}
    for rec in sorted(log, key=lambda r: (r.topic, r.partition, r.offset)):
        e = send_of.get(rec.value)
        if e is None:
            continue
        k = (rec.topic, rec.partition, e["proc"])
        prev = last.get(k)
        if prev is not None and e["seq"] <= prev[1]["seq"]:
            what = "again" if e["seq"] == prev[1]["seq"] else f"after {prev[1]['value']!r} (offset {prev[0].offset})"
            out.append(Violation("reordered", f"{rec.value!r} sent as #{e['seq']} is at {rec.topic}-{rec.partition}"
                                 f"@{rec.offset}, {what}", excerpt(entries, [prev[1], e])))
        last[k] = (rec, e)
    return out


# --------------------------------------------------------------------------- consumer group


def _tp(e: Entry) -> tuple[str, int]:
    return e["topic"], e["partition"]


def check_group(entries: Sequence[Entry], log: Sequence[LogRecord], commits: Sequence[CommitRecord],
                group: str) -> list[Violation]:
    """The group rules over ``poll``/``commit`` entries, the topic read back and the group's commits
    as stored in ``__consumer_offsets``."""
    polls = [e for e in entries if e["op"] == "poll"]
    history_commits = [e for e in entries if e["op"] == "commit"]
    ours = sorted((c for c in commits if c.group == group), key=lambda c: c.position)
    out: list[Violation] = []
    out.extend(_rewinds(entries, history_commits, ours))
    out.extend(_double_assignment(entries, polls))
    out.extend(_redelivered(entries, polls, history_commits))
    out.extend(_gaps(entries, polls, log))
    out.extend(_skipped(entries, polls, log, ours))
    out.extend(_fenced_commits(entries, history_commits))
    return out


def _fenced_commits(entries: Sequence[Entry], history_commits: Sequence[Entry]) -> list[Violation]:
    """Commits that succeeded under a generation the group had left while the member was paused.

    A pause is the member's ``stopped`` entry (SIGSTOP) and the injector's ``member_resume`` fault
    (SIGCONT). If another member logged an assignment of a newer generation in between, the
    coordinator had moved on without the sleeper; a commit it invoked after waking and logged
    under its old generation must not return ok (the coordinator refuses a stale generation, and
    the client must not send the offsets it took under it in a newer one either)."""
    out = []
    resumes = [e for e in entries if e["op"] == "fault" and e.get("kind") == "member_resume"]
    for stop in (e for e in entries if e["op"] == "stopped"):
        me = stop["proc"]
        woke = next((r for r in resumes if r.get("applied") == me and r["t"] >= stop["t"]), None)
        if woke is None:
            continue
        moved_on = [a for a in entries if a["op"] == "assigned" and a["proc"] != me
                    and stop["t"] <= a["t"] <= woke["t"]]
        if not moved_on:
            continue
        newest = max(moved_on, key=lambda a: a["gen"])
        for c in history_commits:
            if (c["proc"] == me and c["outcome"] == "ok" and c["t0"] >= woke["t"]
                    and c.get("gen", -1) < newest["gen"]):
                out.append(Violation("fenced-commit-accepted", f"{me} was SIGSTOPped at t={stop['t']:.2f}s while "
                                     f"{newest['proc']} was assigned in generation {newest['gen']}; woken at "
                                     f"t={woke['t']:.2f}s, it committed {c['offsets']} under generation "
                                     f"{c.get('gen')} and the commit returned ok",
                                     excerpt(entries, [stop, newest, woke, c])))
                break  # one per pause
    return out


def _commits_of(history_commits: Sequence[Entry], tp: tuple[str, int], offset: int) -> list[Entry]:
    key = f"{tp[0]}:{tp[1]}"
    return [e for e in history_commits if e["offsets"].get(key) == offset]


def _rewinds(entries: Sequence[Entry], history_commits: Sequence[Entry], ours: Sequence[CommitRecord]) -> list[Violation]:
    out = []
    latest: dict[tuple[str, int], CommitRecord] = {}
    for c in ours:
        tp = (c.topic, c.partition)
        prev = latest.get(tp)
        if prev is not None and c.offset < prev.offset:
            # The entries that sent the older offset again and the newer one it overwrote.
            focus = [*_commits_of(history_commits, tp, prev.offset)[-1:], *_commits_of(history_commits, tp, c.offset)]
            who = ", ".join(f"{e['proc']} gen {e.get('gen')} ({e['outcome']})" for e in focus) or "no history entry"
            out.append(Violation("commit-rewound", f"{c.topic}-{c.partition}: committed offset moved back from "
                                 f"{prev.offset} to {c.offset} (commits by {who})",
                                 excerpt(entries, focus)))
        latest[tp] = c
    return out


def _double_assignment(entries: Sequence[Entry], polls: Sequence[Entry]) -> list[Violation]:
    out = []
    # by record: which members got it in the same generation
    got: dict[tuple[str, int, int, int], list[Entry]] = defaultdict(list)
    for e in polls:
        gen = e["gen_before"]
        if gen < 0 or gen != e["gen_after"]:
            continue
        for off in e["offsets"]:
            got[(e["topic"], e["partition"], off, gen)].append(e)
    reported: set[tuple[str, int, int]] = set()
    for (topic, partition, off, gen), es in sorted(got.items()):
        procs = sorted({x["proc"] for x in es})
        if len(procs) > 1 and (topic, partition, gen) not in reported:
            reported.add((topic, partition, gen))
            out.append(Violation("double-assignment", f"{topic}-{partition}@{off} was handed to {', '.join(procs)} "
                                 f"in the same generation {gen}", excerpt(entries, es[:4])))
    return out


def _redelivered(entries: Sequence[Entry], polls: Sequence[Entry], history_commits: Sequence[Entry]) -> list[Violation]:
    """A member's position in an assignment comes from the committed offset when the assignment
    began; so a record below an offset whose commit returned ok *before that* must not come back.
    (A commit that completes after the assignment began does not move the position: the Java
    client behaves the same, so that is no violation.)"""
    out = []
    reported: set[tuple[str, int]] = set()
    acked = [c for c in history_commits if c["outcome"] == "ok"]
    assigned = [e for e in entries if e["op"] == "assigned"]
    for p in polls:
        tp = _tp(p)
        if tp in reported or not p["offsets"]:
            continue
        key = f"{tp[0]}:{tp[1]}"
        # the assignment these records were handed out under: the member's latest one before they were
        starts = [a for a in assigned if a["proc"] == p["proc"] and key in a["partitions"] and a["t"] <= p["t"]]
        if not starts:
            continue
        since = starts[-1]["t"]
        before = [c for c in acked if c["t"] < since and key in c["offsets"]]
        if not before:
            continue
        best = max(before, key=lambda c: c["offsets"][key])
        first = min(p["offsets"])
        if first < best["offsets"][key]:
            reported.add(tp)
            out.append(Violation("redelivered-after-commit", f"{tp[0]}-{tp[1]}@{first} was handed to {p['proc']} "
                                 f"(gen {p['gen_after']}) in an assignment that began after {best['proc']} had "
                                 f"committed offset {best['offsets'][key]} (gen {best.get('gen')})",
                                 excerpt(entries, [best, starts[-1], p])))
    return out


def _next_offsets(log: Sequence[LogRecord]) -> dict[tuple[str, int, int], int]:
    """For each record, the offset of the next record of its partition (offsets may have holes:
    control records, compaction)."""
    by_tp: dict[tuple[str, int], list[int]] = defaultdict(list)
    for r in log:
        by_tp[(r.topic, r.partition)].append(r.offset)
    nxt = {}
    for (topic, partition), offs in by_tp.items():
        offs.sort()
        for a, b in zip(offs, offs[1:]):
            nxt[(topic, partition, a)] = b
    return nxt


def _gaps(entries: Sequence[Entry], polls: Sequence[Entry], log: Sequence[LogRecord]) -> list[Violation]:
    nxt = _next_offsets(log)
    last: dict[tuple[str, str, int, int], Entry] = {}
    out = []
    reported: set[tuple[str, int]] = set()
    for p in polls:
        gen = p["gen_before"]
        if gen < 0 or gen != p["gen_after"] or not p["offsets"]:
            last.pop((p["proc"], p["topic"], p["partition"], gen), None)
            continue
        offs = p["offsets"]
        expected_chain = [offs[0]]
        for o in offs[:-1]:
            expected_chain.append(nxt.get((p["topic"], p["partition"], o), -1))
        k = (p["proc"], p["topic"], p["partition"], gen)
        prev = last.get(k)
        problem = None
        if offs != expected_chain:
            problem = f"one poll handed out {offs[:10]}{'...' if len(offs) > 10 else ''}: not consecutive"
        elif prev is not None:
            want = nxt.get((p["topic"], p["partition"], prev["offsets"][-1]))
            if offs[0] != want:
                problem = f"after offset {prev['offsets'][-1]} came {offs[0]} (expected {want})"
        if problem and _tp(p) not in reported:
            reported.add(_tp(p))
            out.append(Violation("gap", f"{p['topic']}-{p['partition']} to {p['proc']} in generation {gen}: {problem}",
                                 excerpt(entries, [e for e in (prev, p) if e is not None])))
        last[k] = p
    return out


def _skipped(entries: Sequence[Entry], polls: Sequence[Entry], log: Sequence[LogRecord],
             ours: Sequence[CommitRecord]) -> list[Violation]:
    final: dict[tuple[str, int], int] = {}
    for c in ours:
        final[(c.topic, c.partition)] = c.offset
    # Processed, where the members say so (histories from before ``processed`` entries: handed out).
    done = [e for e in entries if e["op"] == "processed"] or polls
    delivered: dict[tuple[str, int], set[int]] = defaultdict(set)
    for p in done:
        delivered[_tp(p)].update(p["offsets"])
    out = []
    for r in sorted(log, key=lambda r: (r.topic, r.partition, r.offset)):
        tp = (r.topic, r.partition)
        if tp in final and r.offset < final[tp] and r.offset not in delivered[tp]:
            missing = sorted(o.offset for o in log if (o.topic, o.partition) == tp
                             and o.offset < final[tp] and o.offset not in delivered[tp])
            out.append(Violation("skipped", f"{tp[0]}-{tp[1]}: {len(missing)} record(s) below the committed offset "
                                 f"{final[tp]} were never processed, first {missing[:10]}",
                                 excerpt(entries, [e for e in entries if e["op"] == "commit"
                                                   and e["offsets"].get(f"{tp[0]}:{tp[1]}") == final[tp]][-2:])))
            final.pop(tp)  # one report per partition
    return out


# --------------------------------------------------------------------------- transactions


def check_transactions(entries: Sequence[Entry], log: Sequence[LogRecord]) -> list[Violation]:
    """The transaction rules over ``txn`` entries (one per transaction: ``txn`` id, ``outcome`` ok =
    committed, failed = aborted, unknown), their ``txn_send`` entries and the log as a
    ``read_committed`` reader sees it."""
    by_value: dict[str | None, list[LogRecord]] = defaultdict(list)
    for rec in log:
        by_value[rec.value].append(rec)
    sends: dict[str, list[Entry]] = defaultdict(list)
    for e in entries:
        if e["op"] == "txn_send":
            sends[e["txn"]].append(e)
    out = []
    for t in (e for e in entries if e["op"] == "txn"):
        records = sends.get(t["txn"], [])
        visible = {e["value"]: len(by_value.get(e["value"], [])) for e in records}
        shown = sum(1 for n in visible.values() if n)
        twice = [v for v, n in visible.items() if n > 1]
        story = excerpt(entries, [t, *records[:1], *records[-1:]])
        if twice:
            out.append(Violation("txn-committed-incomplete" if t["outcome"] == "ok" else "txn-partial",
                                 f"transaction {t['txn']} ({t['outcome']}): {len(twice)} record(s) visible twice, "
                                 f"first {twice[0]!r}", story))
        elif t["outcome"] == "ok" and shown < len(records):
            missing = [v for v, n in visible.items() if not n]
            out.append(Violation("txn-committed-incomplete", f"transaction {t['txn']} was committed but "
                                 f"{len(missing)} of its {len(records)} records are not visible, first {missing[0]!r}",
                                 story))
        elif t["outcome"] == "failed" and shown:
            out.append(Violation("txn-aborted-visible", f"transaction {t['txn']} was aborted but {shown} of its "
                                 f"{len(records)} records are visible", story))
        elif t["outcome"] == "unknown" and 0 < shown < len(records):
            out.append(Violation("txn-partial", f"transaction {t['txn']} (outcome unknown) is visible in part: "
                                 f"{shown} of {len(records)} records", story))
    known = {e["value"] for es in sends.values() for e in es}
    for rec in log:
        if rec.value not in known:
            out.append(Violation("foreign-record", f"{rec.topic}-{rec.partition}@{rec.offset} holds {rec.value!r}, "
                                 "which no transaction sent"))
    send_of = {e["value"]: e for es in sends.values() for e in es}
    out.extend(_check_order(entries, log, send_of))
    return out


# --------------------------------------------------------------------------- consume-transform-produce


def _input_of(value: str | None) -> tuple[int, int] | None:
    """The input ``(partition, offset)`` an output value ``name:seq|P@O|input`` stands for."""
    if value is None or value.count("|") < 2:
        return None
    partition, _, offset = value.split("|", 2)[1].partition("@")
    try:
        return int(partition), int(offset)
    except ValueError:
        return None


def check_ctp(entries: Sequence[Entry], inputs: Sequence[LogRecord], output: Sequence[LogRecord],
              commits: Sequence[CommitRecord], group: str) -> list[Violation]:
    """Exactly-once from input to output: the input topic as written (``inputs``), the output as a
    ``read_committed`` reader sees it and the group's committed offsets (transactional offset
    commits, so read ``read_committed`` as well). The processors' transactions themselves are
    :func:`check_transactions`' business."""
    ours = sorted((c for c in commits if c.group == group), key=lambda c: c.position)
    final: dict[int, int] = {}
    input_topic = inputs[0].topic if inputs else None
    for c in ours:
        if c.topic == input_topic:
            final[c.partition] = c.offset
    outputs: dict[tuple[int, int], list[LogRecord]] = defaultdict(list)
    for rec in output:
        where = _input_of(rec.value)
        if where is not None:
            outputs[where].append(rec)
    sends: dict[tuple[int, int], list[Entry]] = defaultdict(list)
    for e in entries:
        if e["op"] == "txn_send" and "input_partition" in e:
            sends[(e["input_partition"], e["input_offset"])].append(e)
    outcome = {e["txn"]: e for e in entries if e["op"] == "txn"}

    def story(where: tuple[int, int]) -> list[Entry]:
        es = sends.get(where, [])
        txns = [outcome[e["txn"]] for e in es if e["txn"] in outcome]
        return excerpt(entries, [*es[-3:], *txns[-3:]])

    out = [*_rewinds(entries, [e for e in entries if e["op"] == "txn" and "offsets" in e], ours)]
    lost: dict[int, list[int]] = defaultdict(list)
    behind: dict[int, list[int]] = defaultdict(list)
    twice: dict[int, list[LogRecord]] = defaultdict(list)
    for rec in sorted(inputs, key=lambda r: (r.partition, r.offset)):
        where = (rec.partition, rec.offset)
        found = outputs.get(where, [])
        committed = rec.offset < final.get(rec.partition, 0)
        if len(found) > 1:
            twice[rec.partition].append(rec)
        if committed and not found:
            lost[rec.partition].append(rec.offset)
        elif not committed and found:
            behind[rec.partition].append(rec.offset)
    for partition, recs in sorted(twice.items()):  # one violation per partition: one story
        rec = recs[0]
        found = outputs[(rec.partition, rec.offset)]
        at = ", ".join(f"{r.topic}-{r.partition}@{r.offset} {r.value!r}" for r in found[:4])
        out.append(Violation("ctp-duplicated", f"{input_topic}-{partition}: {len(recs)} input record(s) have more "
                             f"than one output visible, offsets {[r.offset for r in recs[:10]]}; the first, "
                             f"@{rec.offset} ({rec.value!r}): {at}", story((rec.partition, rec.offset))))
    for partition, offs in sorted(lost.items()):  # one violation per partition
        out.append(Violation("ctp-lost", f"{input_topic}-{partition}: {len(offs)} input record(s) below the committed "
                             f"offset {final[partition]} have no output visible, first {offs[:10]}",
                             story((partition, offs[0]))))
    for partition, offs in sorted(behind.items()):
        out.append(Violation("ctp-offsets-behind", f"{input_topic}-{partition}: {len(offs)} input record(s) at or past "
                             f"the committed offset {final.get(partition)} have their output visible, first "
                             f"{offs[:10]}", story((partition, offs[0]))))
    return out


# --------------------------------------------------------------------------- readers


def check_readers_agree(name_a: str, a: Sequence[LogRecord], name_b: str, b: Sequence[LogRecord]) -> list[Violation]:
    """Two readers of the same topics saw the same records at the same places.

    ``b`` reads after ``a`` and stops after ``len(a)`` records. The log may have grown in between
    (a produce whose outcome the producer never learned becomes visible once the replicas catch
    up), so ``b`` may read records past ``a``'s end of a partition and, having reached its count,
    stop short of ``a``'s end of another: the readers are held to every offset both reached. A
    ``b`` that read fewer records than ``a`` stopped short by itself and disagrees."""
    sa = {(r.topic, r.partition, r.offset, r.value) for r in a}
    sb = {(r.topic, r.partition, r.offset, r.value) for r in b}
    if len(sb) >= len(sa):
        ends_a: dict[tuple[str, int], int] = {}
        ends_b: dict[tuple[str, int], int] = {}
        for ends, records in ((ends_a, sa), (ends_b, sb)):
            for t, p, o, _ in records:
                ends[(t, p)] = max(o, ends.get((t, p), -1))
        both = {tp: min(end, ends_b.get(tp, -1)) for tp, end in ends_a.items()}
        sa = {r for r in sa if r[2] <= both.get((r[0], r[1]), -1)}
        sb = {r for r in sb if r[2] <= both.get((r[0], r[1]), -1)}
    if sa == sb:
        return []
    only_a, only_b = sorted(sa - sb)[:5], sorted(sb - sa)[:5]
    return [Violation("readers-disagree", f"{name_a} read {len(sa)} records, {name_b} read {len(sb)}; "
                      f"only {name_a}: {only_a}; only {name_b}: {only_b}")]
