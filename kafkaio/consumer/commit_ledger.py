"""The order of one member's commits and each commit's outcome per partition.

A commit whose attempt failed is retried; by then a newer commit of some of its partitions may have
been asked for. Sent after it, the older offset would be the one the broker keeps, so the retry
leaves those partitions to the newer commit, and their outcome is that commit's: the older commit
succeeds only once the newer one committed them (or left them in turn to one that did). When the
newer commit's caller gives up (cancels it) before its outcome is known, the partitions go back to
the newest older commit still under way, which sends the newer offsets itself: one caller's
cancellation does not decide another caller's outcome. The ledger numbers the commits, knows which
pending commit is the newest of each partition, and keeps a commit's outcome only as long as an
older pending commit refers to it.
"""
from __future__ import annotations

import asyncio
import enum
from collections.abc import Mapping

from kafkaio.errors import KafkaError, KafkaTimeoutError
from kafkaio.structs import OffsetAndMetadata, TopicPartition
from kafkaio.waiting import within


class _Pending(enum.Enum):
    UNDECIDED = "undecided"   # a newer commit's outcome of a partition is still to come


_UNDECIDED = _Pending.UNDECIDED


class PendingCommit:
    """One commit as asked for: its offsets, the partitions it committed itself, those it left to
    a newer commit (and from which older commit each came), those a cancelled newer commit gave
    back to it with their newer offset, and, once decided, the error of each partition it failed
    to commit."""

    __slots__ = ("number", "offsets", "committed", "handed", "left_by", "given_back", "failed", "decided")

    def __init__(self, number: int, offsets: Mapping[TopicPartition, OffsetAndMetadata]) -> None:
        self.number = number
        self.offsets = dict(offsets)
        self.committed: set[TopicPartition] = set()
        self.handed: dict[TopicPartition, PendingCommit] = {}     # left to a newer commit
        self.left_by: dict[TopicPartition, PendingCommit] = {}    # the older commit that left it here
        self.given_back: dict[TopicPartition, OffsetAndMetadata] = {}
        self.failed: dict[TopicPartition, KafkaError] = {}
        self.decided = asyncio.Event()

    def offset_of(self, tp: TopicPartition) -> OffsetAndMetadata:
        """The offset this commit sends for ``tp``: its own, or the newer one given back to it."""
        return self.given_back.get(tp, self.offsets[tp])

    def __repr__(self) -> str:
        return f"PendingCommit(#{self.number})"


class CommitLedger:
    """The commits of one member in the order they were asked for; owned by its coordinator."""

    def __init__(self) -> None:
        self._asked = 0
        self._newest: dict[TopicPartition, PendingCommit] = {}   # undecided commits only
        self._changed = asyncio.Event()   # set (and replaced) whenever a commit commits or is decided

    def begin(self, offsets: Mapping[TopicPartition, OffsetAndMetadata]) -> PendingCommit:
        """A new commit of ``offsets``: the newest of each partition; an older undecided commit
        of the same partition leaves it to this one from its next attempt on."""
        self._asked += 1
        commit = PendingCommit(self._asked, offsets)
        for tp in commit.offsets:
            older = self._newest.get(tp)
            if older is not None:
                older.handed[tp] = commit
                commit.left_by[tp] = older
            self._newest[tp] = commit
        return commit

    def to_send(self, commit: PendingCommit) -> dict[TopicPartition, OffsetAndMetadata]:
        """What ``commit``'s next attempt sends: the partitions it has neither committed nor left
        to a newer commit, each at its newest offset."""
        return {tp: commit.offset_of(tp) for tp in commit.offsets
                if tp not in commit.committed and tp not in commit.handed}

    def committed(self, commit: PendingCommit, partitions: Mapping[TopicPartition, OffsetAndMetadata]) -> None:
        """The broker accepted ``commit``'s offsets of ``partitions``."""
        for tp in partitions:
            commit.committed.add(tp)
            if self._newest.get(tp) is commit:
                del self._newest[tp]
        self._wake()

    def finish(self, commit: PendingCommit, error: BaseException | None) -> None:
        """``commit``'s call ended, with ``error`` unless it succeeded: each partition it neither
        committed nor left to a newer commit failed with that error. A caller that gave up
        (cancelled) leaves its outcome unknown: the newest older commit still under way that left
        it the partition and has not committed it itself takes it back, at this commit's offset
        (the newest asked for, so sending it can rewind nothing); with none, the partition failed
        as with a timeout. Then the commit leaves the chain of older commits: a newer commit's
        link back skips it, so a decided commit is kept only by older ones still waiting."""
        cancelled = isinstance(error, asyncio.CancelledError)
        if error is not None and not cancelled and not isinstance(error, KafkaError):
            error = KafkaError(f"commit #{commit.number} failed: {error!r}")
        for tp in commit.offsets:
            newest = self._newest.get(tp) is commit
            if newest:
                del self._newest[tp]
            if error is None or tp in commit.committed or tp in commit.handed:
                continue
            heir = self._heir(commit, tp) if cancelled and newest else None
            if heir is not None:
                heir.given_back[tp] = commit.offset_of(tp)
                heir.handed.pop(tp, None)
                commit.handed[tp] = heir      # who walks the chain through here finds the heir
                self._newest[tp] = heir
            elif isinstance(error, KafkaError):
                commit.failed[tp] = error
            else:
                commit.failed[tp] = KafkaTimeoutError(
                    f"commit #{commit.number} was cancelled before its outcome was known")
        for tp, newer in commit.handed.items():
            if newer.left_by.get(tp) is commit:
                older = commit.left_by.get(tp)
                if older is None:
                    del newer.left_by[tp]
                else:
                    newer.left_by[tp] = older
        commit.left_by.clear()
        commit.decided.set()
        self._wake()

    def _wake(self) -> None:
        # the older commits waiting re-read their partitions: an outcome or a give-back may be theirs
        changed, self._changed = self._changed, asyncio.Event()
        changed.set()

    @staticmethod
    def _heir(commit: PendingCommit, tp: TopicPartition) -> PendingCommit | None:
        """The newest commit older than ``commit`` still under way that left it ``tp`` and has
        not committed it itself (one that has no longer sends it)."""
        older = commit.left_by.get(tp)
        while older is not None and (older.decided.is_set() or tp in older.committed):
            older = older.left_by.get(tp)
        return older

    def pending(self) -> int:
        """How many partitions have an undecided commit."""
        return len(self._newest)

    async def await_newer(self, commit: PendingCommit, deadline: float,
                          undecided: type[KafkaError] = KafkaTimeoutError) -> None:
        """Wait, until ``deadline`` (the loop's clock), for the outcome of the partitions
        ``commit`` left to newer commits, all at once; return as soon as one is given back to it
        (then :meth:`to_send` has it). Raises the error of the first of them (in partition order)
        that failed (its type: CommitFailedError, RebalanceInProgressError, ... as the newer commit
        got it), or ``undecided`` for those still undecided at the deadline; the message names what
        was committed and what not."""
        loop = asyncio.get_running_loop()
        left = {tp: newer for tp, newer in commit.handed.items() if tp not in commit.committed}
        while True:
            if commit.given_back.keys() - commit.committed:
                return
            failures: dict[TopicPartition, KafkaError] = {}
            pending = False
            for tp, newer in left.items():
                outcome = self._outcome(commit, newer, tp)
                if outcome is _UNDECIDED:
                    pending = True
                elif outcome is not None:
                    failures[tp] = outcome
            if not pending:
                break
            changed = self._changed
            try:
                await within(changed.wait(), max(deadline - loop.time(), 0))
            except asyncio.TimeoutError:
                for tp, newer in left.items():
                    if self._outcome(commit, newer, tp) is _UNDECIDED:
                        failures[tp] = undecided(f"the newer commit of {tp} was not decided in time")
                break
        if not failures:
            return
        first = failures[min(failures)]
        raise type(first)(
            f"{sorted(failures)} were left to a newer commit of this member (sent after it, this "
            f"commit's offsets would have rewound them), which did not commit them: {first}. "
            f"Committed: {sorted(commit.committed)}") from first

    @staticmethod
    def _outcome(commit: PendingCommit, newer: PendingCommit,
                 tp: TopicPartition) -> KafkaError | _Pending | None:
        """None when ``newer`` (or one it left ``tp`` to in turn) committed ``tp``, or gave it
        back to ``commit``; the error when it failed; ``_UNDECIDED`` while it is under way."""
        while newer is not commit:
            if tp in newer.committed:   # at a newer offset, though it may still retry others
                return None
            if not newer.decided.is_set():
                return _UNDECIDED
            if tp in newer.handed:
                newer = newer.handed[tp]
                continue
            return newer.failed[tp]
        return None
