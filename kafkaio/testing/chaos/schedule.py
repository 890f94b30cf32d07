"""A seeded fault schedule as plain data: what happens when, during one run of a workload.

The same seed, workload and duration always give the same schedule, so a violation can be replayed
with ``python -m kafkaio.testing.chaos --seed N``. What the client does in between is not
deterministic (the event loop, the broker and the machine's load decide), so a replay re-runs the
same faults at the same offsets from the start, which is usually, not always, enough to hit the
same defect again.
"""
from __future__ import annotations

import json
import random
from dataclasses import asdict, dataclass, field
from typing import Any

__all__ = ["API_NAMES", "Fault", "Schedule", "WORKLOADS", "generate"]

WORKLOADS = ("producer", "group", "txn", "ctp")

# Api keys by name, as the proxy sees them in request headers. Kept here as numbers so that the
# schedule stays pure data with no import of the protocol package.
API_NAMES: dict[int, str] = {
    0: "Produce", 1: "Fetch", 2: "ListOffsets", 3: "Metadata", 8: "OffsetCommit", 9: "OffsetFetch",
    10: "FindCoordinator", 11: "JoinGroup", 12: "Heartbeat", 13: "LeaveGroup", 14: "SyncGroup",
    22: "InitProducerId", 24: "AddPartitionsToTxn", 25: "AddOffsetsToTxn", 26: "EndTxn", 28: "TxnOffsetCommit",
}

# Which requests each workload's faults aim at, with a weight: the ones whose loss changes what the
# client must believe (Produce, OffsetCommit) most often, the others now and then.
_TARGETS: dict[str, list[tuple[int | None, int]]] = {
    "producer": [(0, 12), (3, 1), (22, 1), (None, 1)],
    "group": [(8, 8), (1, 2), (11, 2), (14, 2), (12, 2), (9, 2), (10, 1), (13, 1), (None, 1)],
    "txn": [(0, 6), (26, 5), (24, 3), (22, 2), (10, 1), (None, 1)],
    "ctp": [(0, 5), (28, 4), (26, 4), (25, 2), (24, 2), (1, 2), (11, 1), (14, 1), (12, 1), (9, 1), (22, 1),
            (10, 1), (None, 1)],
}

# kind -> weight per workload. Broker kills and stops cost a JVM restart or a long stall on a small
# machine, so they are rare; membership changes only make sense for the group workloads.
# ``member_kill`` stands where the in-process ``member_crash`` stood (same weight, same place in the
# table), so the group seeds drawn before members were processes keep their faults and times; a
# second random stream then makes some of those draws a ``member_pause`` (see ``generate``).
_KINDS: dict[str, dict[str, int]] = {
    "producer": {"drop_request": 6, "drop_response": 5, "delay": 3, "cut": 2, "cut_after": 3, "pause": 2,
                 "broker_stop": 1, "broker_kill": 1, "producer_restart": 4},
    "group": {"drop_request": 5, "drop_response": 5, "delay": 3, "cut": 2, "cut_after": 2, "pause": 2,
              "broker_stop": 1, "broker_kill": 1, "member_join": 6, "member_leave": 4, "member_kill": 3},
    # a restart with the same transactional id fences the producer before it
    "txn": {"drop_request": 6, "drop_response": 6, "delay": 3, "cut": 2, "cut_after": 3, "pause": 2,
            "broker_stop": 1, "broker_kill": 1, "producer_restart": 3},
    # consume-transform-produce: processes of the transactional processor killed (a new one of the
    # same slot takes over), paused past the session, or restarted cleanly
    "ctp": {"drop_request": 6, "drop_response": 5, "delay": 3, "cut": 2, "cut_after": 3, "pause": 2,
            "broker_stop": 1, "broker_kill": 1, "member_kill": 3, "member_pause": 2, "producer_restart": 2},
}

# Share of the group workload's ``member_kill`` draws that become ``member_pause``, and how long a
# pause lasts: past the default session timeout (6 s), so that the member is evicted while stopped.
PAUSE_SHARE = 0.4
PAUSE_SECONDS = (7.0, 10.0)
# Assignors drawn per schedule of the group workloads (every member of a run uses the same one).
ASSIGNORS = ("range", "roundrobin", "cooperative-sticky")
# Share of group-workload schedules whose members are halfway through the rolling upgrade from an
# eager to the cooperative protocol (assignor "mixed"): even-numbered members offer
# cooperative-sticky then range, odd-numbered ones range only, so the group runs eager range while
# both kinds are present and switches protocol whenever the last odd member leaves or one rejoins.
MIXED = "mixed"
MIXED_SHARE = 0.25
MIXED_STRATEGIES = (("cooperative-sticky", "range"), ("range",))


def assignment_strategy(assignor: str, member: str) -> list[str]:
    """The partition_assignment_strategy of ``member`` (named ``<role>-<n>``) under ``assignor``."""
    if assignor != MIXED:
        return [assignor]
    return list(MIXED_STRATEGIES[int(member.rsplit("-", 1)[-1]) % 2])
# How the group workload's members commit: by hand after each batch, or enable_auto_commit.
COMMIT_MODES = ("manual", "auto")
# Share of group schedules whose coordinator misbehaves (``coordinator_error``: OffsetCommit
# answered NOT_COORDINATOR, then FindCoordinator answered COORDINATOR_NOT_AVAILABLE for a while)
# and whose members commit with commit_async after each batch (commit mode "async"), so that an
# older commit backing off in the coordinator lookup and a newer one are in flight together.
COORDINATOR_SHARE = 0.3
COORDINATOR_RATE = 0.25  # coordinator_error events per second in those schedules
ASYNC = "async"

FAULT_KINDS = tuple(sorted({k for kinds in _KINDS.values() for k in kinds} | {"member_pause", "coordinator_error"}))


@dataclass(frozen=True)
class Fault:
    """One scheduled event: ``kind`` at ``at`` seconds from the start of the run.

    ``api_key`` aims proxy faults at one kind of request (None: any); ``count`` is how many requests
    or responses a drop or cut takes; ``duration`` is how long a delay, pause or SIGSTOP lasts (for
    ``delay`` it is also the added latency per response; for ``member_pause`` how long the member's
    process stays SIGSTOPped). ``node`` is the broker (and its proxy)
    a fault hits, in a cluster of several. ``early`` aims a drop or cut at the
    first requests of a connection (correlation id below 8): what a new client or a reconnect
    sends first, e.g. a fresh producer's first batches, which the broker accepts with any sequence.
    """

    at: float
    kind: str
    api_key: int | None = None
    count: int = 1
    duration: float = 0.0
    early: bool = False
    node: int = 0

    def describe(self, show_node: bool = False) -> str:
        """One line for humans, e.g. ``t=3.20s drop_request x1 OffsetCommit``."""
        parts = [f"t={self.at:.2f}s", self.kind]
        if show_node and not self.kind.startswith(("member_", "producer_")):
            parts.append(f"@node{self.node}")
        if self.kind in ("drop_request", "drop_response", "cut_after", "coordinator_error"):
            parts.append(f"x{self.count}")
        if self.kind in ("drop_request", "drop_response", "cut_after", "delay"):
            parts.append(API_NAMES.get(self.api_key, str(self.api_key)) if self.api_key is not None else "any")
        if self.early:
            parts.append("(early on a connection)")
        if self.duration:
            parts.append(f"for {self.duration:.2f}s")
        return " ".join(parts)


@dataclass(frozen=True)
class Schedule:
    """Every fault of one run, in time order, and what produced them."""

    seed: int
    workload: str
    duration: float
    faults: tuple[Fault, ...] = field(default_factory=tuple)
    brokers: int = 1
    assignor: str | None = None  # the group workloads' partition_assignment_strategy
    commit: str | None = None    # the group workload's commit mode (COMMIT_MODES)

    def to_json(self) -> str:
        return json.dumps({"seed": self.seed, "workload": self.workload, "duration": self.duration,
                           "brokers": self.brokers, "assignor": self.assignor, "commit": self.commit,
                           "faults": [asdict(f) for f in self.faults]})

    @classmethod
    def from_json(cls, text: str) -> "Schedule":
        raw: dict[str, Any] = json.loads(text)
        return cls(raw["seed"], raw["workload"], raw["duration"], tuple(Fault(**f) for f in raw["faults"]),
                   raw.get("brokers", 1), raw.get("assignor"), raw.get("commit"))

    def describe(self) -> str:
        """The schedule as printed with a violation: a header line, then one fault per line."""
        head = f"seed={self.seed} workload={self.workload} duration={self.duration:g}s faults={len(self.faults)}"
        if self.brokers > 1:
            head += f" brokers={self.brokers}"
        if self.assignor:
            head += f" assignor={self.assignor}"
        if self.commit:
            head += f" commit={self.commit}"
        return "\n".join([head, *("  " + f.describe(self.brokers > 1) for f in self.faults)])


def generate(seed: int, workload: str, duration: float, *, rate: float = 0.8,
             kinds: set[str] | None = None, brokers: int = 1) -> Schedule:
    """The schedule for ``seed``: about ``rate`` events per second over ``duration`` seconds.

    Events fall in the first 85% of the run, so that the last faults have time to resolve before
    the workload stops and the checker reads back. ``kinds`` restricts the kinds drawn (e.g. no
    broker kills when the cluster is someone else's). With ``brokers`` > 1 each fault also names
    the node it hits (one-broker schedules draw nothing more, so their seeds keep their meaning).
    The group workloads' assignor, which ``member_kill`` draws become ``member_pause`` and the
    pauses' lengths come from a second stream, so that they too leave the first one's draws alone;
    the group workload's commit mode from a third, and whether the members are mixed (MIXED) from a
    fourth, for the same reason. Whether a group schedule gets ``coordinator_error`` events (and
    the commit mode ASYNC) comes from a fifth stream, and so do those events.
    """
    if workload not in WORKLOADS:
        raise ValueError(f"workload must be one of {WORKLOADS}, not {workload!r}")
    rng = random.Random(f"{workload}:{seed}")
    table = {k: w for k, w in _KINDS[workload].items() if kinds is None or k in kinds}
    if not table:
        raise ValueError(f"no fault kinds left for {workload} among {sorted(kinds or ())}")
    names, weights = list(table), list(table.values())
    targets, target_weights = zip(*_TARGETS[workload])
    extra = random.Random(f"{workload}:{seed}:members")
    assignor = extra.choice(ASSIGNORS) if workload in ("group", "ctp") else None
    if assignor is not None and random.Random(f"{workload}:{seed}:mixed").random() < MIXED_SHARE:
        assignor = MIXED
    count = max(1, round(duration * rate))
    window = max(duration * 0.85 - 0.5, 0.1)
    faults = []
    for at in sorted(0.5 + rng.random() * window for _ in range(count)):
        kind = rng.choices(names, weights)[0]
        api_key = rng.choices(targets, target_weights)[0] if kind in (
            "drop_request", "drop_response", "cut_after", "delay") else None
        n = rng.choice((1, 1, 1, 2, 3)) if kind in ("drop_request", "drop_response", "cut_after") else 1
        if kind == "delay":
            length = rng.uniform(0.1, 3.0)
        elif kind == "pause":
            length = rng.uniform(0.2, 3.0)
        elif kind == "broker_stop":
            length = rng.uniform(0.5, 4.0)
        else:
            length = 0.0
        early = kind in ("drop_request", "drop_response", "cut_after") and rng.random() < 0.4
        node = rng.randrange(brokers) if brokers > 1 else 0
        if kind == "member_kill" and workload == "group" and extra.random() < PAUSE_SHARE:
            kind = "member_pause"
        if kind == "member_pause":
            length = extra.uniform(*PAUSE_SECONDS)
        faults.append(Fault(round(at, 3), kind, api_key, n, round(length, 3), early, node))
    commit = random.Random(f"{workload}:{seed}:commit").choice(COMMIT_MODES) if workload == "group" else None
    coordinator = random.Random(f"{workload}:{seed}:coordinator")
    if workload == "group" and (kinds is None or "coordinator_error" in kinds) and coordinator.random() < COORDINATOR_SHARE:
        commit = ASYNC
        for _ in range(max(1, round(duration * COORDINATOR_RATE))):
            at = 0.5 + coordinator.random() * window
            node = coordinator.randrange(brokers) if brokers > 1 else 0
            faults.append(Fault(round(at, 3), "coordinator_error", None, coordinator.choice((1, 2, 3)),
                                round(coordinator.uniform(0.3, 2.0), 3), False, node))
        faults.sort(key=lambda f: f.at)
    return Schedule(seed, workload, duration, tuple(faults), brokers, assignor, commit)
